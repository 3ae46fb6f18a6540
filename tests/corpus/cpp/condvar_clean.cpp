// umbra: clean
/* Producer/consumer over a std::deque guarded by a std::mutex, with a
 * std::condition_variable for "not empty" and a plain bool for "done". */
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

std::mutex m;
std::condition_variable cv;
std::deque<int *> queue;
bool done;

int main() {
  std::thread consumer([] {
    long sum = 0;
    for (;;) {
      std::unique_lock<std::mutex> lock(m);
      cv.wait(lock, [] { return !queue.empty() || done; });
      if (queue.empty()) break;
      int *item = queue.front();
      queue.pop_front();
      lock.unlock();
      sum += *item;
      delete item;
    }
    std::printf("%ld\n", sum);
  });
  for (int i = 1; i <= 100; i++) {
    int *item = new int(i);
    {
      std::lock_guard<std::mutex> guard(m);
      queue.push_back(item);
    }
    cv.notify_one();
  }
  {
    std::lock_guard<std::mutex> guard(m);
    done = true;
  }
  cv.notify_all();
  consumer.join();
  return 0;
}
