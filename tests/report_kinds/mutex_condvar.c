// exit: 0
// stdout: done
// stderr-clean
// stock
//
// A condition wait unlocks and relocks its mutex inside pthread_cond_wait and
// pthread_cond_timedwait: the owner stays consistent, nothing is reported, exit 0.
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready;

static void *producer(void *arg) {
  for (int i = 1; i <= 2; i++) {
    pthread_mutex_lock(&m);
    ready = i;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&m);
    usleep(10000);
  }
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, producer, NULL);
  pthread_mutex_lock(&m);
  while (ready < 1)
    pthread_cond_wait(&cv, &m);
  while (ready < 2) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 5;
    pthread_cond_timedwait(&cv, &m, &ts);
  }
  pthread_mutex_unlock(&m);
  pthread_join(t, NULL);
  pthread_mutex_destroy(&m);
  printf("done\n");
  return 0;
}
