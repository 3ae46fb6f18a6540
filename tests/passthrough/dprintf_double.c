// dprintf (which libtsan does not intercept: the program binds to libc) with
// floating-point arguments on its first and on a later call.
// expect: first 4.750 12
// expect: later 4.750 12
#include <stdio.h>

int main(void) {
    dprintf(1, "first %.3f %d\n", 4.75, 12);
    dprintf(1, "later %.3f %d\n", 4.75, 12);
    return 0;
}
