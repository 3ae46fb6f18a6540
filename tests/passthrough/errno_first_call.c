// A forwarded function sees the caller's errno on its first call: printf's %m
// prints strerror(errno), and errno is still the caller's after the call.
// expect: first Numerical result out of range 1.5
// expect: errno kept 1
// expect: later Numerical argument out of domain 2.5
#include <errno.h>
#include <stdio.h>

int main(void) {
    errno = ERANGE;
    printf("first %m %.1f\n", 1.5);
    printf("errno kept %d\n", errno == ERANGE);
    errno = EDOM;
    printf("later %m %.1f\n", 2.5);
    return 0;
}
