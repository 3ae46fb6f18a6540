// fcntl forwards its optional third argument (an int or a pointer).
// expect: dupfd ok
// expect: cloexec 1
// expect: nonblock 1
// expect: getlk unlocked
// expect: dupfd again ok
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void) {
    int fds[2];
    if (pipe(fds) != 0)
        return 2;
    int d = fcntl(fds[0], F_DUPFD, 40);
    printf("dupfd %s\n", d >= 40 ? "ok" : "wrong");
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    printf("cloexec %d\n", fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    printf("nonblock %d\n", (fcntl(fds[1], F_GETFL) & O_NONBLOCK) != 0);

    char path[] = "/tmp/umbra-passthrough-lock-XXXXXX";
    int f = mkstemp(path);
    struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
    int r = fcntl(f, F_GETLK, &l);
    printf("getlk %s\n", r == 0 && l.l_type == F_UNLCK ? "unlocked" : "wrong");
    unlink(path);

    int e = fcntl(fds[0], F_DUPFD_CLOEXEC, 50);
    printf("dupfd again %s\n", e >= 50 ? "ok" : "wrong");
    return 0;
}
