// execl passes every variadic argument, more of them than fit in registers
// (the rest on the stack), to the new program (here: this program again).
// expect: child a1 a2 a3 a4 a5 a6 a7
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        printf("child");
        for (int i = 2; i < argc; i++)
            printf(" %s", argv[i]);
        printf("\n");
        return 0;
    }
    execl("/proc/self/exe", "execl_args", "child", "a1", "a2", "a3", "a4", "a5", "a6", "a7",
          (char *)NULL);
    perror("execl");
    return 1;
}
