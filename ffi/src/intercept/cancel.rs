//! Thread cancellation through interceptors. glibc cancels a thread blocked in a
//! cancellation point (read, pthread_cond_wait, sleep, ...) by unwinding its stack
//! from inside the real call, through the interceptor's frame, running the
//! program's cleanup handlers. The interceptor's code after the real call then
//! never runs, so an interceptor whose bookkeeping must happen either way (a
//! condition wait, cancelled with its mutex re-locked by glibc) registers that
//! bookkeeping as a cleanup handler of its own around the real call, with glibc's
//! `_pthread_cleanup_push`: the unwinder runs such handlers when it leaves the
//! frame that holds their buffer.

use core::ffi::c_int;

use crate::real::Ptr;

/// glibc's `struct _pthread_cleanup_buffer`.
#[repr(C)]
struct CleanupBuffer {
    routine: extern "C" fn(Ptr),
    arg: Ptr,
    canceltype: c_int,
    prev: Ptr,
}

mod libc {
    use super::CleanupBuffer;
    use crate::real::{real_fns, Ptr};

    real_fns! {
        fn _pthread_cleanup_push(buf: *mut CleanupBuffer, routine: extern "C" fn(Ptr), arg: Ptr) -> ();
        fn _pthread_cleanup_pop(buf: *mut CleanupBuffer, execute: core::ffi::c_int) -> ();
    }
}

/// Calls `on_cancel` through its data pointer.
extern "C" fn run_on_cancel<F: FnMut()>(p: Ptr) {
    // SAFETY: `p` is the `F` that `cancellable` registered, alive in its frame,
    // which the unwinder is leaving.
    unsafe { (*(p as *mut F))() }
}

/// Runs `call` (a real blocking call that is a cancellation point); if the thread
/// is cancelled inside it, `on_cancel` runs before the unwinding leaves this frame.
#[inline(always)]
pub fn cancellable<R, F: FnMut()>(mut on_cancel: F, call: impl FnOnce() -> R) -> R {
    let mut buf = CleanupBuffer {
        routine: run_on_cancel::<F>,
        arg: core::ptr::null_mut(),
        canceltype: 0,
        prev: core::ptr::null_mut(),
    };
    // SAFETY: the buffer and `on_cancel` outlive the registration, which is
    // popped (without running the handler) before this frame returns.
    unsafe {
        libc::_pthread_cleanup_push(
            &mut buf,
            run_on_cancel::<F>,
            &mut on_cancel as *mut F as Ptr,
        )
    };
    let r = call();
    // SAFETY: the buffer pushed above, still the innermost one.
    unsafe { libc::_pthread_cleanup_pop(&mut buf, 0) };
    r
}
