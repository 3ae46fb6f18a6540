// umbra: race
/* A 4-byte store at offset 6 of an 8-byte aligned buffer spans two 8-byte words
 * (bytes 6..9); another thread writes byte 9, which is in the second word. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

typedef uint32_t unaligned_u32 __attribute__((aligned(1)));

unsigned char buffer[16] __attribute__((aligned(64)));

static void *wide_writer(void *arg) {
  *(unaligned_u32 *)(buffer + 6) = 0x01020304; // RACE
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, wide_writer, NULL);
  buffer[9] = 0xff; // RACE
  pthread_join(t, NULL);
  printf("%d\n", buffer[9]);
  return 0;
}
