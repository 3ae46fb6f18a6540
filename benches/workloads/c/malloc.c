/* malloc/free churn: argv[1] malloc+free pairs of 16-512 bytes, 64 live at a
 * time; the first and last word of each block are written. */
#include <stdint.h>
#include "common.h"

int main(int argc, char **argv) {
    long n = arg_or(argc, argv, 2000000);
    long *live[64] = {0};
    uint64_t x = 88172645463325252ull;
    long s = 0;
    for (long i = 0; i < n; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        size_t sz = 16 + (x % 497);
        int k = (int)(i & 63);
        if (live[k]) { s += live[k][0]; free(live[k]); }
        long *p = malloc(sz);
        p[0] = i;
        p[sz / sizeof(long) - 1] = i;
        live[k] = p;
    }
    for (int k = 0; k < 64; k++) free(live[k]);
    printf("%ld\n", s);
    return 0;
}
