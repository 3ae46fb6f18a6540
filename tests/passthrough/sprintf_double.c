// sprintf with floating-point arguments on its first and on a later call.
// expect: first 3.50 9 -0.75
// expect: later 3.50 9 -0.75
#include <stdio.h>

int main(void) {
    char buf[128];
    sprintf(buf, "first %.2f %d %.2f", 3.5, 9, -0.75);
    puts(buf);
    sprintf(buf, "later %.2f %d %.2f", 3.5, 9, -0.75);
    puts(buf);
    return 0;
}
