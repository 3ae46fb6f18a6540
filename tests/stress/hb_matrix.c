/* The happens-before matrix (issue 13's differential stress test, C side).
 *
 * One scenario per run: main writes X; threads created in between ("noise") run;
 * then main publishes to a reader thread through one LINK, and the reader reads X.
 * Whether the write happens before the read is known by construction from the
 * link alone (the noise threads never synchronize with the reader), so each
 * scenario states its own expected verdict:
 *
 *   hb_matrix --list        every scenario, one "LINK NOISE" per line
 *   hb_matrix LINK NOISE    runs one; prints "expect: race|clean" and
 *                           "stock: same|differs" first
 *
 * NOISE is none, or N-joined, N-unjoined, N-readers (the noise threads also read
 * X) or N-syncing (they lock a mutex among themselves) for N threads (N <= 64; the
 * list uses 2, 6 and 12). "stock: differs" marks
 * scenarios stock TSan does not model (fences, a release sequence ended by another
 * thread's store) or where it loses the write's record (reader noise evicts it). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile long X;
static atomic_long go;
static pthread_mutex_t flag_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t flag_cv = PTHREAD_COND_INITIALIZER;
static int flag;
static sem_t sem;
static int pipe_fds[2];
static pthread_mutex_t noise_lock = PTHREAD_MUTEX_INITIALIZER;
static long noise_count;
static const char *link_name;
static const char *noise_mode;

struct link { const char *name; int synchronizes; int stock_models; };
static const struct link links[] = {
    {"relaxed", 0, 1},
    {"release-acquire", 1, 1},
    {"seqcst", 1, 1},
    {"fences", 1, 0},
    {"release-fence-only", 0, 1},
    {"acquire-fence-only", 0, 1},
    {"rmw-chain", 1, 1},
    {"relaxed-rmw", 0, 1},
    {"other-thread-store", 0, 0},
    {"mutex", 1, 1},
    {"condvar", 1, 1},
    {"semaphore", 1, 1},
    {"pipe", 1, 1},
    {"spawn-after", 1, 1},
    {"join-then-relaxed", 0, 1},
    {"join-then-release", 1, 1},
};
static const char *noises[] = {"none", "2-joined", "6-joined", "6-unjoined", "6-readers", "12-syncing"};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int is(const char *name) { return strcmp(link_name, name) == 0; }

static void wait_link(void) {
  if (is("relaxed") || is("release-fence-only") || is("join-then-relaxed")) {
    while (atomic_load_explicit(&go, memory_order_relaxed) == 0) sched_yield();
  } else if (is("release-acquire") || is("relaxed-rmw") || is("join-then-release")) {
    while (atomic_load_explicit(&go, memory_order_acquire) == 0) sched_yield();
  } else if (is("seqcst")) {
    while (atomic_load(&go) == 0) sched_yield();
  } else if (is("fences") || is("acquire-fence-only")) {
    while (atomic_load_explicit(&go, memory_order_relaxed) == 0) sched_yield();
    atomic_thread_fence(memory_order_acquire);
  } else if (is("rmw-chain") || is("other-thread-store")) {
    /* Relaxed while waiting: an acquire load that read main's own release store
     * (the value 1) would synchronize with it whatever follows. */
    while (atomic_load_explicit(&go, memory_order_relaxed) != 2) sched_yield();
    (void)atomic_load_explicit(&go, memory_order_acquire);
  } else if (is("mutex")) {
    for (;;) {
      pthread_mutex_lock(&flag_lock);
      int f = flag;
      pthread_mutex_unlock(&flag_lock);
      if (f) break;
      sched_yield();
    }
  } else if (is("condvar")) {
    pthread_mutex_lock(&flag_lock);
    while (!flag) pthread_cond_wait(&flag_cv, &flag_lock);
    pthread_mutex_unlock(&flag_lock);
  } else if (is("semaphore")) {
    while (sem_wait(&sem) != 0 && errno == EINTR) {}
  } else if (is("pipe")) {
    char c;
    while (read(pipe_fds[0], &c, 1) != 1) {}
  }
}

static void publish(void) {
  if (is("relaxed") || is("acquire-fence-only") || is("join-then-relaxed")) {
    atomic_store_explicit(&go, 1, memory_order_relaxed);
  } else if (is("release-acquire") || is("rmw-chain") || is("other-thread-store") || is("join-then-release")) {
    atomic_store_explicit(&go, 1, memory_order_release);
  } else if (is("seqcst")) {
    atomic_store(&go, 1);
  } else if (is("fences") || is("release-fence-only")) {
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&go, 1, memory_order_relaxed);
  } else if (is("relaxed-rmw")) {
    atomic_fetch_add_explicit(&go, 1, memory_order_relaxed);
  } else if (is("mutex")) {
    pthread_mutex_lock(&flag_lock);
    flag = 1;
    pthread_mutex_unlock(&flag_lock);
  } else if (is("condvar")) {
    pthread_mutex_lock(&flag_lock);
    flag = 1;
    pthread_cond_broadcast(&flag_cv);
    pthread_mutex_unlock(&flag_lock);
  } else if (is("semaphore")) {
    sem_post(&sem);
  } else if (is("pipe")) {
    if (write(pipe_fds[1], "x", 1) != 1) abort();
  }
}

static void *reader(void *arg) {
  (void)arg;
  wait_link();
  return (void *)(long)X;
}

/* Continues (RMW) or ends (plain store) main's release sequence. */
static void *sequence_helper(void *arg) {
  (void)arg;
  while (atomic_load_explicit(&go, memory_order_relaxed) != 1) sched_yield();
  if (is("rmw-chain"))
    atomic_fetch_add_explicit(&go, 1, memory_order_relaxed);
  else
    atomic_store_explicit(&go, 2, memory_order_relaxed);
  return NULL;
}

static void *writer(void *arg) {
  (void)arg;
  X = 42;
  return NULL;
}

static void *noise(void *arg) {
  (void)arg;
  if (strcmp(noise_mode, "readers") == 0) return (void *)(long)X;
  if (strcmp(noise_mode, "syncing") == 0) {
    pthread_mutex_lock(&noise_lock);
    noise_count++;
    pthread_mutex_unlock(&noise_lock);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--list") == 0) {
    for (size_t i = 0; i < COUNT(links); i++)
      for (size_t j = 0; j < COUNT(noises); j++) printf("%s %s\n", links[i].name, noises[j]);
    return 0;
  }
  if (argc != 3) {
    fprintf(stderr, "usage: hb_matrix --list | hb_matrix LINK NOISE\n");
    return 2;
  }
  const struct link *l = NULL;
  for (size_t i = 0; i < COUNT(links); i++)
    if (strcmp(links[i].name, argv[1]) == 0) l = &links[i];
  if (!l) {
    fprintf(stderr, "hb_matrix: unknown link '%s'\n", argv[1]);
    return 2;
  }
  link_name = l->name;
  int count = 0;
  noise_mode = "none";
  if (strcmp(argv[2], "none") != 0) {
    char *dash = strchr(argv[2], '-');
    if (!dash) {
      fprintf(stderr, "hb_matrix: bad noise '%s'\n", argv[2]);
      return 2;
    }
    count = atoi(argv[2]);
    noise_mode = dash + 1;
    if (count < 1 || count > 64) {
      fprintf(stderr, "hb_matrix: noise count must be 1..64 in '%s'\n", argv[2]);
      return 2;
    }
  }
  int stock_same = l->stock_models && !(strcmp(noise_mode, "readers") == 0 && !l->synchronizes);
  printf("expect: %s\nstock: %s\n", l->synchronizes ? "clean" : "race", stock_same ? "same" : "differs");
  fflush(stdout);

  sem_init(&sem, 0, 0);
  if (pipe(pipe_fds) != 0) abort();
  pthread_t helper, early, late, w, noise_threads[64];
  int has_helper = is("rmw-chain") || is("other-thread-store");
  if (has_helper) pthread_create(&helper, NULL, sequence_helper, NULL);
  int spawn_after = is("spawn-after");
  if (!spawn_after) pthread_create(&early, NULL, reader, NULL);
  if (strncmp(link_name, "join-then", 9) == 0) {
    pthread_create(&w, NULL, writer, NULL);
    pthread_join(w, NULL);
  } else {
    X = 42;
  }
  for (int i = 0; i < count; i++) pthread_create(&noise_threads[i], NULL, noise, NULL);
  int unjoined = strcmp(noise_mode, "unjoined") == 0;
  if (!unjoined)
    for (int i = 0; i < count; i++) pthread_join(noise_threads[i], NULL);
  void *value;
  if (spawn_after) {
    pthread_create(&late, NULL, reader, NULL);
    pthread_join(late, &value);
  } else {
    publish();
    pthread_join(early, &value);
  }
  if (has_helper) pthread_join(helper, NULL);
  if (unjoined)
    for (int i = 0; i < count; i++) pthread_join(noise_threads[i], NULL);
  printf("read %ld\n", (long)value);
  return 0;
}
