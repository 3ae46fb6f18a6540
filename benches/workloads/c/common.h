/* Shared helpers for the C workloads of `umbra bench`. Each program takes its
 * size from argv[1] (a default sized for ~0.2-1 s under gcc's libtsan) and
 * prints a checksum to stdout so the work cannot be optimized away. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static long arg_or(int argc, char **argv, long dflt) {
    return argc > 1 ? atol(argv[1]) : dflt;
}

static void check(int err, const char *what) {
    if (err) {
        fprintf(stderr, "%s failed: %d\n", what, err);
        exit(1);
    }
}
