/* Expect: one data race report (the write in `second`, racing with the write in
 * `first`), then the line "umbra: SEGV on address 0x0 ..."; the process dies of
 * SIGSEGV.
 * main writes through a null pointer while the second thread is building its report (the race
 * and the wait are in race_in_flight.h). */
#include <stdlib.h>
#include <unistd.h>

#include "race_in_flight.h"

int main(void) {
  race_and_wait_until_reporting();
  *(volatile int *)0 = 0;
  return 0;
}
