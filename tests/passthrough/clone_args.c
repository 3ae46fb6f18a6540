// clone forwards its variadic parent-tid, tls and child-tid arguments (the last
// one on the stack): CLONE_PARENT_SETTID stores the child's pid where the
// caller asked.
// expect: child exit 7
// expect: ptid matches 1
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

static char stack[64 * 1024] __attribute__((aligned(16)));

__attribute__((no_sanitize("thread"))) static int child(void *arg) {
    return *(int *)arg;
}

int main(void) {
    static int code = 7;
    pid_t ptid = 0, ctid = 0;
    pid_t pid = clone(child, stack + sizeof stack, CLONE_PARENT_SETTID | SIGCHLD, &code, &ptid,
                      NULL, &ctid);
    if (pid < 0) {
        perror("clone");
        return 2;
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        return 3;
    printf("child exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    printf("ptid matches %d\n", ptid == pid);
    return 0;
}
