// umbra: clean
/* Message passing through a heap packet, as crossbeam-channel's zero-capacity
 * channel does: main allocates a packet and hands it over (release/acquire on a
 * pointer), the worker writes the message and sets `ready` with a release store,
 * main spins on acquire loads of `ready`, reads the message and deletes the packet;
 * the next packet reuses the freed block. */
#include <atomic>
#include <cstdio>
#include <sched.h>
#include <thread>

struct Packet {
  std::atomic<bool> ready{false};
  long msg = 0;
};

std::atomic<Packet *> slot{nullptr};

int main() {
  std::thread worker([] {
    for (int i = 0; i < 20000; i++) {
      Packet *p;
      while (!(p = slot.exchange(nullptr, std::memory_order_acquire))) sched_yield();
      p->msg = i;
      p->ready.store(true, std::memory_order_release);
    }
  });
  long sum = 0;
  for (int i = 0; i < 20000; i++) {
    Packet *p = new Packet;
    slot.store(p, std::memory_order_release);
    int spins = 0;
    while (!p->ready.load(std::memory_order_acquire)) {
      if (++spins % 16 == 0) sched_yield();
    }
    sum += p->msg;
    delete p;
  }
  worker.join();
  std::printf("%ld\n", sum);
  return sum == 20000L * 19999 / 2 ? 0 : 1;
}
