// umbra: clean
/* Different threads write different fields of one struct (int, short, two chars, long): no race. */
#include <pthread.h>
#include <stdio.h>

struct record {
  int a;
  short b;
  char c;
  char d;
  long e;
} rec;

static void *write_a(void *arg) { for (int i = 0; i < 100; i++) rec.a += i; return arg; }
static void *write_b(void *arg) { for (int i = 0; i < 100; i++) rec.b += (short)i; return arg; }
static void *write_c(void *arg) { for (int i = 0; i < 100; i++) rec.c ^= (char)i; return arg; }
static void *write_d(void *arg) { for (int i = 0; i < 100; i++) rec.d ^= (char)(i * 3); return arg; }

int main(void) {
  pthread_t t[4];
  pthread_create(&t[0], NULL, write_a, NULL);
  pthread_create(&t[1], NULL, write_b, NULL);
  pthread_create(&t[2], NULL, write_c, NULL);
  pthread_create(&t[3], NULL, write_d, NULL);
  for (int i = 0; i < 100; i++)
    rec.e += i;
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  printf("%d %d %d %d %ld\n", rec.a, rec.b, rec.c, rec.d, rec.e);
  return 0;
}
