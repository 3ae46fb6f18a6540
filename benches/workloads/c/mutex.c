/* Mutex-protected counter: two threads, argv[1] lock/increment/unlock each. */
#include "common.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static long iters;

static void *worker(void *arg) {
    (void)arg;
    for (long i = 0; i < iters; i++) {
        pthread_mutex_lock(&mu);
        counter++;
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

int main(int argc, char **argv) {
    iters = arg_or(argc, argv, 1000000);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) check(pthread_create(&t[i], NULL, worker, NULL), "pthread_create");
    for (int i = 0; i < 2; i++) check(pthread_join(t[i], NULL), "pthread_join");
    printf("%ld\n", counter);
    return counter == 2 * iters ? 0 : 1;
}
