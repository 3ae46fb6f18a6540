//! `fork`: every runtime lock is taken before the real fork and released after it
//! in parent and child, so the child (whose only thread is the caller) never
//! inherits a lock held by a thread that no longer exists. Locks are taken in the
//! order the runtime nests them: reports, the profile, thread registry, stack depot,
//! mutex sets, heap blocks, Java objects, sync-object table, spill table, and the
//! allocator last.
//!
//! The exits that skip `atexit` handlers: `_exit`/`_Exit` run [`crate::rt::finish`]
//! (wait for reports in flight, print the count) and turn a 0 status into
//! `exitcode` when something was reported, as TSan's `_exit` interceptor does;
//! `abort` waits for reports in flight before the real abort. (`exit`, return from
//! `main` and `quick_exit` reach `finish` through the handlers `rt::late_init`
//! registers; SIGSEGV/SIGBUS through `signals::on_fault`.)

use core::ffi::c_int;

use crate::intercept::scope::ScopedInterceptor;
use crate::real;
use crate::thread::{cur, in_runtime, Unknown, REGISTRY};

pub(crate) fn lock_all() {
    crate::report::fork_lock();
    crate::profile::fork_lock();
    REGISTRY.lock_raw();
    crate::depot::DEPOT.fork_lock();
    crate::mutexset::fork_lock();
    crate::deadlock::fork_lock();
    crate::intercept::app_heap::fork_lock();
    crate::java::fork_lock();
    crate::sync::fork_lock();
    crate::rt::SPILL.lock_all();
    crate::rt_alloc::fork_lock();
}

/// # Safety
/// After `lock_all`, once in the parent and once in the child.
pub(crate) unsafe fn unlock_all() {
    // SAFETY: every lock was taken by lock_all, in this order reversed.
    unsafe {
        crate::rt_alloc::fork_unlock();
        crate::rt::SPILL.unlock_all();
        crate::sync::fork_unlock();
        crate::java::fork_unlock();
        crate::intercept::app_heap::fork_unlock();
        crate::deadlock::fork_unlock();
        crate::mutexset::fork_unlock();
        crate::depot::DEPOT.fork_unlock();
        REGISTRY.force_unlock();
        crate::profile::fork_unlock();
        crate::report::fork_unlock();
    }
}

#[no_mangle]
pub unsafe extern "C" fn fork() -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Skip);
    let forked = icpt.rt(|thr| {
        lock_all();
        // SAFETY: forwarded; the child continues with copies of the held locks.
        let pid = unsafe { real::fork() };
        if pid == 0 {
            crate::rt::note_pid();
        }
        // SAFETY: lock_all ran in this (parent or child) process.
        unsafe { unlock_all() };
        if pid == 0 {
            crate::thread::forked_child(thr.tid);
            crate::profile::forked_child();
        }
        pid
    });
    match forked {
        Some(pid) => pid,
        // SAFETY: forwarded (the runtime is the caller).
        None => unsafe { real::fork() },
    }
}

/// Whether an exit interceptor may run the runtime's exit work here: the runtime is
/// up, the caller is the program (not a signal handler that interrupted the
/// runtime on this thread, which may hold its locks), and this is the process the
/// runtime knows, not the child of a `vfork` sharing the parent's memory, where
/// every write would land in the parent.
fn may_finish() -> bool {
    crate::rt::initialized() && !cur().in_runtime() && crate::rt::is_own_process()
}

/// `_exit(status)`: no exit handlers run, so the report count and exit code are
/// settled here. A nonzero status is the program's own and is kept.
fn exit_now(status: c_int) -> ! {
    let mut status = status;
    if may_finish() {
        if let Some(code) = in_runtime(crate::rt::finish) {
            if status == 0 {
                status = code;
            }
        }
    }
    // SAFETY: forwarded; _exit does not return.
    unsafe { real::_exit(status) };
    umbra_sys::exit_group(status)
}

#[no_mangle]
pub unsafe extern "C" fn _exit(status: c_int) -> ! {
    exit_now(status)
}

#[no_mangle]
pub unsafe extern "C" fn _Exit(status: c_int) -> ! {
    exit_now(status)
}

#[no_mangle]
pub unsafe extern "C" fn abort() -> ! {
    if may_finish() {
        in_runtime(crate::report::wait_for_reports);
    }
    // SAFETY: forwarded; abort does not return.
    unsafe { real::abort() };
    umbra_sys::abort()
}
