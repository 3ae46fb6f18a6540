//! `setjmp`/`longjmp`: a `longjmp` leaves functions without `__tsan_func_exit`,
//! so the shadow call stack is restored to its depth at the matching `setjmp`.
//!
//! The `setjmp` family cannot be wrapped by an ordinary function (the real one
//! must see the caller's frame and return twice), so each is a small assembly
//! trampoline: it saves the argument registers, records `(jmp_buf, depth)` for the
//! thread, restores them and tail-jumps to the real function with the stack
//! exactly as it found it. `longjmp` and friends restore the depth recorded for
//! their `jmp_buf`, then call the real function.

use core::ffi::c_int;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::thread::cur;

/// Real setjmp-family functions, resolved on first use: _setjmp, setjmp,
/// __sigsetjmp.
static REAL_SETJMP: [AtomicUsize; 3] = [const { AtomicUsize::new(0) }; 3];
const SETJMP_NAMES: [&[u8]; 3] = [b"_setjmp\0", b"setjmp\0", b"__sigsetjmp\0"];

/// Remembered `(jmp_buf, shadow stack depth)` of this thread's recent setjmps.
#[thread_local]
static mut JMP_DEPTHS: [(usize, usize); 16] = [(0, 0); 16];
#[thread_local]
static mut JMP_NEXT: usize = 0;

/// Called from the trampolines: records the depth for `env`, returns the real
/// function to jump to.
#[no_mangle]
extern "C" fn umbra_on_setjmp(env: usize, which: usize) -> usize {
    let depth = cur().depth.get();
    // SAFETY: thread-local table, touched only by this thread.
    unsafe {
        let t = &mut *core::ptr::addr_of_mut!(JMP_DEPTHS);
        let i = t.iter().position(|e| e.0 == env).unwrap_or_else(|| {
            let n = &mut *core::ptr::addr_of_mut!(JMP_NEXT);
            let i = *n % t.len();
            *n += 1;
            i
        });
        t[i] = (env, depth);
    }
    let slot = &REAL_SETJMP[which];
    let f = slot.load(Ordering::Relaxed);
    if f != 0 {
        f
    } else {
        crate::real::resolve_into(slot, SETJMP_NAMES[which])
    }
}

/// Restores the shadow stack depth recorded for `env`.
fn on_longjmp(env: usize) {
    // SAFETY: thread-local table, touched only by this thread.
    let t = unsafe { &*core::ptr::addr_of!(JMP_DEPTHS) };
    if let Some(&(_, depth)) = t.iter().find(|e| e.0 == env) {
        let t = cur();
        if depth <= t.depth.get() {
            t.truncate_frames(depth);
        }
        // A longjmp out of a signal handler leaves it for good.
        crate::signals::longjmp_to(depth);
    }
}

// Each trampoline: rdi = jmp_buf (rsi = savemask for __sigsetjmp). Save the
// argument registers (keeping the stack 16-byte aligned for the call), ask for
// the real function, restore, and jump with the caller's frame untouched.
macro_rules! setjmp_trampoline {
    ($name:literal, $index:literal) => {
        core::arch::global_asm!(
            concat!(".globl ", $name),
            concat!(".type ", $name, ",@function"),
            concat!($name, ":"),
            "push rdi",
            "push rsi",
            "sub rsp, 8",
            concat!("mov esi, ", $index),
            "call umbra_on_setjmp",
            "add rsp, 8",
            "pop rsi",
            "pop rdi",
            "jmp rax",
        );
    };
}
setjmp_trampoline!("_setjmp", 0);
setjmp_trampoline!("setjmp", 1);
setjmp_trampoline!("__sigsetjmp", 2);

mod real {
    use core::ffi::c_int;
    crate::real::real_fns! {
        fn longjmp(env: usize, val: c_int) -> ();
        fn _longjmp(env: usize, val: c_int) -> ();
        fn siglongjmp(env: usize, val: c_int) -> ();
        fn __longjmp_chk(env: usize, val: c_int) -> ();
    }
}

macro_rules! longjmp_interceptor {
    ($($name:ident),*) => {$(
        #[no_mangle]
        pub unsafe extern "C" fn $name(env: usize, val: c_int) -> ! {
            on_longjmp(env);
            // SAFETY: forwarded; the real function does not return.
            unsafe { real::$name(env, val) };
            umbra_sys::internal_error(format_args!(concat!(stringify!($name), " returned")))
        }
    )*};
}

longjmp_interceptor!(longjmp, _longjmp, siglongjmp, __longjmp_chk);
