// snprintf with floating-point arguments on its first and on a later call, and
// its return value (the untruncated length).
// expect: first 3.50 9 -0.75 (18)
// expect: later 3.50 9 -0.75 (18)
// expect: truncated 2.2 (5)
#include <stdio.h>

int main(void) {
    char buf[128];
    int n = snprintf(buf, sizeof buf, "first %.2f %d %.2f", 3.5, 9, -0.75);
    fputs(buf, stdout);
    fprintf(stdout, " (%d)\n", n);
    n = snprintf(buf, sizeof buf, "later %.2f %d %.2f", 3.5, 9, -0.75);
    fputs(buf, stdout);
    fprintf(stdout, " (%d)\n", n);
    char small[4];
    n = snprintf(small, sizeof small, "%.3f", 2.25);
    fprintf(stdout, "truncated %s (%d)\n", small, n);
    return 0;
}
