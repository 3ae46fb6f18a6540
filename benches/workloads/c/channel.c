/* Producer/consumer through a bounded mutex+condvar queue (256 slots):
 * argv[1] items. */
#include "common.h"

#define CAP 256
static long buf[CAP];
static long head, tail; /* tail - head items queued */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static long items;

static void *producer(void *arg) {
    (void)arg;
    for (long i = 0; i < items; i++) {
        pthread_mutex_lock(&mu);
        while (tail - head == CAP) pthread_cond_wait(&not_full, &mu);
        buf[tail % CAP] = i;
        tail++;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

int main(int argc, char **argv) {
    items = arg_or(argc, argv, 300000);
    pthread_t t;
    check(pthread_create(&t, NULL, producer, NULL), "pthread_create");
    long s = 0;
    for (long i = 0; i < items; i++) {
        pthread_mutex_lock(&mu);
        while (tail == head) pthread_cond_wait(&not_empty, &mu);
        s += buf[head % CAP];
        head++;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&mu);
    }
    check(pthread_join(t, NULL), "pthread_join");
    printf("%ld\n", s);
    return s == items * (items - 1) / 2 ? 0 : 1;
}
