// A hand-written spin mutex for the annotation tests, described to the runtime
// with the __tsan_mutex_* API (unless UNANNOTATED is defined). Its atomics are
// relaxed and `holder` is a plain field written inside the mutex's own code, so
// neither its memory operations nor its atomics order anything for the runtime:
// only the annotations do. (Compiler barriers keep it a correct lock on x86,
// where a locked CAS and a plain store are acquire and release in hardware.)
#include <sanitizer/tsan_interface.h>

#ifdef UNANNOTATED
#define ANNOTATE(call) ((void)0)
#else
#define ANNOTATE(call) call
#endif

typedef struct {
  int state;  /* 0 free, 1 locked */
  long holder; /* plain: who holds it, for debugging */
} spin_mutex;

static void spin_init(spin_mutex *m, unsigned flags) {
  m->state = 0;
  m->holder = 0;
  ANNOTATE(__tsan_mutex_create(m, flags));
}

static void spin_lock(spin_mutex *m, long me) {
  ANNOTATE(__tsan_mutex_pre_lock(m, 0));
  for (;;) {
    int expected = 0;
    if (__atomic_compare_exchange_n(&m->state, &expected, 1, 0, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED))
      break;
  }
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  m->holder = me;
  ANNOTATE(__tsan_mutex_post_lock(m, 0, 0));
}

/* One attempt: 1 when taken. */
static int spin_trylock(spin_mutex *m, long me) {
  ANNOTATE(__tsan_mutex_pre_lock(m, __tsan_mutex_try_lock));
  int expected = 0;
  int taken = __atomic_compare_exchange_n(&m->state, &expected, 1, 0, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED);
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  if (taken)
    m->holder = me;
  ANNOTATE(__tsan_mutex_post_lock(
      m, __tsan_mutex_try_lock | (taken ? 0 : __tsan_mutex_try_lock_failed), 0));
  return taken;
}

static void spin_unlock(spin_mutex *m) {
  ANNOTATE(__tsan_mutex_pre_unlock(m, 0));
  m->holder = 0;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  __atomic_store_n(&m->state, 0, __ATOMIC_RELAXED);
  ANNOTATE(__tsan_mutex_post_unlock(m, 0));
}
