// A reader and a writer blocked on a write-locked rwlock, and a spinlock taken
// while another thread holds it: three samples, labelled `rwlock` (in `reader`
// and `writer`) and `spinlock` (in `spinner`), each delayed by most of the
// 100 ms its lock was held after the waiter announced itself.
// exit: 0
// stdout: all locks taken
// stderr-clean
#include <pthread.h>
#include <stdio.h>
#include <time.h>

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_spinlock_t spin;
static int rw_held, spin_held, waiting;

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void wait_for(int *flag, int value) {
    while (__atomic_load_n(flag, __ATOMIC_ACQUIRE) < value)
        sleep_ms(1);
}

__attribute__((noinline)) static void *reader(void *arg) {
    (void)arg;
    wait_for(&rw_held, 1);
    __atomic_fetch_add(&waiting, 1, __ATOMIC_RELEASE);
    pthread_rwlock_rdlock(&rw);
    pthread_rwlock_unlock(&rw);
    return NULL;
}

__attribute__((noinline)) static void *writer(void *arg) {
    (void)arg;
    wait_for(&rw_held, 1);
    __atomic_fetch_add(&waiting, 1, __ATOMIC_RELEASE);
    pthread_rwlock_wrlock(&rw);
    pthread_rwlock_unlock(&rw);
    return NULL;
}

__attribute__((noinline)) static void *spinner(void *arg) {
    (void)arg;
    wait_for(&spin_held, 1);
    __atomic_fetch_add(&waiting, 1, __ATOMIC_RELEASE);
    pthread_spin_lock(&spin);
    pthread_spin_unlock(&spin);
    return NULL;
}

int main(void) {
    pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
    pthread_t t[3];
    pthread_create(&t[0], NULL, reader, NULL);
    pthread_create(&t[1], NULL, writer, NULL);
    pthread_create(&t[2], NULL, spinner, NULL);
    pthread_rwlock_wrlock(&rw);
    pthread_spin_lock(&spin);
    __atomic_store_n(&rw_held, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&spin_held, 1, __ATOMIC_RELEASE);
    wait_for(&waiting, 3);
    sleep_ms(100);
    pthread_spin_unlock(&spin);
    pthread_rwlock_unlock(&rw);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    pthread_spin_destroy(&spin);
    printf("all locks taken\n");
    return 0;
}
