// fprintf with floating-point arguments on its first and on a later call.
// expect: first 0.125 -3 2.5e+10
// expect: later 0.125 -3 2.5e+10
#include <stdio.h>

int main(void) {
    fprintf(stdout, "first %.3f %d %.1e\n", 0.125, -3, 2.5e10);
    fprintf(stdout, "later %.3f %d %.1e\n", 0.125, -3, 2.5e10);
    return 0;
}
