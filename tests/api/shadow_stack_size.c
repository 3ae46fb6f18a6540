/* __tsan_testonly_shadow_stack_current_size counts the frames the thread has
 * entered and not left: two nested calls add two, and returning gives them back.
 * expect: stdout "inner +2, after 0", no report, exit code 0. */
#include <stdio.h>

unsigned long __tsan_testonly_shadow_stack_current_size(void);

static unsigned long base;

__attribute__((noinline)) static unsigned long inner(void) {
  return __tsan_testonly_shadow_stack_current_size();
}

__attribute__((noinline)) static unsigned long outer(void) {
  unsigned long d = inner();
  __asm__ volatile("" ::: "memory");
  return d;
}

int main(void) {
  base = __tsan_testonly_shadow_stack_current_size();
  unsigned long in = outer();
  unsigned long after = __tsan_testonly_shadow_stack_current_size();
  printf("inner +%lu, after %lu\n", in - base, after - base);
  return 0;
}
