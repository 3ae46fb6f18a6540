// exit: 66
// reports: 0
// stderr: ThreadSanitizer: thread T1  finished with ignores enabled, created at:
// stderr:   Ignore was enabled at:
// frame: worker @ignore
// stock
//
// The same for a synchronization ignore region (AnnotateIgnoreSyncBegin) left
// open: the process ends with exit code 66 when the thread does.
#include <pthread.h>
#include <stdio.h>

void AnnotateIgnoreSyncBegin(const char *file, int line);

static void *worker(void *arg) {
  AnnotateIgnoreSyncBegin(__FILE__, __LINE__); /* @ignore */
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  pthread_join(t, NULL);
  fprintf(stderr, "joined\n");
  return 0;
}
