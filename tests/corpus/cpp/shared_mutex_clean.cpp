// umbra: clean
/* A std::shared_mutex: readers under shared_lock, one writer under unique_lock. */
#include <cstdio>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

std::shared_mutex rw;
long value;
long reads[3];

int main() {
  std::vector<std::thread> threads;
  threads.emplace_back([] {
    for (int i = 0; i < 100; i++) {
      std::unique_lock<std::shared_mutex> lock(rw);
      value++;
    }
  });
  for (int r = 0; r < 3; r++)
    threads.emplace_back([r] {
      for (int i = 0; i < 100; i++) {
        std::shared_lock<std::shared_mutex> lock(rw);
        reads[r] += value;
      }
    });
  for (auto &t : threads) t.join();
  std::printf("%ld\n", value);
  return 0;
}
