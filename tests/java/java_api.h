/* The Java interface of the TSan runtime (compiler-rt's tsan_interface_java.h),
   declared for umbra's tests of it, and the runtime's invisible test barrier
   (orders threads in time without a happens-before edge). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef unsigned long jptr;
void __tsan_java_init(jptr heap_begin, jptr heap_size);
int __tsan_java_fini(void);
void __tsan_java_alloc(jptr ptr, jptr size);
void __tsan_java_free(jptr ptr, jptr size);
jptr __tsan_java_find(jptr *from_ptr, jptr to);
void __tsan_java_move(jptr src, jptr dst, jptr size);
void __tsan_java_finalize(void);
void __tsan_java_mutex_lock(jptr addr);
void __tsan_java_mutex_unlock(jptr addr);
void __tsan_java_mutex_read_lock(jptr addr);
void __tsan_java_mutex_read_unlock(jptr addr);
void __tsan_java_mutex_lock_rec(jptr addr, int rec);
int __tsan_java_mutex_unlock_rec(jptr addr);
void __tsan_java_acquire(jptr addr);
void __tsan_java_release(jptr addr);
void __tsan_java_release_store(jptr addr);

void __tsan_testonly_barrier_init(uint64_t *barrier, unsigned count);
void __tsan_testonly_barrier_wait(uint64_t *barrier);

#define HEAP_SIZE (1024 * 1024)

/* A Java heap of HEAP_SIZE bytes inside a malloc'd block, declared to the runtime. */
static jptr java_heap(void) {
  jptr heap = ((jptr)malloc(HEAP_SIZE + 8) + 7) & ~(jptr)7;
  __tsan_java_init(heap, HEAP_SIZE);
  return heap;
}
