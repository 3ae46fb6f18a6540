// umbra: clean
/* Four std::threads increment a counter under one std::mutex (lock_guard). */
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

std::mutex m;
long counter;

int main() {
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; i++)
    threads.emplace_back([] {
      for (int j = 0; j < 1000; j++) {
        std::lock_guard<std::mutex> guard(m);
        counter++;
      }
    });
  for (auto &t : threads) t.join();
  std::printf("%ld\n", counter);
  return counter == 4000 ? 0 : 1;
}
