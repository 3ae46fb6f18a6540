// open, open64, creat, openat and an O_TMPFILE open receive the mode argument
// (variadic for open, open64 and openat): each new file gets exactly that mode.
// expect: open 0640
// expect: open64 0604
// expect: creat 0660
// expect: openat 0606
// expect: tmpfile 0600
// expect: open again 0620
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/umbra-passthrough-XXXXXX";

static void show(const char *what, int fd) {
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        printf("%s failed\n", what);
        return;
    }
    printf("%s %04o\n", what, (unsigned)(st.st_mode & 07777));
    close(fd);
}

static const char *in_dir(const char *name) {
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

int main(void) {
    umask(0);
    if (!mkdtemp(dir))
        return 2;
    show("open", open(in_dir("a"), O_CREAT | O_WRONLY | O_TRUNC, 0640));
    show("open64", open64(in_dir("b"), O_CREAT | O_RDWR | O_EXCL, 0604));
    show("creat", creat(in_dir("c"), 0660));
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    show("openat", openat(d, "d", O_CREAT | O_WRONLY, 0606));
    show("tmpfile", open(dir, O_TMPFILE | O_RDWR, 0600));
    show("open again", open(in_dir("e"), O_CREAT | O_WRONLY, 0620));
    close(d);
    for (const char *n = "abcde"; *n; n++) {
        char name[2] = {*n, 0};
        unlink(in_dir(name));
    }
    rmdir(dir);
    return 0;
}
