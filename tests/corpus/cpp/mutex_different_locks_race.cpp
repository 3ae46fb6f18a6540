// umbra: race
/* Two threads update one counter, each under its own std::mutex: the locks do not
 * order the updates. */
#include <cstdio>
#include <mutex>
#include <thread>

std::mutex a, b;
long counter;

int main() {
  std::thread t([] {
    std::lock_guard<std::mutex> guard(a);
    counter++; // RACE
  });
  {
    std::lock_guard<std::mutex> guard(b);
    counter++; // RACE
  }
  t.join();
  std::printf("%ld\n", counter);
  return 0;
}
