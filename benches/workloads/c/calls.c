/* Deep call chains of small non-inlined functions (func entry/exit): argv[1]
 * chains of 16 nested calls, each adding to its callee's result. */
#include "common.h"

#define F(n, next) \
    __attribute__((noipa)) static long f##n(long x) { return next(x + n) ^ n; }
__attribute__((noipa)) static long f16(long x) { return x * 3; }
F(15, f16) F(14, f15) F(13, f14) F(12, f13) F(11, f12) F(10, f11) F(9, f10) F(8, f9)
F(7, f8) F(6, f7) F(5, f6) F(4, f5) F(3, f4) F(2, f3) F(1, f2) F(0, f1)

int main(int argc, char **argv) {
    long n = arg_or(argc, argv, 2000000);
    long s = 0;
    for (long i = 0; i < n; i++) s += f0(i);
    printf("%ld\n", s);
    return 0;
}
