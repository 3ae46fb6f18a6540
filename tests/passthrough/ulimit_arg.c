// ulimit passes its variadic new limit (a long, in 512-byte blocks).
// expect: set 2048
// expect: get 2048
// expect: rlimit 1048576
#include <stdio.h>
#include <sys/resource.h>
#include <ulimit.h>

int main(void) {
    long r = ulimit(UL_SETFSIZE, 2048L);
    printf("set %ld\n", r);
    printf("get %ld\n", ulimit(UL_GETFSIZE));
    struct rlimit rl;
    getrlimit(RLIMIT_FSIZE, &rl);
    printf("rlimit %llu\n", (unsigned long long)rl.rlim_cur);
    return 0;
}
