// printf with floating-point arguments on its first call (the vector-register
// count in %al must reach printf), with more arguments than registers (all of
// %xmm0-7 and %rdi..%r9 in use, the rest on the stack, including a long double),
// and again on later calls.
// expect: first 1 2 3 4 5 | 0.5 1.5 2.5 3.5 4.5 5.5 6.5 7.5 8.5 9.5 | 1.25 6 7
// expect: later 1.500000 7 -2.250 x
// expect: again 1 2 3 4 5 | 0.5 1.5 2.5 3.5 4.5 5.5 6.5 7.5 8.5 9.5 | 1.25 6 7
#include <stdio.h>

int main(void) {
    const char *many = "%s %d %d %d %d %d | %.1f %.1f %.1f %.1f %.1f %.1f %.1f %.1f %.1f %.1f "
                       "| %.2Lf %d %d\n";
    printf(many, "first", 1, 2, 3, 4, 5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 1.25L,
           6, 7);
    printf("later %f %d %.3f %s\n", 1.5, 7, -2.25, "x");
    printf(many, "again", 1, 2, 3, 4, 5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 1.25L,
           6, 7);
    return 0;
}
