// umbra: clean
/* Threads allocate and free with every form of operator new/delete (plain, array,
 * aligned, nothrow, sized) and hand blocks to each other through a mutex: reused
 * memory never races. */
#include <cstdio>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

struct alignas(64) Line {
  long v[8];
};

std::mutex m;
std::vector<long *> handoff;

int main() {
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; i++)
    threads.emplace_back([i] {
      for (int j = 0; j < 200; j++) {
        long *one = new long(j);
        long *many = new long[16];
        Line *line = new Line();
        Line *lines = new Line[3];
        long *maybe = new (std::nothrow) long(i);
        many[3] = *one + *maybe;
        line->v[2] = many[3];
        lines[2].v[7] = line->v[2];
        delete one;
        delete[] many;
        delete line;
        delete[] lines;
        delete maybe;
        long *passed = new long(i * 1000 + j);
        std::lock_guard<std::mutex> guard(m);
        if (!handoff.empty()) {
          long *other = handoff.back();
          handoff.pop_back();
          *other += 1;
          delete other;
        }
        handoff.push_back(passed);
      }
    });
  for (auto &t : threads) t.join();
  for (long *p : handoff) delete p;
  std::puts("done");
  return 0;
}
