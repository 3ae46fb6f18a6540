// execlp searches PATH and passes its variadic arguments (here to sh).
// expect: sh says one two three
#include <stdio.h>
#include <unistd.h>

int main(void) {
    execlp("sh", "sh", "-c", "echo \"sh says $1 $2 $3\"", "sh", "one", "two", "three",
           (char *)NULL);
    perror("execlp");
    return 1;
}
