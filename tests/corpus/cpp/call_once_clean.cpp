// umbra: clean
/* std::call_once initializes a shared configuration once; every thread reads it
 * after its call_once returns. */
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

std::once_flag once;
long config[16];
long seen[4];

int main() {
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; i++)
    threads.emplace_back([i] {
      std::call_once(once, [] {
        for (int j = 0; j < 16; j++) config[j] = j + 1;
      });
      seen[i] = config[15];
    });
  for (auto &t : threads) t.join();
  std::printf("%ld\n", seen[0]);
  return seen[3] == 16 ? 0 : 1;
}
