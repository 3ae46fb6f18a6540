// umbra: race
/* Two threads write under a std::shared_lock: shared (reader) ownership does not
 * exclude another reader, so the writes race. */
#include <cstdio>
#include <shared_mutex>
#include <thread>

std::shared_mutex rw;
long value;

static void bump() {
  std::shared_lock<std::shared_mutex> lock(rw);
  value++; // RACE
}

int main() {
  std::thread t(bump);
  bump();
  t.join();
  std::printf("%ld\n", value);
  return 0;
}
