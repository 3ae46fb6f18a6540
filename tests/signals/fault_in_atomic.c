// exit: 0
// stdout: fault handled: counter 2, handler saw 1
// stderr-clean
//
// A fault inside an atomic operation: the release fetch_add below writes to a page
// the program made read-only, so it faults while the runtime performs it (under
// the lock of the location's sync object, with the thread's state in use). The
// SIGSEGV handler makes the page writable again and does an acquire load of the
// same location; the kernel then restarts the fetch_add, which completes. The
// handler must find neither the runtime's lock held against it (a hang) nor the
// thread's state half-updated: its own calls go straight to memory.
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static _Atomic long *counter;
static long page;
static volatile long seen = -1;

static void on_segv(int sig, siginfo_t *info, void *uctx) {
  (void)sig;
  (void)info;
  (void)uctx;
  mprotect((void *)counter, page, PROT_READ | PROT_WRITE);
  seen = atomic_load_explicit(counter, memory_order_acquire);
}

int main(void) {
  page = sysconf(_SC_PAGESIZE);
  counter = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (counter == MAP_FAILED) return 2;
  // A release store: the location gets a sync object, whose lock the fetch_add
  // below holds while it writes.
  atomic_store_explicit(counter, 1, memory_order_release);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  mprotect((void *)counter, page, PROT_READ);
  atomic_fetch_add_explicit(counter, 1, memory_order_release);
  printf("fault handled: counter %ld, handler saw %ld\n",
         atomic_load_explicit(counter, memory_order_relaxed), seen);
  return 0;
}
