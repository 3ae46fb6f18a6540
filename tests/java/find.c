// exit: 0
// stdout: found 16 at +0
// stdout: found 32 at +16
// stdout: found 1024 at +48
// stdout: nothing after +56
// stdout: after move: found 1024 at +48
// stdout: after move: found 32 at +1072
// stdout: after free: nothing after +56
// stdout: done
// stderr-clean
// stock
//
// __tsan_java_find returns the size of the first object starting at or after
// *from (and below `to`) and stores its start into *from; 0 when there is none.
// A moved object is found at its new address, a freed one no more.
#include "java_api.h"

static jptr heap;

static void find(const char *what, jptr from) {
  jptr at = from;
  jptr size = __tsan_java_find(&at, heap + HEAP_SIZE);
  if (size)
    printf("%sfound %lu at +%lu\n", what, size, at - heap);
  else
    printf("%snothing after +%lu\n", what, from - heap);
}

int main(void) {
  heap = java_heap();
  __tsan_java_alloc(heap, 16);
  __tsan_java_alloc(heap + 16, 32);
  __tsan_java_alloc(heap + 48, 1024);
  find("", heap);
  find("", heap + 8);
  find("", heap + 24);
  find("", heap + 56);
  __tsan_java_move(heap + 16, heap + 1072, 32);
  find("after move: ", heap + 8);
  find("after move: ", heap + 56);
  __tsan_java_free(heap + 1072, 32);
  find("after free: ", heap + 56);
  printf("done\n");
  return __tsan_java_fini();
}
