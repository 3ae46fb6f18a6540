//! File descriptors as TSan models them (compiler-rt's `tsan_fd.cpp`): each fd has
//! a descriptor word whose shadow catches races between the fd's use and its
//! creation or `close` (a use reads the word, `close` writes it, a creation
//! imitates a write), and a reference-counted sync object that its I/O releases
//! into (writes) and acquires from (reads). Both ends of a pipe or socketpair,
//! and an fd and its duplicates, share one sync object; regular files share one
//! for all files, sockets one for all sockets, and `connect` happens before the
//! `accept` that returns the connection. An fd added to an epoll set also
//! releases into the epoll fd's object, so `epoll_wait` acquires what the writes
//! it reports released; so does every fd sharing the added fd's own object (the
//! write end of a pipe whose read end is in the set: TSan ties only the fd added). `io_sync` selects none of this (0), the model (1) or one
//! object for all I/O (2). A race on a descriptor word is reported with the
//! location `file descriptor N created by ...` (or `destroyed by`, after a close).
//!
//! All of this lives in two NORESERVE mappings: the descriptor words (whose
//! shadow is what races are found on) and the metadata beside them, so
//! report code can tell from an address alone that it is an fd's word.
//!
//! The interceptors' entry points take their `ScopedInterceptor` and run their
//! work through its `rt_global` (nothing when the runtime, or libc on its behalf,
//! is the caller), without the thread's context held: the descriptor-word
//! accesses they check take it in `access_slow`, the clock operations and the
//! creator's id and stack through `with_thread`, each for its own duration.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};

use umbra_sys::SpinMutex;

use crate::entry::AccessKind;
use crate::intercept::scope::ScopedInterceptor;
use crate::thread::with_thread;

/// fds at or above this are ignored (TSan: 1M, `bogusfd`).
const MAX_FD: usize = 1 << 20;
/// Sync-object slots: the four shared ones, then one per pipe, epoll, eventfd...
const MAX_SYNCS: usize = 1 << 21;

/// Shared sync objects, by slot: all I/O under `io_sync=2`, regular files,
/// sockets, and `connect` → `accept`.
const GLOBAL_SYNC: usize = 0;
const FILE_SYNC: usize = 1;
const SOCKET_SYNC: usize = 2;
const CONNECT_SYNC: usize = 3;
const SHARED_SYNCS: usize = 4;
/// Reference count of the shared objects: never freed.
const PINNED: u64 = u64::MAX;

/// Per-fd metadata (the descriptor word is kept apart, in `WORDS`).
struct FdMeta {
    /// Address of the fd's sync object, 0 = none (signalfd, inotify, unknown fds).
    sync: AtomicUsize,
    /// Address of the sync object of the epoll fd this fd was added to, 0 = none.
    aux_sync: AtomicUsize,
    /// Thread id + 1 of the creator (or closer); 0 = never seen.
    tid: AtomicU32,
    /// Depot stack id of the creation (or close), below `pc`.
    stack: AtomicU32,
    pc: AtomicU64,
    /// `FdState` of the fd as last seen.
    state: AtomicU32,
}

/// What the runtime last saw happen to an fd.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
enum FdState {
    Open = 0,
    Closed = 1,
}

/// The kind of sync object a new fd gets.
#[derive(Clone, Copy)]
pub enum FdKind {
    /// open, creat, fopen: the object all regular files share.
    File,
    /// socket, connect, accept: the object all sockets share.
    Socket,
    /// eventfd, epoll, an fd received over a socket: an object of its own.
    Own,
    /// signalfd, inotify, timerfd: no synchronization.
    Unsynced,
}

/// Whether closing or replacing an fd counts as a write of its descriptor word
/// (`close`) or only a read (`dup2`/`dup3` over an open fd: programs do this to
/// fds other threads still use, e.g. `/dev/null` over stdout).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum CloseAccess {
    Write,
    Read,
}

static WORDS: AtomicUsize = AtomicUsize::new(0);
static META: AtomicUsize = AtomicUsize::new(0);
static SYNCS: AtomicUsize = AtomicUsize::new(0);
/// Per sync slot: the epoll object that fds sharing the slot's object also
/// release into (0 = none); holds a reference to it.
static SLOT_AUX: AtomicUsize = AtomicUsize::new(0);
/// One past the highest fd ever described (the child of a fork resets up to it).
static HIGHEST: AtomicUsize = AtomicUsize::new(0);
/// (next never-used slot, freed slots).
static SYNC_SLOTS: SpinMutex<(usize, Vec<usize>)> = SpinMutex::new((SHARED_SYNCS, Vec::new()));

/// A lazily mapped NORESERVE region of `len` bytes, published in `slot`.
fn region(slot: &AtomicUsize, len: usize) -> usize {
    // Acquire: pairs with the AcqRel publication below.
    let r = slot.load(Ordering::Acquire);
    if r != 0 {
        return r;
    }
    let p = umbra_sys::mmap_anon(len, true).unwrap_or_else(|| {
        umbra_sys::internal_error(format_args!("cannot map the file descriptor table"))
    }) as usize;
    // AcqRel: publishes the (zeroed) mapping; on failure takes the winner's.
    match slot.compare_exchange(0, p, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => p,
        Err(other) => {
            // SAFETY: our mapping was never published.
            unsafe { umbra_sys::munmap(p as *mut u8, len) };
            other
        }
    }
}

fn syncs() -> usize {
    let first = SYNCS.load(Ordering::Acquire) == 0;
    let base = region(&SYNCS, MAX_SYNCS * 8);
    if first {
        for s in [GLOBAL_SYNC, FILE_SYNC, SOCKET_SYNC, CONNECT_SYNC] {
            // Relaxed: idempotent stores of the same value by whoever comes first.
            refcount(base + s * 8).store(PINNED, Ordering::Relaxed);
        }
    }
    base
}

/// The reference count kept in a sync slot's own word (the sync object is found
/// through the slot's address, not its contents).
fn refcount(addr: usize) -> &'static AtomicU64 {
    // SAFETY: `addr` is an 8-byte slot of the SYNCS mapping, which is never unmapped.
    unsafe { &*(addr as *const AtomicU64) }
}

/// The descriptor word of `fd`, or `None` for an fd TSan would call bogus.
fn word(fd: i32) -> Option<usize> {
    (fd >= 0 && (fd as usize) < MAX_FD).then(|| region(&WORDS, MAX_FD * 8) + fd as usize * 8)
}

fn meta(fd: i32) -> &'static FdMeta {
    let base = region(&META, MAX_FD * core::mem::size_of::<FdMeta>());
    // SAFETY: callers checked `fd` through `word`; zeroed memory is a valid FdMeta
    // (all atomics) and the mapping lives forever.
    unsafe { &*((base as *const FdMeta).add(fd as usize)) }
}

fn shared(slot: usize) -> usize {
    syncs() + slot * 8
}

/// A new sync object with one reference.
fn alloc_sync() -> usize {
    let slot = {
        let mut s = SYNC_SLOTS.lock();
        match s.1.pop() {
            Some(i) => i,
            None if s.0 < MAX_SYNCS => {
                s.0 += 1;
                s.0 - 1
            }
            // Out of slots (two million pipes open at once): share the global one.
            None => return shared(GLOBAL_SYNC),
        }
    };
    let addr = syncs() + slot * 8;
    // Relaxed: the slot is ours alone until published through an FdMeta.
    refcount(addr).store(1, Ordering::Relaxed);
    addr
}

/// The epoll tie of the object at `addr`, if it is one of its own (a pipe's,
/// an eventfd's), not a shared one.
fn slot_aux(addr: usize) -> Option<&'static AtomicUsize> {
    let base = syncs();
    if addr < base + SHARED_SYNCS * 8 || addr >= base + MAX_SYNCS * 8 {
        return None;
    }
    let aux = region(&SLOT_AUX, MAX_SYNCS * 8);
    // SAFETY: inside the SLOT_AUX mapping (one word per slot), never unmapped.
    Some(unsafe { &*((aux + (addr - base)) as *const AtomicUsize) })
}

fn add_ref(addr: usize) -> usize {
    // Relaxed: as for any reference count increment, the caller already holds one.
    if addr != 0 && refcount(addr).load(Ordering::Relaxed) != PINNED {
        refcount(addr).fetch_add(1, Ordering::Relaxed);
    }
    addr
}

fn drop_ref(addr: usize) {
    // Relaxed load: PINNED never changes. AcqRel decrement: the last owner sees
    // every other owner's use before it frees the object.
    if addr != 0
        && refcount(addr).load(Ordering::Relaxed) != PINNED
        && refcount(addr).fetch_sub(1, Ordering::AcqRel) == 1
    {
        crate::sync::reset_range(addr, 8);
        if let Some(aux) = slot_aux(addr) {
            // AcqRel: see `added_to_epoll`.
            drop_ref(aux.swap(0, Ordering::AcqRel));
        }
        SYNC_SLOTS.lock().1.push((addr - syncs()) / 8);
    }
}

fn io_sync() -> u32 {
    crate::rt::OPTIONS.lock().io_sync
}

fn note_actor(m: &FdMeta, pc: u64, state: FdState) {
    // Relaxed (all four): report-only data; a report racing with the update may
    // show either actor, as under TSan.
    // Callers run outside any `Rt` scope (see `modelled`), so the thread's context
    // is free to take here.
    if let Some((tid, stack)) = with_thread(|thr| (thr.tid, thr.stack_id())) {
        m.tid.store(tid + 1, Ordering::Relaxed);
        m.stack.store(stack, Ordering::Relaxed);
    }
    m.pc.store(pc, Ordering::Relaxed);
    m.state.store(state as u32, Ordering::Relaxed);
}

/// Gives `fd` the sync object `sync` (one reference, handed over) and records its
/// creation at `pc`; the descriptor word is written (a creation) or, for a
/// `dup2`/`dup3` target, read.
fn init(fd: i32, sync: usize, pc: u64, access: CloseAccess) {
    let Some(w) = word(fd) else {
        drop_ref(sync);
        return;
    };
    // Relaxed: HIGHEST only bounds the fork-child reset.
    HIGHEST.fetch_max(fd as usize + 1, Ordering::Relaxed);
    let m = meta(fd);
    // AcqRel swaps: an fd whose close the runtime never saw (libc's own closes)
    // gives its references back here.
    drop_ref(m.aux_sync.swap(0, Ordering::AcqRel));
    let sync = match io_sync() {
        0 => {
            drop_ref(sync);
            0
        }
        1 => sync,
        _ => {
            drop_ref(sync);
            shared(GLOBAL_SYNC)
        }
    };
    drop_ref(m.sync.swap(sync, Ordering::AcqRel));
    note_actor(m, pc, FdState::Open);
    match access {
        CloseAccess::Write => {
            crate::rt::reset_shadow(w, 8, 0);
            crate::entry::access_any(w, 8, AccessKind::Write, pc);
        }
        CloseAccess::Read => crate::entry::access_any(w, 8, AccessKind::Read, pc),
    }
}

/// A use of `fd` that neither reads nor writes data (bind, listen, epoll_ctl).
pub fn access(icpt: &ScopedInterceptor, fd: i32, pc: u64) {
    icpt.rt_global(|| {
        if let Some(w) = word(fd) {
            crate::entry::access_any(w, 8, AccessKind::Read, pc);
        }
    });
}

/// Data read from `fd`: what its writers released happens before.
pub fn acquire(icpt: &ScopedInterceptor, fd: i32, pc: u64) {
    icpt.rt_global(|| {
        let Some(w) = word(fd) else { return };
        crate::entry::access_any(w, 8, AccessKind::Read, pc);
        // Acquire: pairs with the AcqRel swap that installed the object.
        let s = meta(fd).sync.load(Ordering::Acquire);
        if s != 0 {
            with_thread(|thr| crate::sync::acquire(thr, s));
        }
    });
}

/// Data written to `fd`: released to its readers (and to the epoll set it is in).
pub fn release(icpt: &ScopedInterceptor, fd: i32, pc: u64) {
    icpt.rt_global(|| {
        let Some(w) = word(fd) else { return };
        crate::entry::access_any(w, 8, AccessKind::Read, pc);
        let m = meta(fd);
        // Acquire (all): pair with the AcqRel swaps and CASes that installed the
        // objects.
        let sync = m.sync.load(Ordering::Acquire);
        let tied = slot_aux(sync).map_or(0, |a| a.load(Ordering::Acquire));
        let aux = m.aux_sync.load(Ordering::Acquire);
        for s in [sync, aux, if tied != aux { tied } else { 0 }] {
            if s != 0 {
                with_thread(|thr| crate::sync::release(thr, s));
            }
        }
    });
}

fn close_in_rt(fd: i32, pc: u64, access: CloseAccess) {
    let Some(w) = word(fd) else { return };
    let kind = if access == CloseAccess::Write {
        AccessKind::Write
    } else {
        AccessKind::Read
    };
    crate::entry::access_any(w, 8, kind, pc);
    // Forgotten: a later fd with this number (whose creation the runtime may not
    // see) must not race with this close.
    crate::rt::reset_shadow(w, 8, 0);
    let m = meta(fd);
    // AcqRel: see `init`.
    drop_ref(m.sync.swap(0, Ordering::AcqRel));
    drop_ref(m.aux_sync.swap(0, Ordering::AcqRel));
    note_actor(m, pc, FdState::Closed);
}

/// `fd` is about to be closed.
pub fn close(icpt: &ScopedInterceptor, fd: i32, pc: u64) {
    icpt.rt_global(|| close_in_rt(fd, pc, CloseAccess::Write));
}

/// A new fd of `kind`.
pub fn created(icpt: &ScopedInterceptor, fd: i32, kind: FdKind, pc: u64) {
    icpt.rt_global(|| {
        let sync = match kind {
            FdKind::File => shared(FILE_SYNC),
            FdKind::Socket => shared(SOCKET_SYNC),
            FdKind::Own => alloc_sync(),
            FdKind::Unsynced => 0,
        };
        init(fd, sync, pc, CloseAccess::Write);
    });
}

/// `a` and `b` are the two ends of a new pipe or socketpair: one object.
pub fn pair_created(icpt: &ScopedInterceptor, a: i32, b: i32, pc: u64) {
    icpt.rt_global(|| {
        let s = alloc_sync();
        init(a, add_ref(s), pc, CloseAccess::Write);
        init(b, add_ref(s), pc, CloseAccess::Write);
        drop_ref(s);
    });
}

/// `newfd` is now a duplicate of `oldfd` (dup, dup2, dup3, fcntl F_DUPFD): it
/// shares its sync object. `replace` says how an fd that `newfd` replaced counts.
pub fn duplicated(icpt: &ScopedInterceptor, oldfd: i32, newfd: i32, replace: CloseAccess, pc: u64) {
    icpt.rt_global(|| {
        let (Some(ow), Some(_)) = (word(oldfd), word(newfd)) else {
            return;
        };
        crate::entry::access_any(ow, 8, AccessKind::Read, pc);
        close_in_rt(newfd, pc, replace);
        // Acquire: pairs with the AcqRel swap that installed the object.
        let s = add_ref(meta(oldfd).sync.load(Ordering::Acquire));
        init(newfd, s, pc, replace);
    });
}

/// `connect` on `fd` is starting: it happens before the `accept` it completes.
pub fn connecting(icpt: &ScopedInterceptor, fd: i32) {
    icpt.rt_global(|| {
        if word(fd).is_some() {
            with_thread(|thr| crate::sync::release(thr, shared(CONNECT_SYNC)));
        }
    });
}

/// `accept` on `fd` returned `newfd`.
pub fn accepted(icpt: &ScopedInterceptor, fd: i32, newfd: i32, pc: u64) {
    icpt.rt_global(|| {
        if word(fd).is_none() {
            return;
        }
        with_thread(|thr| crate::sync::acquire(thr, shared(CONNECT_SYNC)));
        init(newfd, shared(SOCKET_SYNC), pc, CloseAccess::Write);
    });
}

/// `fd` was added to the epoll set `epfd`: its writes, and those of every fd
/// sharing its own object, also release into `epfd`'s object. Only the first
/// epoll set an fd (or object) joins counts (as in TSan).
pub fn added_to_epoll(icpt: &ScopedInterceptor, epfd: i32, fd: i32) {
    icpt.rt_global(|| {
        if word(epfd).is_none() || word(fd).is_none() {
            return;
        }
        // Acquire: pairs with the AcqRel swap that installed the epoll object.
        let s = meta(epfd).sync.load(Ordering::Acquire);
        if s == 0 {
            return;
        }
        let m = meta(fd);
        // Acquire: as above, for the fd's own object.
        let own = slot_aux(m.sync.load(Ordering::Acquire));
        for tie in [Some(&m.aux_sync), own].into_iter().flatten() {
            // Relaxed: a fast check; the CAS below decides.
            if tie.load(Ordering::Relaxed) != 0 {
                continue;
            }
            add_ref(s);
            // AcqRel: publishes the reference taken above to `release`.
            if tie
                .compare_exchange(0, s, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
            {
                drop_ref(s);
            }
        }
    });
}

/// In the child of a fork: every descriptor word is forgotten (the child closes
/// fds the parent's threads used, which is no race).
pub fn forget_all_after_fork() {
    let n = HIGHEST.load(Ordering::Relaxed);
    if n > 0 {
        crate::rt::reset_shadow(region(&WORDS, MAX_FD * 8), n * 8, 0);
    }
}

/// The report location of `addr` if it is an fd's descriptor word: the fd, the
/// thread that created (or closed) it, that stack, and whether it was closed.
pub fn location_of(addr: usize) -> Option<(i32, u32, Vec<u64>, bool)> {
    // Acquire: as in `region`.
    let base = WORDS.load(Ordering::Acquire);
    if base == 0 || addr < base || addr >= base + MAX_FD * 8 {
        return None;
    }
    let fd = ((addr - base) / 8) as i32;
    let m = meta(fd);
    // Relaxed: report-only data (see `note_actor`).
    let tid = m.tid.load(Ordering::Relaxed);
    let mut stack = Vec::new();
    let pc = m.pc.load(Ordering::Relaxed);
    if pc != 0 {
        stack.push(pc);
        stack.extend(crate::depot::DEPOT.unwind(m.stack.load(Ordering::Relaxed)));
    }
    let closed = m.state.load(Ordering::Relaxed) == FdState::Closed as u32;
    Some((fd, tid.saturating_sub(1), stack, closed))
}

pub fn fork_lock() {
    SYNC_SLOTS.lock_raw();
}

/// # Safety
/// After [`fork_lock`], in parent or child.
pub unsafe fn fork_unlock() {
    // SAFETY: taken by fork_lock.
    unsafe { SYNC_SLOTS.force_unlock() };
}
