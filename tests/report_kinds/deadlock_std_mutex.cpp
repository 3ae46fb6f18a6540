// exit: 66
// reports: 1
// stdout: done
// stderr: WARNING: ThreadSanitizer: lock-order-inversion (potential deadlock) (pid=
// stderr:   Mutex M1 acquired here while holding mutex M0 in main thread:
// stderr:   Mutex M0 acquired here while holding mutex M1 in thread T1:
// frame: take_both @second
// stock
//
// C++: std::mutex and std::lock_guard, the two orders in one function called by
// main (accounts[0] then [1]) and later by a thread (the reverse). Reported at
// the thread's second lock (the SUMMARY line names the innermost frame,
// libstdc++'s inlined __gthread_mutex_lock, as stock TSan does). The run prints "done" and exits 66.
#include <cstdio>
#include <mutex>
#include <thread>

static std::mutex accounts[2];

static void take_both(int first, int second) {
  std::lock_guard<std::mutex> g1(accounts[first]);
  std::lock_guard<std::mutex> g2(accounts[second]); /* @second */
}

int main() {
  take_both(0, 1);
  std::thread t(take_both, 1, 0);
  t.join();
  std::printf("done\n");
  return 0;
}
