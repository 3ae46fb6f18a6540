// prctl forwards its variadic arguments (integers and pointers).
// expect: name umbra-pt
// expect: pdeathsig 10
// expect: dumpable 0 1
// expect: name again second
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>

int main(void) {
    char name[16] = {0};
    prctl(PR_SET_NAME, (unsigned long)"umbra-pt", 0, 0, 0);
    prctl(PR_GET_NAME, (unsigned long)name, 0, 0, 0);
    printf("name %s\n", name);
    int sig = 0;
    prctl(PR_SET_PDEATHSIG, SIGUSR1);
    prctl(PR_GET_PDEATHSIG, &sig);
    printf("pdeathsig %d\n", sig);
    prctl(PR_SET_DUMPABLE, 0);
    int off = prctl(PR_GET_DUMPABLE);
    prctl(PR_SET_DUMPABLE, 1);
    printf("dumpable %d %d\n", off, prctl(PR_GET_DUMPABLE));
    prctl(PR_SET_NAME, "second");
    prctl(PR_GET_NAME, name);
    printf("name again %s\n", name);
    return 0;
}
