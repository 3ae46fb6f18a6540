//! Process life: `fork`, `vfork`, `clone`, and the exits that skip `atexit`.
//!
//! `fork`: every runtime lock is taken before the real fork and released after it
//! in parent and child, so the child (whose only thread is the caller) never
//! inherits a lock held by a thread that no longer exists. This happens in fork
//! handlers registered with libc at start-up, before the program registers any:
//! libc runs the program's `pthread_atfork` prepare handlers first and its
//! parent and child handlers last, so they run as ordinary instrumented code
//! while no runtime lock is held (taking the locks in the `fork` interceptor
//! itself would hang the first prepare handler that touches memory). Between
//! prepare and parent/child the forking thread is inside the runtime scope, so a
//! signal arriving meanwhile waits. Locks are taken in the order the runtime
//! nests them: reports, the profile, thread registry, stack depot, mutex sets, the
//! lock-order graph, heap blocks, Java objects, sync-object table, fd sync slots, spill table, and the allocator last. The
//! child forgets every fd's descriptor word (it closes fds the parent's threads
//! used); a child of a multi-threaded process that starts a thread dies, as
//! under TSan, unless `die_after_fork=0`.
//!
//! `vfork` is a `fork` (as in TSan): a vfork child shares the parent's memory, so
//! whatever it did through the runtime (the closes a child does before `exec`)
//! would land in the parent's state. `clone` without `CLONE_VM` makes a process
//! with a copy of memory, and is treated as a fork; with `CLONE_VM` it is passed
//! through untouched.
//!
//! The exits that skip `atexit` handlers: `_exit`/`_Exit` run [`crate::rt::finish`]
//! (wait for reports in flight, print the count) and turn a 0 status into
//! `exitcode` when something was reported, as TSan's `_exit` interceptor does;
//! `abort` waits for reports in flight before the real abort. (`exit`, return from
//! `main` and `quick_exit` reach `finish` through the handlers `rt::late_init`
//! registers; SIGSEGV/SIGBUS through `signals::on_fault`.)

use core::ffi::c_int;
use core::sync::atomic::{compiler_fence, Ordering};

use crate::real::{self, Ptr};
use crate::thread::{cur, in_runtime, REGISTRY};

/// The real functions only this module calls.
mod libc {
    use core::ffi::c_int;

    use super::CloneFn;
    use crate::real::{real_fns, Ptr};

    real_fns! {
        fn __register_atfork(
            prepare: extern "C" fn(),
            parent: extern "C" fn(),
            child: extern "C" fn(),
            dso: Ptr
        ) -> c_int;
        fn clone(
            f: CloneFn,
            stack: Ptr,
            flags: c_int,
            arg: Ptr,
            ptid: Ptr,
            tls: Ptr,
            ctid: Ptr
        ) -> c_int;
    }
}

type CloneFn = extern "C" fn(Ptr) -> c_int;

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
    crate::fdtable::fork_lock();
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
        crate::fdtable::fork_unlock();
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

/// Whether this thread's `fork_prepare` took the runtime's locks (a fork from
/// inside the runtime, or before the thread is known, takes none).
#[thread_local]
static mut FORK_LOCKED: bool = false;

fn fork_locked() -> &'static mut bool {
    // SAFETY: thread-local, touched only by this thread's fork handlers.
    unsafe { &mut *core::ptr::addr_of_mut!(FORK_LOCKED) }
}

/// Registers the fork handlers with libc; once, at start-up (`rt::late_init`).
pub fn register_fork_handlers() {
    // SAFETY: three handlers that live forever; no DSO handle, so libc never
    // unregisters them.
    unsafe {
        libc::__register_atfork(fork_prepare, fork_parent, fork_child, core::ptr::null_mut())
    };
}

/// Runs last of all prepare handlers: enters the runtime scope and takes every lock.
extern "C" fn fork_prepare() {
    let t = cur();
    if t.in_runtime() || !t.attached() {
        return;
    }
    t.in_rt.set(t.in_rt.get() + 1);
    // SeqCst compiler fence: as in `thread::in_runtime`, the scope is raised
    // before the locks are taken.
    compiler_fence(Ordering::SeqCst);
    lock_all();
    *fork_locked() = true;
}

/// Releases what `fork_prepare` took and leaves the runtime scope (running the
/// handlers of signals that arrived meanwhile).
fn fork_release() {
    // SAFETY: fork_prepare took every lock on this thread (FORK_LOCKED).
    unsafe { unlock_all() };
    *fork_locked() = false;
    compiler_fence(Ordering::SeqCst);
    let t = cur();
    t.in_rt.set(t.in_rt.get() - 1);
    compiler_fence(Ordering::SeqCst);
    if t.in_rt.get() == 0 {
        crate::signals::leave_runtime();
    }
}

/// Runs first of the parent handlers.
extern "C" fn fork_parent() {
    if *fork_locked() {
        fork_release();
    }
}

/// Runs first of the child handlers: the child's own pid, its fd words
/// forgotten, and whether the parent had other threads.
extern "C" fn fork_child() {
    if !*fork_locked() {
        return;
    }
    crate::rt::note_pid();
    // SAFETY: the child's only thread took the locks (in the parent, before the
    // fork); nobody else can hold them here.
    unsafe { unlock_all() };
    *fork_locked() = false;
    // The forking thread is known (`fork_prepare` took the locks only then) and no
    // scope holds its context here.
    let me = crate::thread::with_known_thread(|thr| thr.tid).unwrap_or(u32::MAX);
    crate::thread::forked_child(me);
    crate::profile::forked_child();
    crate::fdtable::forget_all_after_fork();
    compiler_fence(Ordering::SeqCst);
    let t = cur();
    t.in_rt.set(t.in_rt.get() - 1);
    compiler_fence(Ordering::SeqCst);
    if t.in_rt.get() == 0 {
        crate::signals::leave_runtime();
    }
}

#[no_mangle]
pub unsafe extern "C" fn fork() -> c_int {
    crate::rt::ensure_init();
    // SAFETY: forwarded; the fork handlers hold the runtime's locks across it.
    unsafe { real::fork() }
}

/// `vfork` is a `fork` (see the module comment): returning from this function in
/// the child is fine because the child has its own copy of the stack.
#[no_mangle]
pub unsafe extern "C" fn vfork() -> c_int {
    // SAFETY: as fork.
    unsafe { fork() }
}

const CLONE_VM: c_int = 0x100;

/// What the child of a forking `clone` runs: the program's function and argument.
struct CloneStart {
    f: CloneFn,
    arg: Ptr,
}

extern "C" fn clone_child_start(p: Ptr) -> c_int {
    fork_child();
    // SAFETY: `p` is the parent's CloneStart, in the child's copy of its stack.
    let start = unsafe { &*(p as *const CloneStart) };
    (start.f)(start.arg)
}

/// `clone`: without `CLONE_VM` a fork (the child starts with the runtime's
/// locks released and its own pid noted); with it, passed through. The optional
/// parent-tid, TLS and child-tid arguments are forwarded as given (the last one
/// from the caller's stack, where a variadic caller put it).
#[no_mangle]
pub unsafe extern "C" fn clone(
    f: CloneFn,
    stack: Ptr,
    flags: c_int,
    arg: Ptr,
    ptid: Ptr,
    tls: Ptr,
    ctid: Ptr,
) -> c_int {
    if flags & CLONE_VM != 0 || !crate::rt::initialized() {
        // SAFETY: forwarded.
        return unsafe { libc::clone(f, stack, flags, arg, ptid, tls, ctid) };
    }
    let start = CloneStart { f, arg };
    fork_prepare();
    // SAFETY: forwarded, with our start function, whose argument lives on this
    // frame (copied into the child's memory, which is not shared).
    let pid = unsafe {
        libc::clone(
            clone_child_start,
            stack,
            flags,
            &start as *const CloneStart as Ptr,
            ptid,
            tls,
            ctid,
        )
    };
    fork_parent();
    pid
}

/// A thread is being created: in the child of a multi-threaded fork, TSan's
/// `die_after_fork` stops the program (its runtime cannot vouch for a process
/// whose other threads vanished mid-operation).
pub fn check_thread_creation_after_fork() {
    if !crate::thread::after_multithreaded_fork() {
        return;
    }
    let (die, exitcode) = {
        let o = crate::rt::OPTIONS.lock();
        (o.die_after_fork, o.exitcode)
    };
    if die {
        umbra_sys::eprint_fmt(format_args!(
            "=={}==ThreadSanitizer: starting new threads after multi-threaded fork is not \
             supported. Dying (set die_after_fork=0 to override)\n",
            umbra_sys::getpid()
        ));
        umbra_sys::exit_group(exitcode);
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
