// exit: 0
// stdout: storm done
// stderr-clean
//
// A 1 kHz setitimer(ITIMER_PROF) SIGPROF timer while four threads lock,
// malloc/free and write, for STORM_SECONDS (default 2) seconds. The SA_SIGINFO
// handler checks its three arguments and counts in thread-local memory. The run
// must print "storm done", nothing on stderr (no report, no crash) and exit with
// 0 well within the time limit (no hang).
#include <sys/time.h>
#include <unistd.h>
#include "storm_common.h"

static void on_prof(int sig, siginfo_t *info, void *uctx) {
  if (sig != SIGPROF || info == NULL || info->si_signo != SIGPROF || uctx == NULL) bad_args++;
  count_signal(sig);
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_prof;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGPROF, &sa, NULL);
  pthread_t th[WORKERS];
  for (long i = 0; i < WORKERS; i++) pthread_create(&th[i], NULL, busy_worker, (void *)(i + 1));
  struct itimerval it = {{0, 1000}, {0, 1000}};
  setitimer(ITIMER_PROF, &it, NULL);
  double end = now_s() + storm_seconds();
  while (now_s() < end) usleep(1000);
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_PROF, &off, NULL);
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  for (int i = 0; i < WORKERS; i++) pthread_join(th[i], NULL);
  if (total_hits == 0) {
    printf("no signal was handled\n");
    return 1;
  }
  if (total_bad + bad_args != 0) {
    printf("%ld handler runs got wrong arguments\n", total_bad + bad_args);
    return 1;
  }
  printf("storm done\n");
  return 0;
}
