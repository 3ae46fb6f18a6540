/* The runtime calls the program's __tsan::OnPotentiallyBlockingRegionBegin and
 * End around __cxa_guard_acquire, the wait of a function-local static's
 * initialization (as LLVM 16's runtime does, on every call).
 * expect: no report, stdout "main\nbegin\nend\nstatic 2\nafter", exit code 0. */
#include <stdio.h>

namespace __tsan {
void OnPotentiallyBlockingRegionBegin() { printf("begin\n"); }
void OnPotentiallyBlockingRegionEnd() { printf("end\n"); }
} // namespace __tsan

static int value(int argc) {
  static int s = argc + 1;
  return s;
}

int main(int argc, char **argv) {
  (void)argv;
  printf("main\n");
  printf("static %d\n", value(argc));
  printf("after\n");
  return 0;
}
