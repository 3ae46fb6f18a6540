// exit: 0
// stdout: a 0 0
// stdout: b -1 22
// stdout: c -1 22
// stdout: d -1 22
// stdout: e -1 22
// stdout: f -1 22
// stdout: g -1 22
// stdout: kept 1
// stderr-clean
//
// munmap of invalid ranges (length 0, huge or wrapping lengths, an unaligned
// address, the code of main) fails as without the runtime, and the runtime
// survives each (gcc 12's stock libtsan crashes on this program).
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>

static void show(const char *what, int r) { printf("%s %d %d\n", what, r, r ? errno : 0); }

int main(void) {
  show("a", munmap(0, 1));
  show("b", munmap(0, -1));
  show("c", munmap((void *)main, -1));
  char *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  p[0] = 1;
  show("d", munmap(p, 1ull << 60));
  show("e", munmap(p, -10000));
  show("f", munmap(p, 0));
  show("g", munmap(p + 1, 4096));
  printf("kept %d\n", p[0]);
  return 0;
}
