/* A program's `__tsan_on_report` is called with each report, and the debugging
 * API reads it: the race of a thread's 8-byte write with main's, on `my_global`.
 * expect: one data race report, then stdout lines "report 1: data-race, count 0,
 * current yes", "mops 2: T1 write 8 at my_global, T0 write 8 at my_global",
 * "stacks: T1 in thread_fn, T0 in main", "threads 2: T1 (parent T0), T0",
 * "location: global at my_global", "done", exit code 66. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

void __tsan_testonly_barrier_init(unsigned long long *barrier, unsigned count);
void __tsan_testonly_barrier_wait(unsigned long long *barrier);
void *__tsan_get_current_report(void);
int __tsan_get_report_data(void *report, const char **description, int *count,
                           int *stack_count, int *mop_count, int *loc_count,
                           int *mutex_count, int *thread_count,
                           int *unique_tid_count, void **sleep_trace,
                           unsigned long trace_size);
int __tsan_get_report_mop(void *report, unsigned long idx, int *tid,
                          void **addr, int *size, int *write, int *atomic,
                          void **trace, unsigned long trace_size);
int __tsan_get_report_thread(void *report, unsigned long idx, int *tid,
                             uint64_t *os_id, int *running, const char **name,
                             int *parent_tid, void **trace,
                             unsigned long trace_size);
int __tsan_get_report_loc(void *report, unsigned long idx, const char **type,
                          void **addr, unsigned long *start,
                          unsigned long *size, int *tid, int *fd,
                          int *suppressable, void **trace,
                          unsigned long trace_size);

static unsigned long long barrier;
long my_global;
static int reports;
static void *thread_fn_start, *main_start;

__attribute__((noinline)) static void *thread_fn(void *arg) {
  (void)arg;
  __tsan_testonly_barrier_wait(&barrier);
  my_global = 42;
  return NULL;
}

/* Which of the two functions the frame is in: the nearest start below it. */
__attribute__((no_sanitize("thread"))) static const char *where(void *pc) {
  const char *name = "elsewhere";
  char *best = 0, *p = pc;
  if (p >= (char *)thread_fn_start && p < (char *)thread_fn_start + 1024) {
    best = thread_fn_start;
    name = "thread_fn";
  }
  if (p >= (char *)main_start && p < (char *)main_start + 1024 &&
      (char *)main_start > best)
    name = "main";
  return name;
}

__attribute__((no_sanitize("thread"))) static const char *name_of(void *addr) {
  return addr == &my_global ? "my_global" : "another address";
}

__attribute__((no_sanitize("thread"))) void __tsan_on_report(void *report) {
  const char *description;
  int count, stacks, mops, locs, mutexes, threads, unique_tids;
  void *sleep[8] = {0};
  __tsan_get_report_data(report, &description, &count, &stacks, &mops, &locs,
                         &mutexes, &threads, &unique_tids, sleep, 8);
  printf("report %d: %s, count %d, current %s\n", ++reports, description, count,
         __tsan_get_current_report() == report ? "yes" : "no");
  void *trace[2][16] = {{0}};
  int tid[2], size[2], write[2], atomic[2];
  void *addr[2];
  for (int i = 0; i < 2 && i < mops; i++)
    __tsan_get_report_mop(report, i, &tid[i], &addr[i], &size[i], &write[i],
                          &atomic[i], trace[i], 16);
  printf("mops %d: T%d %s %d at %s, T%d %s %d at %s\n", mops, tid[0],
         write[0] ? "write" : "read", size[0], name_of(addr[0]), tid[1],
         write[1] ? "write" : "read", size[1], name_of(addr[1]));
  printf("stacks: T%d in %s, T%d in %s\n", tid[0], where(trace[0][0]), tid[1],
         where(trace[1][0]));
  int ttid[2] = {-1, -1}, parent = -1, running;
  uint64_t os_id;
  const char *name;
  void *ttrace[16];
  for (int i = 0; i < 2 && i < threads; i++)
    __tsan_get_report_thread(report, i, &ttid[i], &os_id, &running, &name,
                             i == 0 ? &parent : &running, ttrace, 16);
  printf("threads %d: T%d (parent T%d), T%d\n", threads, ttid[0], parent,
         ttid[1]);
  const char *type = "none";
  void *global = 0;
  unsigned long start, lsize;
  int ltid, fd, suppressable;
  if (locs > 0)
    __tsan_get_report_loc(report, 0, &type, &global, &start, &lsize, &ltid, &fd,
                          &suppressable, ttrace, 16);
  printf("location: %s at %s\n", type, name_of(global));
}

int main(void) {
  thread_fn_start = (void *)thread_fn;
  main_start = (void *)main;
  __tsan_testonly_barrier_init(&barrier, 2);
  pthread_t t;
  pthread_create(&t, NULL, thread_fn, NULL);
  my_global = 41;
  __tsan_testonly_barrier_wait(&barrier);
  pthread_join(t, NULL);
  printf("done\n");
  return 0;
}
