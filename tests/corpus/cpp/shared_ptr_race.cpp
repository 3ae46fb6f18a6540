// umbra: race
/* Two threads share ownership of an object through std::shared_ptr (the counts are
 * fine) but both write its field without a lock. */
#include <cstdio>
#include <memory>
#include <thread>

struct Account {
  long balance = 0;
};

int main() {
  auto account = std::make_shared<Account>();
  std::thread t([account] { account->balance += 10; }); // RACE
  account->balance += 20; // RACE
  t.join();
  std::printf("%ld\n", account->balance);
  return 0;
}
