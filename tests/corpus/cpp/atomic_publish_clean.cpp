// umbra: clean
/* Message passing with std::atomic<bool>: payload written, flag stored with
 * memory_order_release, read with memory_order_acquire before the payload. */
#include <atomic>
#include <cstdio>
#include <thread>

long payload;
std::atomic<bool> ready{false};

int main() {
  std::thread t([] {
    payload = 42;
    ready.store(true, std::memory_order_release);
  });
  while (!ready.load(std::memory_order_acquire)) {
  }
  long seen = payload;
  t.join();
  std::printf("%ld\n", seen);
  return seen == 42 ? 0 : 1;
}
