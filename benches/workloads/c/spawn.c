/* Spawn/join: argv[1] threads, created in batches of 8, each writing its slot of
 * a shared array that main reads after joining. */
#include "common.h"

static void *worker(void *arg) {
    long *slot = arg;
    *slot = *slot * 2 + 1;
    return NULL;
}

int main(int argc, char **argv) {
    long n = arg_or(argc, argv, 2000);
    long *slots = calloc(n, sizeof *slots);
    long s = 0;
    for (long i = 0; i < n; i += 8) {
        pthread_t t[8];
        long k = n - i < 8 ? n - i : 8;
        for (long j = 0; j < k; j++) {
            slots[i + j] = i + j;
            check(pthread_create(&t[j], NULL, worker, &slots[i + j]), "pthread_create");
        }
        for (long j = 0; j < k; j++) {
            check(pthread_join(t[j], NULL), "pthread_join");
            s += slots[i + j];
        }
    }
    printf("%ld\n", s);
    free(slots);
    return 0;
}
