// ioctl forwards its third argument (a pointer to an int, read or written).
// expect: fionread 5
// expect: fionbio 1
// expect: notty -1 1
// expect: fionread again 3
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(void) {
    int fds[2];
    if (pipe(fds) != 0)
        return 2;
    if (write(fds[1], "hello", 5) != 5)
        return 3;
    int n = -1;
    ioctl(fds[0], FIONREAD, &n);
    printf("fionread %d\n", n);
    int on = 1;
    ioctl(fds[0], FIONBIO, &on);
    printf("fionbio %d\n", (fcntl(fds[0], F_GETFL) & O_NONBLOCK) != 0);
    struct winsize ws;
    int r = ioctl(fds[0], TIOCGWINSZ, &ws);
    printf("notty %d %d\n", r, errno == ENOTTY);
    char b[2];
    if (read(fds[0], b, 2) != 2)
        return 4;
    ioctl(fds[0], FIONREAD, &n);
    printf("fionread again %d\n", n);
    return 0;
}
