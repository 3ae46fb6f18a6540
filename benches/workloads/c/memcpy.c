/* Large memcpy: argv[1] copies of a 64 MiB buffer back and forth. */
#include <string.h>
#include "common.h"

#define SIZE (64L << 20)

int main(int argc, char **argv) {
    long reps = arg_or(argc, argv, 6);
    char *a = malloc(SIZE), *b = malloc(SIZE);
    memset(a, 1, SIZE);
    memset(b, 2, SIZE);
    for (long r = 0; r < reps; r++) {
        if (r & 1) memcpy(a, b, SIZE);
        else memcpy(b, a, SIZE);
        a[r] = (char)r;
    }
    printf("%d\n", a[0] + b[SIZE - 1]);
    free(a);
    free(b);
    return 0;
}
