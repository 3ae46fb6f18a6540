// asprintf with floating-point arguments on its first and on a later call.
// expect: first 6.25 11 (13)
// expect: later 6.25 11 (13)
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    char *s;
    int n = asprintf(&s, "first %.2f %d", 6.25, 11);
    fputs(s, stdout);
    fprintf(stdout, " (%d)\n", n);
    free(s);
    n = asprintf(&s, "later %.2f %d", 6.25, 11);
    fputs(s, stdout);
    fprintf(stdout, " (%d)\n", n);
    free(s);
    return 0;
}
