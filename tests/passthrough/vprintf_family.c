// The va_list printf family (vprintf, vfprintf, vsprintf, vsnprintf, vasprintf,
// vdprintf), each called first through the program's own variadic wrapper with
// floating-point arguments.
// expect: vprintf 1.5 2
// expect: vfprintf 2.5 3
// expect: vsprintf 3.5 4
// expect: vsnprintf 4.5 5 (15)
// expect: vasprintf 5.5 6 (15)
// expect: vdprintf 6.5 7
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void with_vprintf(const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    vprintf(f, ap);
    va_end(ap);
}

static void with_vfprintf(const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    vfprintf(stdout, f, ap);
    va_end(ap);
}

static void with_vsprintf(char *buf, const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    vsprintf(buf, f, ap);
    va_end(ap);
}

static int with_vsnprintf(char *buf, size_t n, const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    int r = vsnprintf(buf, n, f, ap);
    va_end(ap);
    return r;
}

static int with_vasprintf(char **s, const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    int r = vasprintf(s, f, ap);
    va_end(ap);
    return r;
}

static void with_vdprintf(int fd, const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    vdprintf(fd, f, ap);
    va_end(ap);
}

int main(void) {
    char buf[64], *s;
    with_vprintf("vprintf %.1f %d\n", 1.5, 2);
    with_vfprintf("vfprintf %.1f %d\n", 2.5, 3);
    with_vsprintf(buf, "vsprintf %.1f %d", 3.5, 4);
    puts(buf);
    int n = with_vsnprintf(buf, sizeof buf, "vsnprintf %.1f %d", 4.5, 5);
    fputs(buf, stdout);
    fprintf(stdout, " (%d)\n", n);
    n = with_vasprintf(&s, "vasprintf %.1f %d", 5.5, 6);
    fputs(s, stdout);
    fprintf(stdout, " (%d)\n", n);
    free(s);
    fflush(stdout);
    with_vdprintf(1, "vdprintf %.1f %d\n", 6.5, 7);
    return 0;
}
