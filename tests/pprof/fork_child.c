// A contended mutex in the parent, then a fork: the child's profile starts empty
// (no sample of the parent's), the parent's keeps its `waiter` sample.
// exit: 0
// stdout: child exited: 0
// stderr-clean
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int held;

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *holder(void *arg) {
    (void)arg;
    pthread_mutex_lock(&lock);
    __atomic_store_n(&held, 1, __ATOMIC_RELEASE);
    sleep_ms(100);
    pthread_mutex_unlock(&lock);
    return NULL;
}

__attribute__((noinline)) static void waiter(void) {
    while (!__atomic_load_n(&held, __ATOMIC_ACQUIRE))
        sleep_ms(1);
    pthread_mutex_lock(&lock);
    pthread_mutex_unlock(&lock);
}

int main(void) {
    pthread_t t;
    pthread_create(&t, NULL, holder, NULL);
    waiter();
    pthread_join(t, NULL);
    pid_t child = fork();
    if (child == 0)
        exit(0);
    int status;
    waitpid(child, &status, 0);
    printf("child exited: %d\n", WEXITSTATUS(status));
    return 0;
}
