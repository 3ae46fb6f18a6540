// A pass-through reached with the stack 8 bytes off the ABI's 16-byte alignment
// (as `__tls_get_addr` may be) resolves on the first call and forwards on later
// ones; the callee (strnlen, which needs no alignment) sees the caller's stack.
// expect: first 5
// expect: later 2
#include <stdio.h>
#include <string.h>

static size_t misaligned_strnlen(const char *s, size_t max) {
    size_t r;
    // Below the red zone, 16-byte aligned, then 8 more: the callee is entered
    // with %rsp 16-byte aligned instead of 8 off it.
    __asm__ volatile("mov %%rsp, %%rbx\n\t"
                     "sub $136, %%rsp\n\t"
                     "and $-16, %%rsp\n\t"
                     "sub $8, %%rsp\n\t"
                     "call strnlen@PLT\n\t"
                     "mov %%rbx, %%rsp\n\t"
                     : "=a"(r), "+D"(s), "+S"(max)
                     :
                     : "rbx", "rcx", "rdx", "r8", "r9", "r10", "r11", "memory", "cc", "xmm0",
                       "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
                       "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    return r;
}

int main(void) {
    size_t first = misaligned_strnlen("hello", 100);
    size_t later = misaligned_strnlen("hi", 100);
    printf("first %zu\nlater %zu\n", first, later);
    return 0;
}
