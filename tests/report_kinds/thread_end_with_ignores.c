// exit: 66
// reports: 0
// stderr: ThreadSanitizer: thread T1  finished with ignores enabled, created at:
// stderr:   One of the following ignores was not ended (in order of probability)
// stderr:   Ignore was enabled at:
// frame: main @create
// frame: worker @ignore
// stock
//
// A thread that ends inside an AnnotateIgnoreWritesBegin region (never ended):
// the runtime says which thread, where it was created and where the region
// began, and ends the process with exit code 66 (TSan's Die), before main's join
// returns.
#include <pthread.h>
#include <stdio.h>

void AnnotateIgnoreWritesBegin(const char *file, int line);

static void *worker(void *arg) {
  AnnotateIgnoreWritesBegin(__FILE__, __LINE__); /* @ignore */
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL); /* @create */
  pthread_join(t, NULL);
  fprintf(stderr, "joined\n");
  return 0;
}
