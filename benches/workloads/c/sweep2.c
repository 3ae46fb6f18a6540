/* Private-array sweep, two threads, each over its own 1 Mi-long array. */
#include "common.h"

#define N (1L << 20)
static long passes;

static void *worker(void *arg) {
    long *a = calloc(N, sizeof *a);
    for (long p = 0; p < passes; p++)
        for (long i = 0; i < N; i++)
            a[i] += i ^ p;
    long s = 0;
    for (long i = 0; i < N; i++) s += a[i];
    free(a);
    *(long *)arg = s;
    return NULL;
}

int main(int argc, char **argv) {
    passes = arg_or(argc, argv, 40);
    pthread_t t[2];
    long r[2];
    for (int i = 0; i < 2; i++) check(pthread_create(&t[i], NULL, worker, &r[i]), "pthread_create");
    for (int i = 0; i < 2; i++) check(pthread_join(t[i], NULL), "pthread_join");
    printf("%ld\n", r[0] + r[1]);
    return 0;
}
