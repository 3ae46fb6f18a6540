// umbra: clean
/* Ping-pong through two semaphores: each side writes the shared cell, then sem_post;
 * the other side sem_waits before touching it. */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>

sem_t ping, pong;
long cell;

static void *responder(void *arg) {
  for (int i = 0; i < 1000; i++) {
    sem_wait(&ping);
    cell = cell * 2 + 1;
    sem_post(&pong);
  }
  return arg;
}

int main(void) {
  sem_init(&ping, 0, 0);
  sem_init(&pong, 0, 0);
  pthread_t t;
  pthread_create(&t, NULL, responder, NULL);
  for (int i = 0; i < 1000; i++) {
    cell = i;
    sem_post(&ping);
    sem_wait(&pong);
    if (cell != 2L * i + 1)
      return 1;
  }
  pthread_join(t, NULL);
  sem_destroy(&ping);
  sem_destroy(&pong);
  printf("%ld\n", cell);
  return 0;
}
