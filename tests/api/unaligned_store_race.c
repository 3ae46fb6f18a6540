/* `__sanitizer_unaligned_store32` and `_load32` are checked accesses: a thread's
 * unaligned store and main's unaligned load of the same bytes race, and the
 * values pass through unchanged.
 * expect: one data race report (a write of size 4 in writer, a read of size 4
 * in main), stdout "loaded 0x11223344", exit code 66. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

void __tsan_testonly_barrier_init(unsigned long long *barrier, unsigned count);
void __tsan_testonly_barrier_wait(unsigned long long *barrier);
uint32_t __sanitizer_unaligned_load32(const void *p);
void __sanitizer_unaligned_store32(void *p, uint32_t x);

static unsigned long long barrier;
char bytes[16];

static void *writer(void *arg) {
  (void)arg;
  __sanitizer_unaligned_store32(bytes + 3, 0x11223344);
  __tsan_testonly_barrier_wait(&barrier);
  return NULL;
}

int main(void) {
  __tsan_testonly_barrier_init(&barrier, 2);
  pthread_t t;
  pthread_create(&t, NULL, writer, NULL);
  __tsan_testonly_barrier_wait(&barrier);
  printf("loaded 0x%x\n", __sanitizer_unaligned_load32(bytes + 3));
  pthread_join(t, NULL);
  return 0;
}
