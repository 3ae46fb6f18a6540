// umbra: race
/* A std::thread and main write the same global with nothing ordering them. */
#include <cstdio>
#include <thread>

long shared_value;

int main() {
  std::thread t([] { shared_value = 1; }); // RACE
  shared_value = 2; // RACE
  t.join();
  std::printf("%ld\n", shared_value);
  return 0;
}
