/* `__tsan_locate_address` tells heap, stack and global memory apart (a heap
 * block's start and size, a global's name and size), and `__tsan_get_alloc_stack`
 * gives a live block's allocating thread and stack.
 * expect: no report, stdout "heap: block +0, 40 bytes\nglobal: table, 64
 * bytes\nstack\nalloc stack: main thread, frames yes", exit code 0. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

const char *__tsan_locate_address(uintptr_t addr, char *name, size_t name_size,
                                  uintptr_t *region_address,
                                  uintptr_t *region_size);
int __tsan_get_alloc_stack(uintptr_t addr, uintptr_t *trace, uintptr_t size,
                           int *thread_id, uint64_t *os_id);

long table[8];

int main(void) {
  char name[64];
  uintptr_t start, size;
  long *block = malloc(40);
  const char *kind = __tsan_locate_address((uintptr_t)(block + 2), name,
                                           sizeof name, &start, &size);
  printf("%s: block +%ld, %lu bytes\n", kind, (long)(start - (uintptr_t)block),
         (unsigned long)size);
  kind = __tsan_locate_address((uintptr_t)&table[3], name, sizeof name, &start,
                               &size);
  printf("%s: %s, %lu bytes\n", kind, start == (uintptr_t)table ? name : "?",
         (unsigned long)size);
  int local = 0;
  printf("%s\n", __tsan_locate_address((uintptr_t)&local, name, sizeof name,
                                       &start, &size));
  uintptr_t trace[16];
  int tid = -1;
  uint64_t os_id;
  int frames = __tsan_get_alloc_stack((uintptr_t)block, trace, 16, &tid, &os_id);
  printf("alloc stack: %s, frames %s\n", tid == 0 ? "main thread" : "another",
         frames > 0 ? "yes" : "no");
  free(block);
  return local;
}
