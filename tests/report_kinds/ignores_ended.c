// exit: 0
// stderr-clean
// stdout: done
// stock
//
// Ignore regions begun and ended (accesses and synchronization, in a thread and
// in main, nested): nothing is said at the thread's end nor at exit. The run
// prints "done" and exits 0.
#include <pthread.h>
#include <stdio.h>

void AnnotateIgnoreReadsBegin(const char *file, int line);
void AnnotateIgnoreReadsEnd(const char *file, int line);
void AnnotateIgnoreSyncBegin(const char *file, int line);
void AnnotateIgnoreSyncEnd(const char *file, int line);
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);

static void *worker(void *arg) {
  AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
  AnnotateIgnoreSyncBegin(__FILE__, __LINE__);
  __tsan_ignore_thread_begin();
  __tsan_ignore_thread_end();
  AnnotateIgnoreSyncEnd(__FILE__, __LINE__);
  AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  pthread_join(t, NULL);
  __tsan_ignore_thread_begin();
  __tsan_ignore_thread_end();
  printf("done\n");
  return 0;
}
