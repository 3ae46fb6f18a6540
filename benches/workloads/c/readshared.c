/* Read-shared array: main fills 1 Mi longs, two threads read all of it argv[1]
 * times (8-byte reads of words both threads read). */
#include "common.h"

#define N (1L << 20)
static long passes;
static long *a;

static void *reader(void *arg) {
    long s = 0;
    for (long p = 0; p < passes; p++)
        for (long i = 0; i < N; i++)
            s += a[i] ^ p;
    *(long *)arg = s;
    return NULL;
}

int main(int argc, char **argv) {
    passes = arg_or(argc, argv, 40);
    a = malloc(N * sizeof *a);
    for (long i = 0; i < N; i++) a[i] = i;
    pthread_t t[2];
    long r[2];
    for (int i = 0; i < 2; i++) check(pthread_create(&t[i], NULL, reader, &r[i]), "pthread_create");
    for (int i = 0; i < 2; i++) check(pthread_join(t[i], NULL), "pthread_join");
    printf("%ld\n", r[0] + r[1]);
    free(a);
    return 0;
}
