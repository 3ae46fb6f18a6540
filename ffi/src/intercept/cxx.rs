//! The C++ runtime: `operator new`/`operator delete` in all their forms, and the
//! static-local initialization guards (`__cxa_guard_acquire/release/abort`).
//!
//! `operator new` allocates through the runtime's `malloc`/`memalign` interceptors
//! and `operator delete` frees through `free`, so C++ heap blocks get the same
//! shadow reset, freed markers and "heap block" report locations as C ones. Each
//! pushes its caller's return address on the shadow call stack around the call, so
//! the allocation or free is attributed to the line that said `new`/`delete` (the
//! runtime's own frame on top is hidden in reports, as TSan shows
//! `operator new` there). When `malloc` fails, `operator new` jumps to libstdc++'s
//! own, which runs the `new_handler` loop and throws `std::bad_alloc` (or returns
//! null for the `nothrow` forms): those entry points are naked trampolines, so a
//! C++ exception never has to unwind through a Rust frame.
//!
//! Static locals: the real libstdc++ guard functions do the locking and waiting;
//! the initializing thread releases on the guard's address just before the real
//! `__cxa_guard_release` marks it done, and every `__cxa_guard_acquire` that
//! returns 0 (already initialized, possibly after waiting) acquires it. The
//! compiler's inline fast path is an instrumented acquire load of the guard, which
//! acquires the same object, so every use of the variable happens after its
//! initialization.

use core::ffi::{c_int, c_void};
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::entry::caller_pc;
use crate::intercept::app_heap as heap;
use crate::intercept::scope::ScopedInterceptor;
use crate::real;
use crate::sync;
use crate::thread::Unknown;

type MallocFn = unsafe extern "C" fn(usize) -> *mut c_void;
type MemalignFn = unsafe extern "C" fn(usize, usize) -> *mut c_void;
type FreeFn = unsafe extern "C" fn(*mut c_void);

/// libstdc++'s own operator new of each form, resolved the first time `malloc`
/// fails for that form; the naked entry points jump through this table.
static REAL_NEW: [AtomicUsize; 8] = [const { AtomicUsize::new(0) }; 8];

/// Mangled names, in `REAL_NEW` order.
const NEW_NAMES: [&[u8]; 8] = [
    b"_Znwm\0",
    b"_Znam\0",
    b"_ZnwmRKSt9nothrow_t\0",
    b"_ZnamRKSt9nothrow_t\0",
    b"_ZnwmSt11align_val_t\0",
    b"_ZnamSt11align_val_t\0",
    b"_ZnwmSt11align_val_tRKSt9nothrow_t\0",
    b"_ZnamSt11align_val_tRKSt9nothrow_t\0",
];

/// The body of every `operator new`: allocates `n` bytes (aligned to `align` if
/// non-zero) through the interceptors, attributed to the program's `pc`. On
/// failure makes sure the real operator new of form `which` is resolved and
/// returns null, and the trampoline jumps to it.
extern "C" fn new_body(n: usize, align: usize, pc: u64, which: usize) -> *mut c_void {
    let scope = ScopedInterceptor::enter_with_frame(pc);
    // Called through opaque pointers so the interceptors are never inlined here:
    // their return address must be this function (a runtime frame, hidden in
    // reports), with the program's frame right below it on the shadow stack.
    let p = if align == 0 {
        let f: MallocFn = core::hint::black_box(heap::malloc);
        // SAFETY: the malloc interceptor, with the program's size.
        unsafe { f(n) }
    } else {
        let f: MemalignFn = core::hint::black_box(heap::memalign);
        // SAFETY: the memalign interceptor; `align` is the program's
        // std::align_val_t, a power of two.
        unsafe { f(align, n) }
    };
    drop(scope);
    if p.is_null() && REAL_NEW[which].load(Ordering::Relaxed) == 0 {
        real::resolve_into(&REAL_NEW[which], NEW_NAMES[which]);
    }
    p
}

/// Defines one `operator new` form as a naked trampoline: saves the argument
/// registers, calls `new_body(n, align, caller pc, which)`, and returns its
/// block, or restores the arguments and tail-jumps to libstdc++'s operator new of
/// the same form (so its `bad_alloc` unwinds straight into the program).
/// `$align` is the instruction that puts the alignment (or 0) in `rsi`.
macro_rules! operator_new {
    ($name:ident, $which:expr, $align:literal) => {
        #[no_mangle]
        #[unsafe(naked)]
        pub unsafe extern "C" fn $name() {
            core::arch::naked_asm!(
                // Entry rsp is 8 mod 16; three pushes realign it for the call.
                "push rdi",
                "push rsi",
                "push rdx",
                $align,
                "mov rdx, [rsp + 24]",
                "mov ecx, {which}",
                "call {body}",
                "pop rdx",
                "pop rsi",
                "pop rdi",
                "test rax, rax",
                "jz 2f",
                "ret",
                "2:",
                "jmp qword ptr [rip + {table} + {off}]",
                which = const $which,
                off = const $which * 8,
                body = sym new_body,
                table = sym REAL_NEW,
            )
        }
    };
}

// operator new(size_t), operator new[](size_t)
operator_new!(_Znwm, 0, "xor esi, esi");
operator_new!(_Znam, 1, "xor esi, esi");
// operator new(size_t, const std::nothrow_t&), and [].
operator_new!(_ZnwmRKSt9nothrow_t, 2, "xor esi, esi");
operator_new!(_ZnamRKSt9nothrow_t, 3, "xor esi, esi");
// operator new(size_t, std::align_val_t), and [].
operator_new!(_ZnwmSt11align_val_t, 4, "nop");
operator_new!(_ZnamSt11align_val_t, 5, "nop");
// operator new(size_t, std::align_val_t, const std::nothrow_t&), and [].
operator_new!(_ZnwmSt11align_val_tRKSt9nothrow_t, 6, "nop");
operator_new!(_ZnamSt11align_val_tRKSt9nothrow_t, 7, "nop");

/// The body of every `operator delete`: frees through the `free` interceptor
/// (checked as a write of the whole block), attributed to the program's `pc`.
fn delete(p: *mut c_void, pc: u64) {
    if p.is_null() {
        return;
    }
    let _scope = ScopedInterceptor::enter_with_frame(pc);
    let f: FreeFn = core::hint::black_box(heap::free);
    // SAFETY: the program deletes a block its operator new returned, which came
    // from glibc's allocator.
    unsafe { f(p) };
}

/// Defines one `operator delete` form; the size, alignment and nothrow arguments
/// do not matter to glibc's `free`.
macro_rules! operator_delete {
    ($name:ident ( $($arg:ident : $t:ty),* )) => {
        #[no_mangle]
        pub unsafe extern "C" fn $name(p: *mut c_void $(, $arg: $t)*) {
            $(let _ = $arg;)*
            delete(p, caller_pc());
        }
    };
}

// operator delete(void*), delete[].
operator_delete!(_ZdlPv());
operator_delete!(_ZdaPv());
// Sized: operator delete(void*, size_t).
operator_delete!(_ZdlPvm(size: usize));
operator_delete!(_ZdaPvm(size: usize));
// operator delete(void*, const std::nothrow_t&).
operator_delete!(_ZdlPvRKSt9nothrow_t(nothrow: *const c_void));
operator_delete!(_ZdaPvRKSt9nothrow_t(nothrow: *const c_void));
// operator delete(void*, std::align_val_t).
operator_delete!(_ZdlPvSt11align_val_t(align: usize));
operator_delete!(_ZdaPvSt11align_val_t(align: usize));
// operator delete(void*, size_t, std::align_val_t).
operator_delete!(_ZdlPvmSt11align_val_t(size: usize, align: usize));
operator_delete!(_ZdaPvmSt11align_val_t(size: usize, align: usize));
// operator delete(void*, std::align_val_t, const std::nothrow_t&).
operator_delete!(_ZdlPvSt11align_val_tRKSt9nothrow_t(align: usize, nothrow: *const c_void));
operator_delete!(_ZdaPvSt11align_val_tRKSt9nothrow_t(align: usize, nothrow: *const c_void));

/// Returns 1 when the caller must run the initializer, 0 when the variable is
/// already initialized: then the initialization happens before this return.
#[no_mangle]
pub unsafe extern "C" fn __cxa_guard_acquire(g: *mut u64) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Skip);
    // SAFETY: forwarded; libstdc++ locks the guard (waiting while another thread
    // initializes).
    let r = crate::hooks::blocking_region(|| unsafe { real::__cxa_guard_acquire(g) });
    if r == 0 {
        icpt.rt(|thr| sync::acquire(thr, g as usize));
    }
    r
}

/// The initializer finished: publish it, then mark the guard done.
#[no_mangle]
pub unsafe extern "C" fn __cxa_guard_release(g: *mut u64) {
    ScopedInterceptor::enter(Unknown::Skip).rt(|thr| sync::release(thr, g as usize));
    // SAFETY: forwarded; wakes the threads waiting in __cxa_guard_acquire.
    unsafe { real::__cxa_guard_release(g) }
}

/// The initializer threw: the guard goes back to uninitialized, nothing is published.
#[no_mangle]
pub unsafe extern "C" fn __cxa_guard_abort(g: *mut u64) {
    // SAFETY: forwarded.
    unsafe { real::__cxa_guard_abort(g) }
}
