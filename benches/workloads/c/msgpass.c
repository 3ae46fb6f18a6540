/* Acquire/release message passing: two threads ping-pong argv[1] rounds. Each
 * side writes a plain payload, then release-stores the turn; the other
 * acquire-loads the turn, then reads the payload. */
#include <sched.h>
#include "common.h"

static long payload[4];
static int turn; /* 0: ping's move, 1: pong's move */
static long rounds;

static void wait_turn(int me) {
    unsigned spins = 0;
    while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != me)
        if (++spins % 128 == 0) sched_yield();
}

static void *pong(void *arg) {
    (void)arg;
    for (long r = 0; r < rounds; r++) {
        wait_turn(1);
        payload[1] = payload[0] + 1;
        __atomic_store_n(&turn, 0, __ATOMIC_RELEASE);
    }
    return NULL;
}

int main(int argc, char **argv) {
    rounds = arg_or(argc, argv, 200000);
    pthread_t t;
    check(pthread_create(&t, NULL, pong, NULL), "pthread_create");
    long s = 0;
    for (long r = 0; r < rounds; r++) {
        wait_turn(0);
        s += payload[1];
        payload[0] = r;
        __atomic_store_n(&turn, 1, __ATOMIC_RELEASE);
    }
    check(pthread_join(t, NULL), "pthread_join");
    printf("%ld\n", s);
    return 0;
}
