// umbra: clean
/* Detached std::threads each write a thread_local object whose destructor writes it
 * again at thread exit, after the thread's last synchronization. The next thread
 * reuses the same stack and static TLS block (glibc caches thread stacks), so its
 * accesses to its own thread_local hit the same addresses: a new thread's TLS must
 * start fresh, not race with the previous owner's exit. */
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

struct Scratch {
  long words[8] = {};
  ~Scratch() {
    for (long &w : words) w = -1;
  }
};

thread_local Scratch scratch;
std::atomic<int> done{0};

static void work(int round) {
  for (long &w : scratch.words) w += round;
  done.store(round, std::memory_order_release);
}

int main() {
  for (int round = 1; round <= 4; round++) {
    std::thread(work, round).detach();
    while (done.load(std::memory_order_acquire) != round) {
    }
    // Let the detached thread finish exiting, so its stack goes back to the cache.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::puts("done");
  return 0;
}
