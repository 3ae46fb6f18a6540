// A mutex held while sleeping, with a second thread known to be waiting for it,
// three rounds; and an unsynchronized write to one global by both threads.
// The profile's top delay is `waiter`'s lock call, at least the 3 x 100 ms the
// holder slept after the waiter announced itself; races/count names `bump_racy`.
// exit: 66
// stdout: rounds done: 3
// reports: 1
// rounds: 3
// hold_ms: 100
// waiter: waiter
// racy: bump_racy
#include <pthread.h>
#include <stdio.h>
#include <time.h>

enum { ROUNDS = 3, HOLD_MS = 100 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int held, arrived, taken; /* handshake, through __atomic builtins */
static int racy;

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void wait_for(int *flag, int value) {
    while (__atomic_load_n(flag, __ATOMIC_ACQUIRE) < value)
        sleep_ms(1);
}

__attribute__((noinline)) static void bump_racy(void) { racy++; }

static void *holder(void *arg) {
    (void)arg;
    bump_racy();
    for (int round = 1; round <= ROUNDS; round++) {
        pthread_mutex_lock(&lock);
        __atomic_store_n(&held, round, __ATOMIC_RELEASE);
        wait_for(&arrived, round);
        /* The waiter is calling pthread_mutex_lock: everything slept from here
           on is time it waits. */
        sleep_ms(HOLD_MS);
        pthread_mutex_unlock(&lock);
        wait_for(&taken, round);
    }
    return NULL;
}

__attribute__((noinline)) static void *waiter(void *arg) {
    (void)arg;
    bump_racy();
    for (int round = 1; round <= ROUNDS; round++) {
        wait_for(&held, round);
        __atomic_store_n(&arrived, round, __ATOMIC_RELEASE);
        pthread_mutex_lock(&lock); /* @wait */
        __atomic_store_n(&taken, round, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

int main(void) {
    pthread_t a, b;
    pthread_create(&a, NULL, holder, NULL);
    pthread_create(&b, NULL, waiter, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("rounds done: %d\n", ROUNDS);
    return 0;
}
