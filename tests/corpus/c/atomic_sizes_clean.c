// umbra: clean
/* Release/acquire publication through atomics of every size: 1, 2, 4, 8 and 16 bytes
 * (the 16-byte one is __atomic on __int128; gcc lowers it to __tsan_atomic128_*,
 * no libatomic call). Each flag publishes its own payload. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define ALIGNED __attribute__((aligned(64)))

long payload1 ALIGNED, payload2 ALIGNED, payload4 ALIGNED, payload8 ALIGNED, payload16 ALIGNED;
uint8_t flag1 ALIGNED;
uint16_t flag2 ALIGNED;
uint32_t flag4 ALIGNED;
uint64_t flag8 ALIGNED;
unsigned __int128 flag16 ALIGNED;

static void *publisher(void *arg) {
  payload1 = 1;
  __atomic_store_n(&flag1, 1, __ATOMIC_RELEASE);
  payload2 = 2;
  __atomic_store_n(&flag2, 1, __ATOMIC_RELEASE);
  payload4 = 4;
  __atomic_store_n(&flag4, 1, __ATOMIC_RELEASE);
  payload8 = 8;
  __atomic_store_n(&flag8, 1, __ATOMIC_RELEASE);
  payload16 = 16;
  __atomic_store_n(&flag16, (unsigned __int128)1 << 100, __ATOMIC_RELEASE);
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, publisher, NULL);
  long sum = 0;
  while (!__atomic_load_n(&flag1, __ATOMIC_ACQUIRE))
    ;
  sum += payload1;
  while (!__atomic_load_n(&flag2, __ATOMIC_ACQUIRE))
    ;
  sum += payload2;
  while (!__atomic_load_n(&flag4, __ATOMIC_ACQUIRE))
    ;
  sum += payload4;
  while (!__atomic_load_n(&flag8, __ATOMIC_ACQUIRE))
    ;
  sum += payload8;
  while (!__atomic_load_n(&flag16, __ATOMIC_ACQUIRE))
    ;
  sum += payload16;
  payload1 = payload2 = payload4 = payload8 = payload16 = 0;
  pthread_join(t, NULL);
  printf("%ld\n", sum);
  return sum == 31 ? 0 : 1;
}
