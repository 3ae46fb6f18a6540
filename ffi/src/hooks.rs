//! The program's hooks into the runtime and `atexit`: callbacks stock TSan calls
//! when a program (or a library it loads) defines them — `__tsan_on_initialize()`
//! once the runtime is up, `__tsan_on_finalize(failed)` at exit (its result decides
//! whether the run failed), and `__tsan::OnPotentiallyBlockingRegionBegin/End()`
//! around `__cxa_guard_acquire` — found as weak references, so a program that
//! defines none pays nothing. `atexit` is here because gcc-instrumented programs
//! bind it to the runtime (libtsan exports it): umbra registers the handler with
//! libc's `__cxa_atexit`, its registration happening before it runs (as stock).

use core::ffi::{c_int, c_void};

use crate::intercept::scope::ScopedInterceptor;
use crate::real;
use crate::thread::{with_thread, Unknown};

extern "C" {
    #[linkage = "extern_weak"]
    static __tsan_on_initialize: Option<unsafe extern "C" fn()>;
    #[linkage = "extern_weak"]
    static __tsan_on_finalize: Option<unsafe extern "C" fn(c_int) -> c_int>;
    #[linkage = "extern_weak"]
    #[link_name = "_ZN6__tsan32OnPotentiallyBlockingRegionBeginEv"]
    static ON_BLOCKING_BEGIN: Option<unsafe extern "C" fn()>;
    #[linkage = "extern_weak"]
    #[link_name = "_ZN6__tsan30OnPotentiallyBlockingRegionEndEv"]
    static ON_BLOCKING_END: Option<unsafe extern "C" fn()>;
}

/// Calls the program's `__tsan_on_initialize`, if any (from umbra's constructor,
/// outside the runtime scope: it is program code).
pub fn on_initialize() {
    // SAFETY: reading a weak symbol's address (None when nothing defines it); the
    // hook takes no arguments.
    if let Some(f) = unsafe { __tsan_on_initialize } {
        // SAFETY: as above.
        unsafe { f() };
    }
}

/// The program's verdict on the run: `__tsan_on_finalize(failed)` if defined
/// (nonzero = failed), else `failed`.
pub fn on_finalize(failed: bool) -> bool {
    // SAFETY: reading a weak symbol's address, as above.
    match unsafe { __tsan_on_finalize } {
        Some(f) => {
            // SAFETY: the hook's C signature is `int (int)`.
            let verdict = unsafe { f(failed as c_int) };
            verdict != 0
        }
        None => failed,
    }
}

/// Runs `wait` (a call that may block) between the program's
/// `OnPotentiallyBlockingRegionBegin` and `End` hooks.
pub fn blocking_region<R>(wait: impl FnOnce() -> R) -> R {
    // SAFETY: reading weak symbols' addresses; both hooks take no arguments.
    let (begin, end) = unsafe { (ON_BLOCKING_BEGIN, ON_BLOCKING_END) };
    if let Some(f) = begin {
        // SAFETY: as above.
        unsafe { f() };
    }
    let r = wait();
    if let Some(f) = end {
        // SAFETY: as above.
        unsafe { f() };
    }
    r
}

/// The sync object every `atexit` registration releases to and every handler
/// acquires from (stock's `AtExitCtx` edge; one object, so a handler also knows
/// about later registrations, which run before it anyway).
static ATEXIT_SYNC: u8 = 0;

/// Runs one `atexit` handler, registered as `arg`.
extern "C" fn run_atexit_handler(arg: *mut c_void) {
    with_thread(|thr| crate::sync::acquire(thr, &ATEXIT_SYNC as *const u8 as usize));
    // SAFETY: `arg` is the `void (*)(void)` the program passed to `atexit`.
    let f: extern "C" fn() = unsafe { core::mem::transmute(arg) };
    f();
}

/// `atexit(f)`: `f` runs at `exit`, in reverse order of registration with the
/// program's other exit handlers (libc's `__cxa_atexit` list, as stock uses).
#[no_mangle]
pub unsafe extern "C" fn atexit(f: Option<extern "C" fn()>) -> c_int {
    let Some(f) = f else {
        return -1;
    };
    crate::rt::ensure_init();
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    icpt.rt(|thr| crate::sync::release(thr, &ATEXIT_SYNC as *const u8 as usize));
    // SAFETY: libc's registration, with a handler that lives forever and the
    // program's function as its argument (no DSO handle: like stock, the handler
    // stays registered if the registering library is unloaded).
    unsafe { real::__cxa_atexit(run_atexit_handler, f as *mut c_void, core::ptr::null_mut()) }
}
