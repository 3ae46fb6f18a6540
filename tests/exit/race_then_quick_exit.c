/* Expect: one data race report (the write in `second`, racing with the write in
 * `first`), then "ThreadSanitizer: reported 1 warnings"; exit code 66.
 * main calls quick_exit(0) while the second thread is building its report (the race
 * and the wait are in race_in_flight.h). */
#include <stdlib.h>
#include <unistd.h>

#include "race_in_flight.h"

int main(void) {
  race_and_wait_until_reporting();
  quick_exit(0);
}
