//! Sync objects: the clock of every address used for synchronization (mutexes,
//! atomics, semaphores, barriers, file descriptors), found through the shadow meta
//! word of the address.
//!
//! The meta word holds an index into a table of `SyncVar`s (0 = none), created on
//! first release with a CAS so lookups never lock. Each `SyncVar` has its own lock;
//! an atomic operation that moves clocks performs the memory operation itself under
//! that lock, so the clock it publishes or reads matches the value it wrote or read.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use umbra_clocks::{ReleaseSequences, VectorClock};
use umbra_sys::{SpinGuard, SpinMutex};

use crate::thread::ThreadCtx;

pub struct SyncState {
    pub clock: VectorClock,
    /// Readers' releases (rwlocks).
    pub read_clock: VectorClock,
    /// For atomic locations: whose release sequences `clock` carries.
    pub seqs: ReleaseSequences,
    /// Where the object was created (a mutex's init or first lock): return
    /// address and depot stack id; 0 = unknown.
    pub created_pc: u64,
    pub created_stack: u32,
    /// A mutex's write holder on record: its thread id + 1; 0 = none.
    pub owner: u32,
    /// How many times `owner` holds it (more than once: a recursive mutex).
    pub recursion: u32,
    /// A misuse of this mutex has been reported: later ones are not (TSan's
    /// `MutexFlagBroken`).
    pub broken: bool,
    /// Where the mutex's write owner on record took it: return address and depot
    /// stack id.
    pub last_lock_pc: u64,
    pub last_lock_stack: u32,
    /// The creation flags a mutex annotation gave it (`crate::mutex::MutexFlags`).
    pub mutex_flags: u32,
}

pub struct SyncVar {
    pub state: SpinMutex<SyncState>,
    /// Sequence count of clock changes: odd while an operation that may change the
    /// clock is under way (set before its memory operation, under the lock), even
    /// otherwise. A reader that saw the same even count before and after its load,
    /// and has already taken the clock of that count, needs neither lock nor join.
    pub version: core::sync::atomic::AtomicU64,
    /// Names this object for as long as it exists and never another one (a new
    /// object at the same address gets a new serial): the lock-order graph's key.
    pub serial: u64,
}

const TABLE_LEN: usize = 1 << 26;

/// index → `*mut SyncVar`; a NORESERVE mapping, touched as objects appear.
static TABLE: AtomicUsize = AtomicUsize::new(0);
/// Table indexes: the highest handed out, and those given back.
struct Indexes {
    high: u32,
    free: Vec<u32>,
}

static ALLOC: SpinMutex<Indexes> = SpinMutex::new(Indexes {
    high: 0,
    free: Vec::new(),
});

fn table() -> *const AtomicUsize {
    // Acquire: pairs with the Release publishing the mapping.
    let t = TABLE.load(Ordering::Acquire);
    if t != 0 {
        return t as *const AtomicUsize;
    }
    let p = umbra_sys::mmap_anon(TABLE_LEN * 8, true).unwrap_or_else(|| {
        umbra_sys::internal_error(format_args!("cannot map the sync object table"))
    }) as usize;
    match TABLE.compare_exchange(0, p, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => p as *const AtomicUsize,
        Err(other) => {
            // SAFETY: our mapping was never published.
            unsafe { umbra_sys::munmap(p as *mut u8, TABLE_LEN * 8) };
            other as *const AtomicUsize
        }
    }
}

fn slot(i: u32) -> &'static AtomicUsize {
    // SAFETY: indexes handed out are < TABLE_LEN; the table is never unmapped.
    unsafe { &*table().add(i as usize) }
}

/// The sync object at `addr`, if one exists.
pub fn find(addr: usize) -> Option<&'static SyncVar> {
    let m = umbra_shadow::meta_word(addr);
    // Acquire: pairs with the Release in `get_or_create`, making the SyncVar's
    // initialization visible.
    let i = m.load(Ordering::Acquire);
    if i == 0 {
        return None;
    }
    let p = slot(i).load(Ordering::Acquire);
    // SAFETY: published SyncVars live until `reset_range` frees them.
    (p != 0).then(|| unsafe { &*(p as *const SyncVar) })
}

/// The sync object at `addr`, created if needed.
pub fn get_or_create(addr: usize) -> &'static SyncVar {
    if let Some(s) = find(addr) {
        return s;
    }
    let i = {
        let mut a = ALLOC.lock();
        match a.free.pop() {
            Some(i) => i,
            None => {
                a.high += 1;
                if a.high as usize >= TABLE_LEN {
                    umbra_sys::internal_error(format_args!("more than {} sync objects", TABLE_LEN));
                }
                a.high
            }
        }
    };
    // Versions are unique across sync objects (each starts in its own range of
    // 2^32), so a thread's cache of taken versions cannot mistake a new object at
    // a reused address for the old one.
    static NEXT_BASE: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(1 << 32);
    let base = NEXT_BASE.fetch_add(1 << 32, Ordering::Relaxed);
    let sv = Box::into_raw(Box::new(SyncVar {
        version: core::sync::atomic::AtomicU64::new(base),
        serial: base >> 32,
        state: SpinMutex::new(SyncState {
            clock: VectorClock::new(),
            read_clock: VectorClock::new(),
            seqs: ReleaseSequences::default(),
            created_pc: 0,
            created_stack: 0,
            owner: 0,
            recursion: 0,
            broken: false,
            last_lock_pc: 0,
            last_lock_stack: 0,
            mutex_flags: 0,
        }),
    }));
    // Release: the SyncVar is initialized before its index becomes reachable.
    slot(i).store(sv as usize, Ordering::Release);
    let m = umbra_shadow::meta_word_for_create(addr);
    match m.compare_exchange(0, i, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => {
            // SAFETY: just published, never freed while reachable.
            unsafe { &*sv }
        }
        Err(_) => {
            // Another thread created it first: give ours back.
            slot(i).store(0, Ordering::Relaxed);
            // SAFETY: ours, unpublished.
            drop(unsafe { Box::from_raw(sv) });
            ALLOC.lock().free.push(i);
            find(addr).expect("sync object vanished")
        }
    }
}

impl SyncVar {
    pub fn lock(&self) -> SpinGuard<'_, SyncState> {
        self.state.lock()
    }
}

/// Forgets the sync objects in `[addr, addr+size)` (memory freed or unmapped, or a
/// mutex re-initialized). Visits only the meta pages that ever held a sync object,
/// so unmapping a 64 GiB reservation costs what was synchronized on inside it.
pub fn reset_range(addr: usize, size: usize) {
    umbra_shadow::take_meta_range(addr, size, |i| {
        let p = slot(i).swap(0, Ordering::AcqRel);
        if p != 0 {
            // Not freed: a racing thread may still hold a reference (freeing a sync
            // object in use is a bug of the program, and reading a stale clock is
            // harmless). Clear its clocks and leak the shell.
            // SAFETY: published SyncVar.
            let sv = unsafe { &*(p as *const SyncVar) };
            // The clocks' memory is given back too (assigning drops it): a program
            // creating and dropping many objects while thousands of threads exist
            // would otherwise keep a dense clock per object.
            let mut g = sv.lock();
            g.clock = VectorClock::new();
            g.read_clock = VectorClock::new();
            g.seqs = ReleaseSequences::default();
        }
    });
}

/// Release (join) the thread's clock into the object at `addr`.
pub fn release(thr: &mut ThreadCtx, addr: usize) {
    if thr.ignore_sync > 0 {
        return;
    }
    let s = get_or_create(addr);
    let mut g = s.lock();
    thr.clock.release(&mut g.clock);
    drop(g);
    thr.refresh_fast_state();
}

/// Acquire the clock of the object at `addr`, if it exists.
pub fn acquire(thr: &mut ThreadCtx, addr: usize) {
    if thr.ignore_sync > 0 {
        return;
    }
    if let Some(s) = find(addr) {
        let g = s.lock();
        thr.clock.acquire(&g.clock);
        drop(g);
        thr.refresh_fast_state();
    }
}

/// Sync objects ever given a table index (for `verbosity` statistics).
pub fn created() -> u32 {
    ALLOC.lock().high
}

pub fn fork_lock() {
    ALLOC.lock_raw();
}

/// # Safety
/// After [`fork_lock`], in parent or child.
pub unsafe fn fork_unlock() {
    // SAFETY: taken by fork_lock.
    unsafe { ALLOC.force_unlock() };
}
