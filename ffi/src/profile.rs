//! The `profile_path` recorder: while the option is set, every race report (the
//! stacks of its two accesses) and every contended lock acquisition (the acquiring
//! stack and how long the thread waited) is added to one process-wide
//! [`ProfileData`]; at exit [`write`] symbolizes it and writes the gzipped pprof
//! profile (`umbra_report::pprof`). With the option off, each lock interceptor pays
//! one load and one predictable branch ([`acquire`], [`wait`]) and calls the real
//! function as before. With it on, a lock is first tried with its non-blocking form;
//! only when that finds it busy is the blocking call timed (`CLOCK_MONOTONIC` before
//! and after) and recorded, so uncontended locking costs one extra try. Condition
//! variable waits block by design and are timed whole.
//!
//! The data is guarded by a spin lock taken only inside the runtime scope (no signal
//! handler can find it held) and taken after the report lock, never before it; fork
//! takes it with the other runtime locks, and the child starts an empty profile of
//! its own (profiles of several processes can then be merged by pprof without
//! counting the parent's samples twice).

use core::ffi::c_int;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use umbra_report::pprof::{encode, gzip, LockKind, ProfileData};
use umbra_report::{hide_runtime_frames, Report, Symbolizer};
use umbra_sys::SpinMutex;

use crate::thread::in_runtime;

/// Whether `profile_path` is set (fixed once the options are parsed).
static ENABLED: AtomicBool = AtomicBool::new(false);
/// `CLOCK_MONOTONIC` when recording started (or restarted in a fork child).
static START_NS: AtomicU64 = AtomicU64::new(0);
static DATA: SpinMutex<ProfileData> = SpinMutex::new(ProfileData::new());

/// `EBUSY`: a pthread try-lock found the lock taken.
const EBUSY: c_int = 16;
/// `EAGAIN`: `sem_trywait` found the count at zero.
const EAGAIN: c_int = 11;
/// `EOWNERDEAD`: a robust mutex was acquired from a dead owner (still a success).
const EOWNERDEAD: c_int = 130;

/// Turns recording on or off (from the parsed options); recording starts its clock
/// the first time it is turned on.
pub fn configure(on: bool) {
    if on && START_NS.load(Ordering::Relaxed) == 0 {
        restart();
    }
    // Relaxed: a flag read on its own; the data it guards is behind `DATA`'s lock.
    ENABLED.store(on, Ordering::Relaxed);
}

/// Starts the profile's clocks afresh.
fn restart() {
    // Relaxed: read back at exit by the thread that writes the profile, ordered
    // after this by thread creation or by the exit path's waits.
    START_NS.store(umbra_sys::monotonic_ns(), Ordering::Relaxed);
    DATA.lock().start_unix_ns = umbra_sys::realtime_ns();
}

#[inline(always)]
fn enabled() -> bool {
    // Relaxed: see `configure`.
    ENABLED.load(Ordering::Relaxed)
}

/// Whether the try form's result `r` says the lock was busy: a pthread try-lock
/// returns `EBUSY`; `sem_trywait` returns -1 with `errno` `EAGAIN`.
fn busy(kind: LockKind, r: c_int) -> bool {
    match kind {
        LockKind::Semaphore => r == -1 && crate::signals::errno() == EAGAIN,
        _ => r == EBUSY,
    }
}

/// Acquires a `kind` lock through `acquire` (the real blocking call at `pc`).
/// When profiling, `try_acquire` (the real non-blocking form on the same lock)
/// goes first; only if it finds the lock busy is `acquire` called and its wait
/// recorded. The result is the call's own, and `errno` is left as the call left it.
#[inline(always)]
pub fn acquire(
    kind: LockKind,
    pc: u64,
    try_acquire: impl FnOnce() -> c_int,
    acquire: impl FnOnce() -> c_int,
) -> c_int {
    if !enabled() {
        return acquire();
    }
    acquire_timed(kind, pc, try_acquire, acquire)
}

#[cold]
#[inline(never)]
fn acquire_timed(
    kind: LockKind,
    pc: u64,
    try_acquire: impl FnOnce() -> c_int,
    acquire: impl FnOnce() -> c_int,
) -> c_int {
    let errno = crate::signals::errno();
    let r = try_acquire();
    if !busy(kind, r) {
        return r;
    }
    // The failed try is ours, not the program's: its errno must not show.
    crate::signals::set_errno(errno);
    let start = umbra_sys::monotonic_ns();
    let r = acquire();
    let waited = umbra_sys::monotonic_ns().saturating_sub(start);
    if r == 0 || (r == EOWNERDEAD && kind == LockKind::Mutex) {
        record_wait(kind, pc, waited);
    }
    r
}

/// Runs `wait` (a real condition-variable wait at `pc`) and, when profiling,
/// records how long it blocked.
#[inline(always)]
pub fn wait(kind: LockKind, pc: u64, wait: impl FnOnce() -> c_int) -> c_int {
    if !enabled() {
        return wait();
    }
    let start = umbra_sys::monotonic_ns();
    let r = wait();
    record_wait(kind, pc, umbra_sys::monotonic_ns().saturating_sub(start));
    r
}

fn record_wait(kind: LockKind, pc: u64, waited_ns: u64) {
    // errno as the real call left it: the recording below calls nothing that sets
    // it, but the runtime scope may run deferred signal handlers on the way out.
    let errno = crate::signals::errno();
    in_runtime(|| {
        let stack = crate::thread::current_stack(pc);
        DATA.lock().add_wait(kind, stack, waited_ns);
    });
    crate::signals::set_errno(errno);
}

/// Counts a race report that was just written: one sample for each access's stack.
/// Called by the report path, under the report lock.
pub fn note_report(r: &Report) {
    if !enabled() || !r.kind.is_race() {
        return;
    }
    let mut data = DATA.lock();
    for stack in r.accesses.iter().filter_map(|a| a.stack.as_deref()) {
        data.add_race(r.kind, stack);
    }
}

/// The source frames of return address `pc` a profile shows (the runtime's own
/// hidden, as in reports).
fn resolve(sym: &mut Symbolizer, pc: u64) -> alloc::vec::Vec<umbra_report::Frame> {
    if pc == 0 {
        return alloc::vec::Vec::new();
    }
    let mut frames = sym.symbolize(pc - 1);
    frames.retain(|f| !hide_runtime_frames(f));
    frames
}

/// Writes the profile to `profile_path` (`PATH.PID`), if set: called on the exit
/// paths, inside the runtime scope, after the reports in flight were waited for.
/// Each call writes the whole profile so far (a second exit path rewrites it).
pub fn write() {
    if !enabled() {
        return;
    }
    let Some(path) = crate::rt::OPTIONS
        .lock()
        .profile_target(umbra_sys::getpid())
    else {
        return;
    };
    let mut data = DATA.lock().clone();
    // Relaxed: see `restart`.
    let start = START_NS.load(Ordering::Relaxed);
    data.duration_ns = umbra_sys::monotonic_ns().saturating_sub(start);
    let bytes = crate::report::with_symbolizer(|sym| encode(&data, &mut |pc| resolve(sym, pc)));
    let gz = gzip(&bytes);
    match umbra_sys::open_write(path.as_bytes(), false) {
        Some(fd) => {
            umbra_sys::write_all(fd, &gz);
            umbra_sys::close(fd);
        }
        None => umbra_sys::eprint_fmt(format_args!(
            "umbra: cannot open '{}' for writing; no profile written\n",
            path
        )),
    }
}

/// Takes the profile lock before `fork` (after the report lock).
pub fn fork_lock() {
    DATA.lock_raw();
}

/// # Safety
/// After [`fork_lock`], in parent or child.
pub unsafe fn fork_unlock() {
    // SAFETY: taken by fork_lock.
    unsafe { DATA.force_unlock() };
}

/// In a fork child (after [`fork_unlock`]): an empty profile, timed from now.
pub fn forked_child() {
    if enabled() {
        *DATA.lock() = ProfileData::new();
        restart();
    }
}
