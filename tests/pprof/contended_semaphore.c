// A semaphore wait that blocks (the poster sleeps 100 ms first) and a condition
// variable wait: both are recorded, labelled `semaphore` and `condvar`, and the
// program sees the errno it set before the wait: profiling's own failed
// sem_trywait (EAGAIN) does not show.
// exit: 0
// stdout: errno kept: yes
// stderr-clean
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <time.h>

static sem_t sem;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready;

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *poster(void *arg) {
    (void)arg;
    sleep_ms(100);
    sem_post(&sem);
    sleep_ms(100);
    pthread_mutex_lock(&m);
    ready = 1;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&m);
    return NULL;
}

__attribute__((noinline)) static int sem_waiter(void) {
    errno = 4242;
    int r = sem_wait(&sem);
    return r == 0 && errno == 4242;
}

__attribute__((noinline)) static void cond_waiter(void) {
    pthread_mutex_lock(&m);
    while (!ready)
        pthread_cond_wait(&cv, &m);
    pthread_mutex_unlock(&m);
}

int main(void) {
    sem_init(&sem, 0, 0);
    pthread_t t;
    pthread_create(&t, NULL, poster, NULL);
    int kept = sem_waiter();
    cond_waiter();
    pthread_join(t, NULL);
    printf("errno kept: %s\n", kept ? "yes" : "no");
    return 0;
}
