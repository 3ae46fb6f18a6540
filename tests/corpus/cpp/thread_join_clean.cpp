// umbra: clean
/* std::thread writes a global, main reads it after join(). */
#include <cstdio>
#include <thread>

long result;

int main() {
  std::thread t([] { result = 42; });
  t.join();
  std::printf("%ld\n", result);
  return result == 42 ? 0 : 1;
}
