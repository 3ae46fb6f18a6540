// umbra: clean
/* An atomic flag in a freed and reallocated heap block: main release-stores and
 * acquire-loads a flag in block q, frees q, and gets the same block back as p; a
 * thread writes p->msg and release-stores p->ready, main acquire-loads p->ready
 * until it sees true, then reads p->msg. The acquire must take the new release. */
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <thread>

struct Packet {
  std::atomic<bool> ready{false};
  long msg = 0;
};

int main() {
  Packet *q = new (std::malloc(sizeof(Packet))) Packet;
  q->ready.store(true, std::memory_order_release);
  (void)q->ready.load(std::memory_order_acquire);
  std::free(q);
  Packet *p = new (std::malloc(sizeof(Packet))) Packet;
  std::thread t([p] {
    p->msg = 1;
    p->ready.store(true, std::memory_order_release);
  });
  while (!p->ready.load(std::memory_order_acquire)) {
  }
  long seen = p->msg;
  t.join();
  std::free(p);
  std::printf("%ld %s\n", seen, p == q ? "(same block)" : "(other block)");
  return seen == 1 ? 0 : 1;
}
