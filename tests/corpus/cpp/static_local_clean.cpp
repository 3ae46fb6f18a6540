// umbra: clean
/* Eight threads call a function whose local static has a non-trivial constructor:
 * the __cxa_guard protocol runs it once, and it happens before every use. */
#include <cstdio>
#include <thread>
#include <vector>

struct Table {
  long entries[64];
  Table() {
    for (int i = 0; i < 64; i++) entries[i] = i * i;
  }
};

static Table &table() {
  static Table instance;
  return instance;
}

long sums[8];

int main() {
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; i++)
    threads.emplace_back([i] {
      long s = 0;
      for (int j = 0; j < 64; j++) s += table().entries[j];
      sums[i] = s;
    });
  for (auto &t : threads) t.join();
  std::printf("%ld\n", sums[0]);
  return sums[7] == sums[0] ? 0 : 1;
}
