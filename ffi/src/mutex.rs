//! Named mutex operations, as compiler-rt's `tsan_rtl_mutex.cpp` has them: create,
//! destroy, pre-lock and post-lock (write or read; try-locks, recursion counts),
//! unlock, read unlock, read-or-write unlock, repair and invalid access. The pthread
//! mutex, rwlock and spinlock interceptors and the `__tsan_mutex_*` annotations call
//! these, one call per event, instead of sequences of their own. Each operation
//! finds the mutex's sync object once and does everything under its lock: the
//! clocks (acquire on the first lock, release when the last hold goes), the owner
//! and recursion count on record (misuse: `double lock of a mutex`, `unlock of an
//! unlocked mutex`, ...; a misused mutex is marked broken and reported once, and
//! its clocks move as usual), where it was created and last locked; then the held
//! set that reports print as `mutexes:` and the lock-order graph
//! (`crate::deadlock`). The real lock call has already succeeded before a post-lock
//! (and is yet to be made after a pre-lock or an unlock), so a record that
//! disagrees means the program unlocked a mutex it did not hold, or changed the
//! lock behind the runtime's back.

use alloc::vec::Vec;

use umbra_report::ReportKind;

use crate::sync::{self, SyncState};
use crate::thread::ThreadCtx;
use crate::{deadlock, mutexset};

/// The flags of `__tsan_mutex_*` (the bits of compiler-rt's `tsan_interface.h`),
/// plus the runtime's own [`MutexFlags::PRE_LOCK_ON_POST_LOCK`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct MutexFlags(pub u32);

impl MutexFlags {
    pub const NONE: MutexFlags = MutexFlags(0);
    /// A static mutex that is never created: destroys of it are ignored.
    pub const LINKER_INIT: MutexFlags = MutexFlags(1 << 0);
    /// The owner may lock it again (recursive mutex).
    pub const WRITE_REENTRANT: MutexFlags = MutexFlags(1 << 1);
    /// Readers may lock it again.
    pub const READ_REENTRANT: MutexFlags = MutexFlags(1 << 2);
    /// A read (shared) lock or unlock.
    pub const READ_LOCK: MutexFlags = MutexFlags(1 << 3);
    /// A try-lock: never waits, so never an edge of the lock-order graph.
    pub const TRY_LOCK: MutexFlags = MutexFlags(1 << 4);
    /// A try-lock that failed: post-lock does nothing.
    pub const TRY_LOCK_FAILED: MutexFlags = MutexFlags(1 << 5);
    /// Post-lock of a lock re-acquiring `rec` holds at once.
    pub const RECURSIVE_LOCK: MutexFlags = MutexFlags(1 << 6);
    /// Pre-unlock releasing every hold at once (returns how many).
    pub const RECURSIVE_UNLOCK: MutexFlags = MutexFlags(1 << 7);
    /// A mutex that is not static: a destroy with this flag of a mutex created
    /// without it is ignored.
    pub const NOT_STATIC: MutexFlags = MutexFlags(1 << 8);
    /// The lock's pre-lock was not seen (a condition wait re-acquiring its mutex):
    /// post-lock makes the lock-order check too.
    pub const PRE_LOCK_ON_POST_LOCK: MutexFlags = MutexFlags(1 << 29);
    /// The flags a mutex keeps from its creation (and any later lock).
    const CREATION: u32 =
        Self::LINKER_INIT.0 | Self::WRITE_REENTRANT.0 | Self::READ_REENTRANT.0 | Self::NOT_STATIC.0;

    pub fn has(self, flag: MutexFlags) -> bool {
        self.0 & flag.0 != 0
    }

    pub const fn with(self, flag: MutexFlags) -> MutexFlags {
        MutexFlags(self.0 | flag.0)
    }
}

/// How a mutex is held: `Write` exclusively (a mutex, a spinlock, a rwlock's write
/// lock), `Read` shared (a rwlock's read lock).
pub use crate::mutexset::LockMode;

/// What creating a mutex does to a record already at its address.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Record {
    /// Start afresh (`pthread_mutex_init`: a mutex re-created at the address of an
    /// old one, on the stack say, shares nothing with it).
    Fresh,
    /// Keep clocks and owner (`__tsan_mutex_create`, as TSan).
    Keep,
}

/// The owner id of the current thread on a mutex record (its thread id + 1).
fn me(thr: &ThreadCtx) -> u32 {
    thr.tid + 1
}

/// Marks `g` broken and returns `kind` when a misuse of it is to be reported
/// (`report_mutex_bugs`, read only when a misuse was found).
fn misuse(g: &mut SyncState, kind: ReportKind) -> Option<ReportKind> {
    if g.broken || !crate::rt::OPTIONS.lock().report_mutex_bugs {
        return None;
    }
    g.broken = true;
    Some(kind)
}

/// Reports a misuse found at `pc`, if any.
fn report(bug: Option<ReportKind>, addr: usize, pc: u64) {
    if let Some(kind) = bug {
        crate::report::report_mutex_misuse(kind, addr, pc, None);
    }
}

/// Notes where the mutex was created, the first time it is seen (an init, an
/// annotation, else its first lock).
fn note_creation(thr: &mut ThreadCtx, g: &mut SyncState, pc: u64) {
    if g.created_pc == 0 {
        g.created_pc = pc;
        g.created_stack = thr.stack_id();
    }
}

/// A mutex is created at `addr` (`pthread_*_init`, `__tsan_mutex_create`).
pub fn create(thr: &mut ThreadCtx, addr: usize, pc: u64, flags: MutexFlags, record: Record) {
    if record == Record::Fresh {
        sync::reset_range(addr, 1);
    }
    let s = sync::get_or_create(addr);
    let mut g = s.lock();
    g.mutex_flags |= flags.0 & MutexFlags::CREATION;
    note_creation(thr, &mut g, pc);
}

/// The mutex at `addr` is destroyed at `pc`: reported when still write-held on
/// record (`destroy of a locked mutex`, with where it was last locked, under
/// `report_destroy_locked`), then forgotten, unless it is static (`linker_init`,
/// or a `not_static` destroy of a mutex not created so), which TSan never destroys.
pub fn destroy(thr: &mut ThreadCtx, addr: usize, pc: u64, flags: MutexFlags) {
    {
        let Some(s) = sync::find(addr) else {
            mutexset::unlocked_all(thr, addr);
            return;
        };
        let last_lock = {
            let mut g = s.lock();
            let created = MutexFlags(g.mutex_flags);
            if flags.has(MutexFlags::LINKER_INIT)
                || created.has(MutexFlags::LINKER_INIT)
                || (flags.has(MutexFlags::NOT_STATIC) && !created.has(MutexFlags::NOT_STATIC))
            {
                return;
            }
            if g.owner != 0 && !g.broken && crate::rt::OPTIONS.lock().report_destroy_locked {
                g.broken = true;
                Some((g.last_lock_pc, g.last_lock_stack))
            } else {
                None
            }
        };
        deadlock::forget(s.serial);
        if let Some((lock_pc, lock_stack)) = last_lock {
            let mut stack = Vec::with_capacity(16);
            stack.push(lock_pc);
            stack.extend(crate::depot::DEPOT.unwind(lock_stack));
            crate::report::report_mutex_misuse(
                ReportKind::MutexDestroyLocked,
                addr,
                pc,
                Some(stack),
            );
        }
        sync::reset_range(addr, 1);
        mutexset::unlocked_all(thr, addr);
    }
}

/// The current thread is about to wait for the mutex at `addr` (for writing or
/// reading alike): the lock-order check (`lock-order-inversion`), unless it is a
/// try-lock or the thread already holds the mutex. Costs nothing while the thread
/// holds no other mutex.
pub fn pre_lock(thr: &mut ThreadCtx, addr: usize, pc: u64, flags: MutexFlags) {
    if flags.has(MutexFlags::TRY_LOCK) {
        return;
    }
    if deadlock::holds_any() {
        deadlock::before_lock(thr, sync::get_or_create(addr).serial, addr, pc);
    }
}

/// The current thread holds the mutex at `addr` now (`mode`; `rec` holds at once
/// with `RECURSIVE_LOCK`): acquire on its first hold, record the owner (a mutex
/// write-held by another thread on record: `double lock of a mutex`; the current
/// thread owns it from now on), the held set and the lock-order graph. A read lock
/// of a mutex write-held on record is `read lock of a write locked mutex` (the lock
/// has no writer now, or it would not have let a reader in: the record is dropped).
pub fn post_lock(
    thr: &mut ThreadCtx,
    addr: usize,
    pc: u64,
    flags: MutexFlags,
    rec: u32,
    mode: LockMode,
) {
    if flags.has(MutexFlags::TRY_LOCK_FAILED) {
        return;
    }
    let rec = if flags.has(MutexFlags::RECURSIVE_LOCK) {
        rec.max(1)
    } else {
        1
    };
    {
        let me = me(thr);
        let s = sync::get_or_create(addr);
        let mut g = s.lock();
        note_creation(thr, &mut g, pc);
        g.mutex_flags |= flags.0 & MutexFlags::CREATION;
        let (first, bug) = match mode {
            LockMode::Write => {
                let first = g.recursion == 0 || g.owner != me;
                let bug = if g.owner == me {
                    None
                } else {
                    let held_by_other = g.owner != 0;
                    g.owner = me;
                    g.recursion = 0;
                    g.last_lock_pc = pc;
                    g.last_lock_stack = thr.stack_id();
                    if held_by_other {
                        misuse(&mut g, ReportKind::MutexDoubleLock)
                    } else {
                        None
                    }
                };
                g.recursion += rec;
                (first, bug)
            }
            LockMode::Read => {
                let bug = if g.owner != 0 {
                    g.owner = 0;
                    g.recursion = 0;
                    misuse(&mut g, ReportKind::MutexBadReadLock)
                } else {
                    None
                };
                (true, bug)
            }
        };
        if first && thr.ignore_sync == 0 {
            thr.clock.acquire(&g.clock);
            if mode == LockMode::Write {
                thr.clock.acquire(&g.read_clock);
            }
            drop(g);
            thr.refresh_fast_state();
        } else {
            drop(g);
        }
        mutexset::locked(thr, addr, mode);
        if first {
            let try_lock = flags.has(MutexFlags::TRY_LOCK);
            if flags.has(MutexFlags::PRE_LOCK_ON_POST_LOCK) && !try_lock {
                deadlock::before_lock(thr, s.serial, addr, pc);
            }
            deadlock::after_lock(thr, s.serial, addr, pc, try_lock);
        }
        report(bug, addr, pc);
    }
}

/// What an unlock finds on record.
enum Unlocking {
    /// The last hold goes: release.
    Last,
    /// A recursive hold remains.
    Inner,
    /// A misuse (reported if not yet broken); the unlock still releases, as the
    /// real unlock may well honour it.
    Misuse(Option<ReportKind>),
}

/// Publishes the current thread's clock into the mutex (`read` side: joined into
/// the readers' clock) unless synchronization is ignored.
fn release(thr: &mut ThreadCtx, g: &mut SyncState, mode: LockMode) {
    let c = thr;
    if c.ignore_sync > 0 {
        return;
    }
    match mode {
        LockMode::Write => c.clock.release_store(&mut g.clock),
        LockMode::Read => c.clock.release(&mut g.read_clock),
    }
}

/// The end of an unlock, after the record: the clock change takes effect, the
/// mutex leaves the held set (and the lock-order graph's held list with its last
/// hold), and a misuse is reported.
fn unlocked(thr: &mut ThreadCtx, addr: usize, pc: u64, serial: u64, outcome: Unlocking) {
    thr.refresh_fast_state();
    mutexset::unlocked(thr, addr);
    match outcome {
        Unlocking::Last => deadlock::before_unlock(serial),
        Unlocking::Inner => {}
        Unlocking::Misuse(bug) => {
            // The thread may still hold it in the graph's eyes (its hold was taken
            // over by a double lock, say): it does not any more.
            deadlock::before_unlock(serial);
            report(bug, addr, pc);
        }
    }
}

/// The current thread is about to write-unlock the mutex at `addr`, which it must
/// hold: `unlock of an unlocked mutex (or by a wrong thread)` otherwise. Returns
/// how many holds went (all of them with `RECURSIVE_UNLOCK`).
pub fn unlock(thr: &mut ThreadCtx, addr: usize, pc: u64, flags: MutexFlags) -> u32 {
    {
        let me = me(thr);
        let s = sync::get_or_create(addr);
        let mut g = s.lock();
        let (rec, outcome) = if g.owner != me || g.recursion == 0 {
            (
                0,
                Unlocking::Misuse(misuse(&mut g, ReportKind::MutexBadUnlock)),
            )
        } else {
            let rec = if flags.has(MutexFlags::RECURSIVE_UNLOCK) {
                g.recursion
            } else {
                1
            };
            g.recursion -= rec;
            if g.recursion == 0 {
                g.owner = 0;
                (rec, Unlocking::Last)
            } else {
                (rec, Unlocking::Inner)
            }
        };
        if !matches!(outcome, Unlocking::Inner) {
            release(thr, &mut g, LockMode::Write);
        }
        drop(g);
        unlocked(thr, addr, pc, s.serial, outcome);
        rec
    }
}

/// The current thread is about to read-unlock the mutex at `addr`: its clock
/// joins the readers' clock. Write-held on record: `read unlock of a write locked
/// mutex`.
pub fn read_unlock(thr: &mut ThreadCtx, addr: usize, pc: u64) {
    {
        let s = sync::get_or_create(addr);
        let mut g = s.lock();
        let outcome = if g.owner != 0 {
            Unlocking::Misuse(misuse(&mut g, ReportKind::MutexBadReadUnlock))
        } else {
            Unlocking::Last
        };
        release(thr, &mut g, LockMode::Read);
        drop(g);
        unlocked(thr, addr, pc, s.serial, outcome);
    }
}

/// The current thread is about to unlock the rwlock at `addr`, not saying how it
/// holds it (`pthread_rwlock_unlock`): a write unlock if it write-holds it on
/// record, a read unlock if nobody does, and `unlock of an unlocked mutex (or by a
/// wrong thread)` if another thread does (TSan's `MutexReadOrWriteUnlock`; the
/// foreign unlock still releases, as a write unlock).
pub fn read_or_write_unlock(thr: &mut ThreadCtx, addr: usize, pc: u64) {
    {
        let me = me(thr);
        let s = sync::get_or_create(addr);
        let mut g = s.lock();
        let (mode, outcome) = if g.owner == 0 {
            (LockMode::Read, Unlocking::Last)
        } else if g.owner == me {
            g.recursion = g.recursion.saturating_sub(1);
            if g.recursion == 0 {
                g.owner = 0;
                (LockMode::Write, Unlocking::Last)
            } else {
                (LockMode::Write, Unlocking::Inner)
            }
        } else {
            let bug = misuse(&mut g, ReportKind::MutexBadUnlock);
            (LockMode::Write, Unlocking::Misuse(bug))
        };
        if !matches!(outcome, Unlocking::Inner) {
            release(thr, &mut g, mode);
        }
        drop(g);
        unlocked(thr, addr, pc, s.serial, outcome);
    }
}

/// A robust mutex's owner died (`EOWNERDEAD`): nobody holds it any more.
pub fn repair(addr: usize) {
    let s = sync::get_or_create(addr);
    let mut g = s.lock();
    g.owner = 0;
    g.recursion = 0;
}

/// A lock call on `addr` failed with `EINVAL` (a destroyed or never initialized
/// mutex): `use of an invalid mutex (e.g. uninitialized or destroyed)`, reported
/// whatever `report_mutex_bugs` says, as TSan does.
pub fn invalid_access(addr: usize, pc: u64) {
    crate::report::report_mutex_misuse(ReportKind::MutexInvalidAccess, addr, pc, None);
}
