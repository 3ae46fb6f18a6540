/* Shared by the fiber tests: the fiber API of compiler-rt's tsan_interface.h and
 * a two-context ping-pong over ucontext, each switch announced to the runtime
 * with the flags the test chose. */
#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>

void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
void __tsan_set_fiber_name(void *fiber, const char *name);

static ucontext_t main_uc, fiber_uc;
static void *main_fiber, *worker_fiber;
static unsigned switch_flags;

/* From main into the worker fiber and back. */
static void run_worker(void) {
  __tsan_switch_to_fiber(worker_fiber, switch_flags);
  swapcontext(&main_uc, &fiber_uc);
}

/* From the worker fiber back to main. */
static void back_to_main(void) {
  __tsan_switch_to_fiber(main_fiber, switch_flags);
  swapcontext(&fiber_uc, &main_uc);
}

static void start_worker(void (*body)(void), const char *name) {
  static char stack[256 * 1024];
  main_fiber = __tsan_get_current_fiber();
  worker_fiber = __tsan_create_fiber(0);
  if (name)
    __tsan_set_fiber_name(worker_fiber, name);
  getcontext(&fiber_uc);
  fiber_uc.uc_stack.ss_sp = stack;
  fiber_uc.uc_stack.ss_size = sizeof stack;
  fiber_uc.uc_link = &main_uc;
  makecontext(&fiber_uc, body, 0);
}
