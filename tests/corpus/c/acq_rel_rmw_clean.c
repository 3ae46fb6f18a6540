// umbra: clean
/* Four threads each fill their own slot, then fetch_add(acq_rel) a shared counter;
 * whichever thread increments last reads every slot (RMWs form one release sequence). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#define THREADS 4

long slots[THREADS];
atomic_int arrived __attribute__((aligned(64)));
long total;

static void *worker(void *arg) {
  long me = (long)arg;
  slots[me] = me + 1;
  if (atomic_fetch_add_explicit(&arrived, 1, memory_order_acq_rel) == THREADS - 1) {
    for (int i = 0; i < THREADS; i++)
      total += slots[i];
  }
  return NULL;
}

int main(void) {
  pthread_t t[THREADS];
  for (long i = 0; i < THREADS; i++)
    pthread_create(&t[i], NULL, worker, (void *)i);
  for (int i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);
  printf("%ld\n", total);
  return total == 10 ? 0 : 1;
}
