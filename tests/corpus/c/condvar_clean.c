// umbra: clean
/* Producer/consumer through a bounded queue guarded by a mutex and two condition variables;
 * the items themselves are plain heap memory handed from producer to consumer. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define CAPACITY 4
#define ITEMS 1000

pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
int *queue[CAPACITY];
int head, count;

static void *producer(void *arg) {
  for (int i = 0; i < ITEMS; i++) {
    int *item = malloc(sizeof *item);
    *item = i;
    pthread_mutex_lock(&lock);
    while (count == CAPACITY)
      pthread_cond_wait(&not_full, &lock);
    queue[(head + count) % CAPACITY] = item;
    count++;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&lock);
  }
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, producer, NULL);
  long sum = 0;
  for (int i = 0; i < ITEMS; i++) {
    pthread_mutex_lock(&lock);
    while (count == 0)
      pthread_cond_wait(&not_empty, &lock);
    int *item = queue[head];
    head = (head + 1) % CAPACITY;
    count--;
    pthread_cond_signal(&not_full);
    pthread_mutex_unlock(&lock);
    sum += *item;
    *item = -1;
    free(item);
  }
  pthread_join(t, NULL);
  printf("%ld\n", sum);
  return sum == (long)ITEMS * (ITEMS - 1) / 2 ? 0 : 1;
}
