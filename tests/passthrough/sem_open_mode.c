// sem_open with O_CREAT receives its variadic mode and initial value.
// expect: value 3
// expect: mode 0640
// expect: reopened value 2
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void) {
    char name[64];
    snprintf(name, sizeof name, "/umbra-passthrough-%d", (int)getpid());
    umask(0);
    sem_t *s = sem_open(name, O_CREAT | O_EXCL, 0640, 3u);
    if (s == SEM_FAILED) {
        perror("sem_open");
        return 2;
    }
    int v = -1;
    sem_getvalue(s, &v);
    printf("value %d\n", v);
    char path[96];
    snprintf(path, sizeof path, "/dev/shm/sem.%s", name + 1);
    struct stat st;
    if (stat(path, &st) == 0)
        printf("mode %04o\n", (unsigned)(st.st_mode & 07777));
    else
        printf("mode unknown\n");
    sem_wait(s);
    sem_t *t = sem_open(name, O_CREAT, 0600, 9u);
    sem_getvalue(t, &v);
    printf("reopened value %d\n", v);
    sem_close(t);
    sem_close(s);
    sem_unlink(name);
    return 0;
}
