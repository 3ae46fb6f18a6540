// exit: 0
// stdout: handler ran on the alternate stack
// stderr-clean
//
// SA_ONSTACK: with an alternate signal stack installed (sigaltstack), the handler
// of an action with SA_ONSTACK runs on that stack.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *alt;
static const size_t ALT_SIZE = 1 << 16;
static volatile int on_alt = -1;

static void handler(int sig) {
  (void)sig;
  char here;
  on_alt = &here >= alt && &here < alt + ALT_SIZE;
}

int main(void) {
  alt = malloc(ALT_SIZE);
  stack_t ss = {.ss_sp = alt, .ss_size = ALT_SIZE, .ss_flags = 0};
  if (sigaltstack(&ss, NULL) != 0) return 2;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sa.sa_flags = SA_ONSTACK;
  sigaction(SIGUSR1, &sa, NULL);
  raise(SIGUSR1);
  printf("handler ran %s the alternate stack\n", on_alt == 1 ? "on" : "off");
  return on_alt == 1 ? 0 : 1;
}
