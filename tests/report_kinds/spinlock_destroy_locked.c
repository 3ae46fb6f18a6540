// exit: 66
// reports: 1
// stdout: done
// stderr: WARNING: ThreadSanitizer: destroy of a locked mutex (pid=
// stderr:   and:
// stderr:   Location is global 's' of size 4 at 0x
// frame: main @destroy
// frame: main @lock
// frame: main @init
// summary: destroy of a locked mutex @destroy main
// stock
//
// Spinlocks are mutexes too: destroying one that is still locked is reported with
// the destroy's and the lock's stacks and where it was created. Exit 66.
#include <pthread.h>
#include <stdio.h>

static pthread_spinlock_t s;

int main(void) {
  pthread_spin_init(&s, PTHREAD_PROCESS_PRIVATE); /* @init */
  pthread_spin_lock(&s); /* @lock */
  pthread_spin_destroy(&s); /* @destroy */
  printf("done\n");
  return 0;
}
