// The _FORTIFY_SOURCE forms gcc emits for the printf family (__printf_chk,
// __fprintf_chk, __sprintf_chk, __snprintf_chk, __vsnprintf_chk), each with
// floating-point arguments on its first call.
// cflags: -O2 -D_FORTIFY_SOURCE=2
// expect: printf_chk 1.25 1
// expect: fprintf_chk 2.25 2
// expect: sprintf_chk 3.25 3
// expect: snprintf_chk 4.25 4
// expect: vsnprintf_chk 5.25 5
#include <stdarg.h>
#include <stdio.h>

static char buf[64];

__attribute__((noinline)) static void with_vsnprintf(const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
}

int main(void) {
    printf("printf_chk %.2f %d\n", 1.25, 1);
    fprintf(stdout, "fprintf_chk %.2f %d\n", 2.25, 2);
    sprintf(buf, "sprintf_chk %.2f %d", 3.25, 3);
    puts(buf);
    snprintf(buf, sizeof buf, "snprintf_chk %.2f %d", 4.25, 4);
    puts(buf);
    with_vsnprintf("vsnprintf_chk %.2f %d", 5.25, 5);
    puts(buf);
    return 0;
}
