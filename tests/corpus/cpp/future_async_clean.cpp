// umbra: clean
/* std::async computes a vector in another thread; future::get() returns it, and
 * std::promise hands a value from one thread to another. */
#include <cstdio>
#include <future>
#include <numeric>
#include <thread>
#include <vector>

int main() {
  auto f = std::async(std::launch::async, [] {
    std::vector<long> v(1000);
    std::iota(v.begin(), v.end(), 1);
    return v;
  });
  std::vector<long> v = f.get();
  std::promise<long> p;
  std::future<long> sum = p.get_future();
  std::thread t([&v, &p] { p.set_value(std::accumulate(v.begin(), v.end(), 0L)); });
  long s = sum.get();
  t.join();
  std::printf("%ld\n", s);
  return s == 500500 ? 0 : 1;
}
