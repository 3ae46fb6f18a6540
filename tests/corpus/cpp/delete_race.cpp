// umbra: race
/* A thread writes an object allocated with new; main deletes it after seeing a
 * relaxed flag, which does not order the write before the delete. */
#include <atomic>
#include <cstdio>
#include <thread>

struct Item {
  long id;
  long pad[3];
};

std::atomic<int> written{0};

int main() {
  Item *item = new Item();
  std::thread t([item] {
    item->id = 5; // RACE
    written.store(1, std::memory_order_relaxed);
  });
  while (!written.load(std::memory_order_relaxed)) {
  }
  delete item; // RACE
  t.join();
  std::puts("done");
  return 0;
}
