/* Private-array sweep, one thread: a[i] += i over 1 Mi longs, argv[1] passes
 * (one 8-byte read and one 8-byte write per element). */
#include "common.h"

#define N (1L << 20)

int main(int argc, char **argv) {
    long passes = arg_or(argc, argv, 40);
    long *a = calloc(N, sizeof *a);
    for (long p = 0; p < passes; p++)
        for (long i = 0; i < N; i++)
            a[i] += i ^ p;
    long s = 0;
    for (long i = 0; i < N; i++) s += a[i];
    printf("%ld\n", s);
    free(a);
    return 0;
}
