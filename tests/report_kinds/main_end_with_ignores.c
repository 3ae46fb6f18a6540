// exit: 66
// reports: 0
// stderr: main returns
// stderr: ThreadSanitizer: main thread finished with ignores enabled
// stderr:   Ignore was enabled at:
// frame: main @ignore
// stock
//
// The main thread returns from main inside a __tsan_ignore_thread_begin region:
// at exit the runtime says so, with where the region began, and the process
// ends with exit code 66.
#include <stdio.h>
#include <sanitizer/tsan_interface.h>

void __tsan_ignore_thread_begin(void);

int main(void) {
  __tsan_ignore_thread_begin(); /* @ignore */
  fprintf(stderr, "main returns\n");
  return 0;
}
