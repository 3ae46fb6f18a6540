// Waiting until a thread has exited, without joining it: the thread publishes its
// kernel tid, and the waiter polls until the kernel no longer knows the tid (the
// runtime marks a thread finished in its TLS destructors, before the kernel thread
// ends).
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

static int exited_tids[16];
static int exited_count;

static void note_exiting_thread(void) {
  int i = __atomic_fetch_add(&exited_count, 1, __ATOMIC_ACQ_REL);
  __atomic_store_n(&exited_tids[i], (int)syscall(SYS_gettid), __ATOMIC_RELEASE);
}

static void wait_for_exits(int n) {
  for (int i = 0; i < n; i++) {
    int t;
    while (!(t = __atomic_load_n(&exited_tids[i], __ATOMIC_ACQUIRE)))
      usleep(1000);
    while (syscall(SYS_tgkill, getpid(), t, 0) == 0)
      usleep(1000);
  }
}
