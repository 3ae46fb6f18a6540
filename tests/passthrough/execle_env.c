// execle finds the environment after the variadic argument list's NULL.
// expect: child x y UMBRA_PT=42
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        const char *v = getenv("UMBRA_PT");
        printf("child %s %s UMBRA_PT=%s\n", argv[2], argv[3], v ? v : "(unset)");
        return 0;
    }
    char *env[] = {"UMBRA_PT=42", NULL, NULL};
    // Keep the preload (and the library path) in the new environment.
    const char *preload = getenv("LD_PRELOAD");
    static char pre[4096];
    if (preload) {
        snprintf(pre, sizeof pre, "LD_PRELOAD=%s", preload);
        env[1] = pre;
    }
    execle("/proc/self/exe", "execle_env", "child", "x", "y", (char *)NULL, env);
    perror("execle");
    return 1;
}
