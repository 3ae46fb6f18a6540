/* Memory goes back: 4 threads malloc, fill and free blocks of 1 KiB to 16 MiB
 * (log-uniform sizes) for a second and a half, keeping up to 4 blocks each alive,
 * then free everything.
 *
 * Expected: exit 0, no report; the RSS printed after everything is freed
 * (VmRSS_kB) is small: the shadow of freed blocks has been given back, not kept
 * as freed markers over every byte ever allocated. Peak RSS (VmHWM_kB) is printed
 * for comparison with stock TSan. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define THREADS 4
#define KEEP 4
#ifndef SECONDS
#define SECONDS 1.5
#endif

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long status_kb(const char *key) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long v = -1;
  size_t n = strlen(key);
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, key, n) == 0)
      v = atol(line + n + 1);
  if (f)
    fclose(f);
  return v;
}

static void *churn(void *arg) {
  unsigned seed = (unsigned)(size_t)arg * 2654435761u + 1;
  char *live[KEEP] = {0};
  double end = now() + SECONDS;
  long n = 0;
  while (now() < end) {
    int k = rand_r(&seed) % KEEP;
    free(live[k]);
    /* 2^10 .. 2^24 bytes, log-uniform. */
    size_t size = (size_t)1 << (10 + rand_r(&seed) % 15);
    size += rand_r(&seed) % size;
    if (size > (16 << 20))
      size = 16 << 20;
    live[k] = malloc(size);
    memset(live[k], (int)n, size);
    n++;
  }
  for (int k = 0; k < KEEP; k++)
    free(live[k]);
  return (void *)n;
}

int main(void) {
  pthread_t t[THREADS];
  for (long i = 0; i < THREADS; i++)
    pthread_create(&t[i], NULL, churn, (void *)i);
  long total = 0;
  for (int i = 0; i < THREADS; i++) {
    void *n;
    pthread_join(t[i], &n);
    total += (long)n;
  }
  printf("blocks=%ld\n", total);
  printf("VmRSS_kB=%ld\n", status_kb("VmRSS"));
  printf("VmHWM_kB=%ld\n", status_kb("VmHWM"));
  return 0;
}
