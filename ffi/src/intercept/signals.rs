//! The signal interceptors. `sigaction` and the `signal` family keep the program's
//! action in `crate::signals`' table and give the kernel umbra's handler
//! (`crate::signals::on_signal`, with the program's SA_RESTART, SA_ONSTACK and
//! SA_NODEFER, every signal blocked while it runs). SIG_IGN and SIG_DFL go to the
//! kernel as they are. A query returns the action as the program set it, never
//! umbra's handler. `kill`, `pthread_kill`, `raise` and `sigqueue` release the
//! sender's clock into the signal's sync object, which the handler acquires.
//! `sigwait` and its kin acquire it too, since they take the signal without a
//! handler. The mask functions and `sigsuspend` deliver signals that waited
//! inside the runtime, so those handlers run before the program blocks them or
//! goes to sleep. The module also keeps umbra's own SIGSEGV/SIGBUS reporter,
//! installed at start-up like stock TSan's (`handle_segv=1`) unless the program
//! set a handler first. It names the faulting address and pc, then lets the
//! default action (a core dump) happen. Beyond the message it keeps programs
//! behaving as they do under stock TSan: Rust's std installs its own
//! stack-overflow handler only when none is set, and with it takes a global lock
//! at every thread start and exit, an ordering that would hide races between
//! threads that do not overlap in time.

use core::ffi::{c_int, c_void};

use crate::entry::caller_pc;
use crate::intercept::scope::ScopedInterceptor;
use crate::signals::{
    self as sig, SigAction, NSIG, SA_NODEFER, SA_RESETHAND, SA_SIGINFO, SIG_DFL, SIG_IGN,
};
use crate::thread::Unknown;

const SA_ONSTACK: c_int = 0x0800_0000;
const SA_RESTART: c_int = 0x1000_0000;
/// `SIG_ERR`.
const SIG_ERR: usize = usize::MAX;
const EINVAL: c_int = 22;

mod real {
    use core::ffi::{c_int, c_void};
    crate::real::real_fns! {
        fn sigaction(sig: c_int, act: *const c_void, old: *mut c_void) -> c_int;
        fn sigprocmask(how: c_int, set: *const c_void, old: *mut c_void) -> c_int;
        fn pthread_sigmask(how: c_int, set: *const c_void, old: *mut c_void) -> c_int;
        fn sigsuspend(mask: *const c_void) -> c_int;
        fn sigwait(set: *const c_void, sig: *mut c_int) -> c_int;
        fn sigwaitinfo(set: *const c_void, info: *mut c_void) -> c_int;
        fn sigtimedwait(set: *const c_void, info: *mut c_void, ts: *const c_void) -> c_int;
        fn raise(sig: c_int) -> c_int;
        fn kill(pid: c_int, sig: c_int) -> c_int;
        fn pthread_kill(th: usize, sig: c_int) -> c_int;
        fn sigqueue(pid: c_int, sig: c_int, val: usize) -> c_int;
    }
}

fn set_handler(sig: c_int, handler: usize, flags: c_int) {
    let act = SigAction::new(handler, 0, flags);
    // SAFETY: a valid struct sigaction for the libc's own sigaction.
    unsafe {
        real::sigaction(
            sig,
            &act as *const SigAction as *const c_void,
            core::ptr::null_mut(),
        )
    };
}

extern "C" fn on_fault(sig: c_int, info: *mut c_void, uctx: *mut c_void) {
    // siginfo_t: si_addr at offset 16; ucontext_t: RIP in uc_mcontext.gregs[16]
    // at offset 40 + 16 * 8.
    // SAFETY: the kernel passes valid siginfo and ucontext pointers to an
    // SA_SIGINFO handler.
    let (addr, pc) = unsafe {
        (
            *((info as *const u8).add(16) as *const usize),
            *((uctx as *const u8).add(168) as *const usize),
        )
    };
    // The process is about to die: let reports other threads are writing finish
    // first (bounded; only atomics and sleeps, so safe in a handler).
    crate::report::wait_for_reports();
    umbra_sys::eprint_fmt(format_args!(
        "umbra: {} on address {:#x} (pc {:#x}, pid {})\n",
        if sig == sig::SIGSEGV {
            "SEGV"
        } else {
            "BUS error"
        },
        addr,
        pc,
        umbra_sys::getpid()
    ));
    // Back to the default action: returning re-executes the faulting
    // instruction, which now ends the process as it would have without umbra.
    set_handler(sig, SIG_DFL, 0);
}

/// Installs the handler for SIGSEGV and SIGBUS unless the program already set one.
pub fn install() {
    for s in [sig::SIGSEGV, sig::SIGBUS] {
        let mut old = SigAction::new(0, 0, 0);
        // SAFETY: querying the current action into a valid struct.
        unsafe {
            real::sigaction(
                s,
                core::ptr::null(),
                &mut old as *mut SigAction as *mut c_void,
            )
        };
        if old.handler == SIG_DFL {
            set_handler(
                s,
                on_fault as *const () as usize,
                SA_SIGINFO | SA_ONSTACK | SA_NODEFER,
            );
        }
    }
}

/// Publishes the calling thread's clock into `s`'s sync object (a signal is
/// sent, or its handler installed): the handler acquires it.
fn release_to_handlers(s: c_int) {
    if s > 0 && (s as usize) < NSIG {
        ScopedInterceptor::enter(Unknown::Skip)
            .rt(|thr| crate::sync::release(thr, sig::sync_addr(s)));
    }
}

/// Sends a signal: releases into its sync object, then runs the real call `f`
/// with the program's call site `pc` on the shadow stack, so a handler it runs at
/// once shows where the signal was sent from (TSan's interceptor frame does too).
fn sending<R>(s: c_int, pc: u64, f: impl FnOnce() -> R) -> R {
    release_to_handlers(s);
    let _scope = ScopedInterceptor::enter_with_frame(pc);
    f()
}

/// The receiving side of a signal taken without a handler (`sigwait` & co).
fn acquire_from_senders(s: c_int) {
    if s > 0 && (s as usize) < NSIG {
        ScopedInterceptor::enter(Unknown::Skip)
            .rt(|thr| crate::sync::acquire(thr, sig::sync_addr(s)));
    }
}

#[no_mangle]
pub unsafe extern "C" fn sigaction(s: c_int, act: *const SigAction, old: *mut SigAction) -> c_int {
    if s <= 0 || s as usize >= NSIG || s == sig::SIGKILL || s == sig::SIGSTOP {
        // SAFETY: forwarded; the kernel rejects what is not a settable signal.
        return unsafe { real::sigaction(s, act as *const c_void, old as *mut c_void) };
    }
    let prev = sig::user_action(s);
    let kernel_act: SigAction;
    let mut to_kernel = act;
    if !act.is_null() {
        // SAFETY: the program passes a valid struct sigaction.
        let a = unsafe { *act };
        let mine = sig::Handler {
            handler: a.handler,
            flags: a.flags,
            mask: a.mask[0],
        };
        if a.handler != SIG_DFL && a.handler != SIG_IGN {
            // What the thread did before installing the handler happens before it runs.
            release_to_handlers(s);
            // umbra's handler with every signal blocked; SA_RESETHAND is applied
            // by umbra at delivery (the entry must be reset when the program's
            // handler is taken, which may be later than the kernel's delivery).
            kernel_act = SigAction {
                handler: sig::on_signal as *const () as usize,
                mask: [u64::MAX; 16],
                flags: (a.flags | SA_SIGINFO) & !SA_RESETHAND,
                restorer: a.restorer,
            };
            to_kernel = &kernel_act;
        }
        sig::store_action(s, mine);
    }
    // SAFETY: valid (or null) structs in glibc's layout.
    let r = unsafe { real::sigaction(s, to_kernel as *const c_void, old as *mut c_void) };
    if r != 0 {
        if !act.is_null() {
            sig::store_action(s, prev);
        }
        return r;
    }
    // SAFETY: `old` is the program's out-parameter, filled by the call.
    if !old.is_null() && unsafe { (*old).handler } == sig::on_signal as *const () as usize {
        // SAFETY: as above.
        unsafe {
            (*old).handler = prev.handler;
            (*old).flags = prev.flags;
            (*old).mask = [0; 16];
            (*old).mask[0] = prev.mask;
        }
    }
    r
}

/// `signal`/`bsd_signal` (BSD semantics, as glibc's: SA_RESTART, the signal
/// blocked in its handler) and `sysv_signal` (SA_RESETHAND | SA_NODEFER).
///
/// # Safety
/// `handler` is SIG_DFL, SIG_IGN or a function the program wants run as the
/// handler of `s` (as for `sigaction`).
unsafe fn signal_with(s: c_int, handler: usize, mask: u64, flags: c_int) -> usize {
    if s <= 0 || s as usize >= NSIG {
        sig::set_errno(EINVAL);
        return SIG_ERR;
    }
    let act = SigAction::new(handler, mask, flags);
    let mut old = SigAction::new(0, 0, 0);
    // SAFETY: valid structs.
    if unsafe { sigaction(s, &act, &mut old) } != 0 {
        return SIG_ERR;
    }
    old.handler
}

#[no_mangle]
pub unsafe extern "C" fn signal(s: c_int, handler: usize) -> usize {
    let mask = if s > 0 && (s as usize) < NSIG {
        sig::bit(s)
    } else {
        0
    };
    // SAFETY: forwarded.
    unsafe { signal_with(s, handler, mask, SA_RESTART) }
}

#[no_mangle]
pub unsafe extern "C" fn bsd_signal(s: c_int, handler: usize) -> usize {
    // SAFETY: forwarded.
    unsafe { signal(s, handler) }
}

#[no_mangle]
pub unsafe extern "C" fn sysv_signal(s: c_int, handler: usize) -> usize {
    // SAFETY: forwarded.
    unsafe { signal_with(s, handler, 0, SA_RESETHAND | SA_NODEFER) }
}

#[no_mangle]
pub unsafe extern "C" fn __sysv_signal(s: c_int, handler: usize) -> usize {
    // SAFETY: forwarded.
    unsafe { sysv_signal(s, handler) }
}

#[no_mangle]
pub unsafe extern "C" fn sigprocmask(how: c_int, set: *const c_void, old: *mut c_void) -> c_int {
    // SAFETY: forwarded.
    let r = unsafe { real::sigprocmask(how, set, old) };
    sig::after_mask_change();
    r
}

#[no_mangle]
pub unsafe extern "C" fn pthread_sigmask(
    how: c_int,
    set: *const c_void,
    old: *mut c_void,
) -> c_int {
    // SAFETY: forwarded.
    let r = unsafe { real::pthread_sigmask(how, set, old) };
    sig::after_mask_change();
    r
}

#[no_mangle]
pub unsafe extern "C" fn sigsuspend(mask: *const c_void) -> c_int {
    sig::after_mask_change();
    // SAFETY: forwarded; a handler arriving in it runs at once (outside the runtime).
    let r = unsafe { real::sigsuspend(mask) };
    sig::after_mask_change();
    r
}

#[no_mangle]
pub unsafe extern "C" fn sigwait(set: *const c_void, s: *mut c_int) -> c_int {
    // SAFETY: forwarded.
    let r = unsafe { real::sigwait(set, s) };
    if r == 0 {
        // SAFETY: filled by a successful sigwait.
        acquire_from_senders(unsafe { *s });
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn sigwaitinfo(set: *const c_void, info: *mut c_void) -> c_int {
    // SAFETY: forwarded.
    let r = unsafe { real::sigwaitinfo(set, info) };
    acquire_from_senders(r);
    r
}

#[no_mangle]
pub unsafe extern "C" fn sigtimedwait(
    set: *const c_void,
    info: *mut c_void,
    ts: *const c_void,
) -> c_int {
    // SAFETY: forwarded.
    let r = unsafe { real::sigtimedwait(set, info, ts) };
    acquire_from_senders(r);
    r
}

#[no_mangle]
pub unsafe extern "C" fn raise(s: c_int) -> c_int {
    // SAFETY: forwarded; the handler runs before it returns (outside the runtime).
    sending(s, caller_pc(), || unsafe { real::raise(s) })
}

#[no_mangle]
pub unsafe extern "C" fn kill(pid: c_int, s: c_int) -> c_int {
    // SAFETY: forwarded.
    sending(s, caller_pc(), || unsafe { real::kill(pid, s) })
}

#[no_mangle]
pub unsafe extern "C" fn pthread_kill(th: usize, s: c_int) -> c_int {
    // SAFETY: forwarded.
    sending(s, caller_pc(), || unsafe { real::pthread_kill(th, s) })
}

#[no_mangle]
pub unsafe extern "C" fn sigqueue(pid: c_int, s: c_int, val: usize) -> c_int {
    // SAFETY: forwarded (union sigval is passed as one word).
    sending(s, caller_pc(), || unsafe { real::sigqueue(pid, s, val) })
}
