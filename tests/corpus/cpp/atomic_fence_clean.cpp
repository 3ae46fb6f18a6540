// umbra: clean
// stock: race
// cflags: -Wno-tsan
/* Fence-based publication with std::atomic_thread_fence: release fence before a
 * relaxed store, acquire fence after the relaxed load that sees it ([atomics.fences]).
 * Stock TSan ignores fences and reports a false race. */
#include <atomic>
#include <cstdio>
#include <thread>

long payload;
std::atomic<int> flag{0};

int main() {
  std::thread t([] {
    payload = 42;
    std::atomic_thread_fence(std::memory_order_release);
    flag.store(1, std::memory_order_relaxed);
  });
  while (!flag.load(std::memory_order_relaxed)) {
  }
  std::atomic_thread_fence(std::memory_order_acquire);
  long seen = payload;
  t.join();
  std::printf("%ld\n", seen);
  return seen == 42 ? 0 : 1;
}
