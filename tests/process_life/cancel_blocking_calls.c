// exit: 0
// stdout: read cancelled 1 cleanup 1
// stdout: sleep cancelled 1 cleanup 1
// stdout: nanosleep cancelled 1 cleanup 1
// stdout: sem_wait cancelled 1 cleanup 1
// stderr-clean
// stock
//
// Threads blocked in intercepted cancellation points (read, sleep, nanosleep,
// sem_wait) are cancelled: the unwinding passes through the interceptors' frames
// into the threads' cleanup handlers, and the threads end as cancelled.
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int fds[2];
static sem_t sem;
static int cleanups[4];

static void cleanup(void *arg) { cleanups[(long)arg]++; }

static void *blocked(void *arg) {
  long how = (long)arg;
  char c;
  struct timespec ts = {100, 0};
  pthread_cleanup_push(cleanup, arg);
  if (how == 0)
    read(fds[0], &c, 1);
  else if (how == 1)
    sleep(100);
  else if (how == 2)
    nanosleep(&ts, NULL);
  else
    sem_wait(&sem);
  pthread_cleanup_pop(0);
  return NULL;
}

int main(void) {
  static const char *names[] = {"read", "sleep", "nanosleep", "sem_wait"};
  pipe(fds);
  sem_init(&sem, 0, 0);
  for (long i = 0; i < 4; i++) {
    pthread_t t;
    pthread_create(&t, NULL, blocked, (void *)i);
    usleep(50000);
    pthread_cancel(t);
    void *ret;
    pthread_join(t, &ret);
    printf("%s cancelled %d cleanup %d\n", names[i], ret == PTHREAD_CANCELED, cleanups[i]);
  }
  return 0;
}
