// exit: 66
// reports: 1
// stderr: WARNING: ThreadSanitizer: unlock of an unlocked mutex (or by a wrong thread)
// frame: main @call
// stdout: done
// stock
//
// Unlocking a monitor nobody holds is a misuse, reported once. A Java call adds
// no frame of its own (the JVM's return address means nothing; Java frames come
// from __tsan_func_entry): the report's stack starts at the function that made
// the call, here `leave_monitor` called from main.
#include "java_api.h"

__attribute__((noinline)) static void leave_monitor(jptr monitor) {
  __tsan_java_mutex_unlock(monitor);
}

int main(void) {
  jptr heap = java_heap();
  __tsan_java_alloc(heap, 16);
  leave_monitor(heap + 8); /* @call */
  __tsan_java_free(heap, 16);
  printf("done\n");
  fflush(stdout);
  return __tsan_java_fini();
}
