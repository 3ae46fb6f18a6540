/* A program that wraps a libc function reaches the runtime's own through its
 * `__interceptor_` name, as under stock TSan: its fopen prints once and calls
 * `__interceptor_fopen`; it also allocates through `__interceptor_malloc`.
 * expect: no report, stdout "user fopen\nread 1 byte\nmalloc'd 42", exit code 0. */
#include <stdio.h>
#include <stdlib.h>

FILE *__interceptor_fopen(const char *path, const char *mode);
void *__interceptor_malloc(size_t size);
void __interceptor_free(void *p);

FILE *fopen(const char *path, const char *mode) {
  static int first = 1;
  if (first) {
    first = 0;
    printf("user fopen\n");
  }
  return __interceptor_fopen(path, mode);
}

int main(void) {
  FILE *f = fopen("/dev/zero", "r");
  char c;
  printf("read %zu byte\n", f ? fread(&c, 1, 1, f) : 0);
  if (f)
    fclose(f);
  int *p = __interceptor_malloc(sizeof *p);
  *p = 42;
  printf("malloc'd %d\n", *p);
  __interceptor_free(p);
  return 0;
}
