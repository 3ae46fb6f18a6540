//! `fork`: every runtime lock is taken before the real fork and released after it
//! in parent and child, so the child (whose only thread is the caller) never
//! inherits a lock held by a thread that no longer exists. Locks are taken in the
//! order the runtime nests them: reports, thread registry, stack depot, mutex
//! sets, heap blocks, sync-object table, spill table, and the allocator last.

use core::ffi::c_int;

use crate::real;
use crate::thread::{in_runtime, thr, REGISTRY};

fn lock_all() {
    crate::report::fork_lock();
    REGISTRY.lock_raw();
    crate::trace::DEPOT.fork_lock();
    crate::mutexset::fork_lock();
    crate::intercept::heap::fork_lock();
    crate::sync::fork_lock();
    crate::rt::SPILL.lock_all();
    crate::heap::fork_lock();
}

/// # Safety
/// After `lock_all`, once in the parent and once in the child.
unsafe fn unlock_all() {
    // SAFETY: every lock was taken by lock_all, in this order reversed.
    unsafe {
        crate::heap::fork_unlock();
        crate::rt::SPILL.unlock_all();
        crate::sync::fork_unlock();
        crate::intercept::heap::fork_unlock();
        crate::mutexset::fork_unlock();
        crate::trace::DEPOT.fork_unlock();
        REGISTRY.force_unlock();
        crate::report::fork_unlock();
    }
}

#[no_mangle]
pub unsafe extern "C" fn fork() -> c_int {
    if thr().in_rt > 0 || thr().ctx.is_null() {
        // SAFETY: forwarded.
        return unsafe { real::fork() };
    }
    in_runtime(|| {
        lock_all();
        // SAFETY: forwarded; the child continues with copies of the held locks.
        let pid = unsafe { real::fork() };
        // SAFETY: lock_all ran in this (parent or child) process.
        unsafe { unlock_all() };
        pid
    })
}
