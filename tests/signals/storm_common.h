/* Shared by the storm programs (not a test by itself): four busy threads that
 * lock, allocate, free and write, each counting in a thread-local sig_atomic_t
 * how many signals its handler saw. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WORKERS 4

static __thread volatile sig_atomic_t hits;
/* Written by the handler at a new word each time, so that most handler runs
 * take the runtime's slow path (a write already recorded this epoch would not). */
static __thread long seen[64];
/* Handler runs whose arguments were wrong (SA_SIGINFO programs). */
static __thread int bad_args;
static long total_bad;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long shared_counter;
static long total_hits;
static int stop;

/* Every handler run, across threads: an atomic read-modify-write, which is
 * async-signal-safe and makes the runtime touch its sync objects. */
static long handled_total;

static void count_signal(int sig) {
  (void)sig;
  seen[hits % 64] = hits;
  hits++;
  __atomic_fetch_add(&handled_total, 1, __ATOMIC_ACQ_REL);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Seconds each storm runs: STORM_SECONDS, default 2. */
static double storm_seconds(void) {
  const char *s = getenv("STORM_SECONDS");
  return s ? atof(s) : 2.0;
}

static void *busy_worker(void *arg) {
  unsigned seed = (unsigned)(size_t)arg;
  long local[64];
  while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
    pthread_mutex_lock(&mu);
    shared_counter++;
    pthread_mutex_unlock(&mu);
    size_t n = 16 + rand_r(&seed) % 4096;
    char *p = malloc(n);
    memset(p, (int)n, n);
    local[n % 64] = p[n / 2];
    char *q = realloc(p, n * 2);
    q[n] = 1;
    free(q);
  }
  pthread_mutex_lock(&mu);
  total_hits += hits + (local[0] & 0) + (seen[0] & 0);
  total_bad += bad_args;
  pthread_mutex_unlock(&mu);
  return NULL;
}
