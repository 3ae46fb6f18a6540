// scanf from stdin (a pipe), fscanf from a file and vsscanf through the
// program's own variadic wrapper, each converting %lf and %d on its first call.
// expect: scanf 2 2500 9
// expect: fscanf 2 -1125 42
// expect: vsscanf 2 625 -3
// expect: scanf again 2 750 10
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int with_vsscanf(const char *s, const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    int r = vsscanf(s, f, ap);
    va_end(ap);
    return r;
}

int main(void) {
    int fds[2];
    if (pipe(fds) != 0)
        return 2;
    const char *in = "2.5 9\n0.75 10\n";
    if (write(fds[1], in, strlen(in)) != (ssize_t)strlen(in))
        return 3;
    close(fds[1]);
    if (dup2(fds[0], 0) != 0)
        return 4;
    close(fds[0]);

    double d = 0;
    int i = 0;
    int n = scanf("%lf %d", &d, &i);
    printf("scanf %d %ld %d\n", n, (long)(d * 1000), i);

    FILE *t = tmpfile();
    if (!t)
        return 5;
    fputs("-1.125 42\n", t);
    rewind(t);
    n = fscanf(t, "%lf %d", &d, &i);
    printf("fscanf %d %ld %d\n", n, (long)(d * 1000), i);
    fclose(t);

    n = with_vsscanf("0.625 -3", "%lf %d", &d, &i);
    printf("vsscanf %d %ld %d\n", n, (long)(d * 1000), i);

    n = scanf("%lf %d", &d, &i);
    printf("scanf again %d %ld %d\n", n, (long)(d * 1000), i);
    return 0;
}
