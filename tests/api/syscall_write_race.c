/* The syscall hooks check the memory a raw syscall reads: main's write(2) of
 * `message`, announced with __sanitizer_syscall_pre_impl_write, reads what a
 * thread wrote with no happens-before between them (the test barrier is
 * invisible).
 * expect: one data race report (main's read of `message` in
 * __sanitizer_syscall_pre_impl_write's caller, the thread's write in writer),
 * stdout "hello", exit code 66. */
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

void __tsan_testonly_barrier_init(unsigned long long *barrier, unsigned count);
void __tsan_testonly_barrier_wait(unsigned long long *barrier);
void __sanitizer_syscall_pre_impl_write(long fd, long buf, long count);
void __sanitizer_syscall_post_impl_write(long res, long fd, long buf,
                                         long count);

static unsigned long long barrier;
char message[8];

static void *writer(void *arg) {
  (void)arg;
  static const char text[] = "hello\n";
  for (int i = 0; i < 6; i++)
    message[i] = text[i];
  __tsan_testonly_barrier_wait(&barrier);
  return NULL;
}

int main(void) {
  __tsan_testonly_barrier_init(&barrier, 2);
  pthread_t t;
  pthread_create(&t, NULL, writer, NULL);
  __tsan_testonly_barrier_wait(&barrier);
  __sanitizer_syscall_pre_impl_write(1, (long)message, 6);
  long res = syscall(SYS_write, 1, message, 6);
  __sanitizer_syscall_post_impl_write(res, 1, (long)message, 6);
  pthread_join(t, NULL);
  return 0;
}
