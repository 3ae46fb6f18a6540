/* A racy loop: two threads increment a plain shared counter argv[1] times each,
 * unsynchronized. Measures what a reported race keeps costing. */
#include "common.h"

static volatile long counter;
static long iters;

static void *worker(void *arg) {
    (void)arg;
    for (long i = 0; i < iters; i++) counter = counter + 1;
    return NULL;
}

int main(int argc, char **argv) {
    iters = arg_or(argc, argv, 3000000);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) check(pthread_create(&t[i], NULL, worker, NULL), "pthread_create");
    for (int i = 0; i < 2; i++) check(pthread_join(t[i], NULL), "pthread_join");
    printf("%ld\n", counter);
    return 0;
}
