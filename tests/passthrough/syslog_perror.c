// syslog and vsyslog format floating-point arguments on their first call
// (LOG_PERROR copies each message to stderr, here redirected to stdout).
// expect: umbra-pt: syslog 1.50 7
// expect: umbra-pt: vsyslog 2.50 8
// expect: umbra-pt: syslog again 3.50 9
#include <stdarg.h>
#include <syslog.h>
#include <unistd.h>

static void with_vsyslog(const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    vsyslog(LOG_INFO, f, ap);
    va_end(ap);
}

int main(void) {
    if (dup2(1, 2) != 2)
        return 2;
    openlog("umbra-pt", LOG_PERROR, LOG_USER);
    syslog(LOG_INFO, "syslog %.2f %d", 1.5, 7);
    with_vsyslog("vsyslog %.2f %d", 2.5, 8);
    syslog(LOG_INFO, "syslog again %.2f %d", 3.5, 9);
    closelog();
    return 0;
}
