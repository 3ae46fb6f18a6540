// exit: 0
// stdout: storm done
// stderr-clean
//
// A storm of pthread_kill(SIGUSR1) at four threads that lock, malloc/free and
// write, for STORM_SECONDS (default 2) seconds; the handler only counts in
// thread-local memory. The run must print "storm done", nothing on stderr (no
// report, no crash) and exit with 0 well within the time limit (no hang).
#include "storm_common.h"

int main(void) {
  signal(SIGUSR1, count_signal);
  pthread_t th[WORKERS];
  for (long i = 0; i < WORKERS; i++) pthread_create(&th[i], NULL, busy_worker, (void *)(i + 1));
  double end = now_s() + storm_seconds();
  struct timespec pause = {0, 20000};
  long sent = 0;
  while (now_s() < end) {
    for (int i = 0; i < WORKERS; i++, sent++) pthread_kill(th[i], SIGUSR1);
    nanosleep(&pause, NULL);
  }
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  for (int i = 0; i < WORKERS; i++) pthread_join(th[i], NULL);
  if (total_hits == 0 || sent == 0) {
    printf("no signal was handled (%ld sent)\n", sent);
    return 1;
  }
  printf("storm done\n");
  return 0;
}
