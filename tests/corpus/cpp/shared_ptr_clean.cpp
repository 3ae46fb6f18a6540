// umbra: clean
/* A std::shared_ptr is copied into four threads; whichever drops the last
 * reference runs the destructor, which reads and writes the object: the
 * reference count's acq_rel decrements order every thread's use before it. */
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

struct Node {
  long value = 0;
  long reads[4] = {};
  ~Node() {
    value = -1;
    std::printf("%ld\n", reads[0] + reads[1] + reads[2] + reads[3]);
  }
};

int main() {
  std::vector<std::thread> threads;
  {
    auto node = std::make_shared<Node>();
    node->value = 7;
    for (int i = 0; i < 4; i++)
      threads.emplace_back([node, i] { node->reads[i] = node->value; });
  }
  for (auto &t : threads) t.join();
  return 0;
}
