// umbra: race
/* Message passing with a memory_order_relaxed std::atomic flag: seeing the flag
 * does not order the payload accesses. */
#include <atomic>
#include <cstdio>
#include <thread>

long payload;
std::atomic<bool> ready{false};

int main() {
  std::thread t([] {
    payload = 42; // RACE
    ready.store(true, std::memory_order_relaxed);
  });
  while (!ready.load(std::memory_order_relaxed)) {
  }
  long seen = payload; // RACE
  t.join();
  std::printf("%ld\n", seen);
  return 0;
}
