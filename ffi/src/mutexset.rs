//! Sets of held mutexes, interned so a history event names the locks held at the
//! access with one `u32` (0 = none). A report prints them as
//! `(mutexes: write M0, read M1)` and describes each mutex.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use umbra_sys::SpinMutex;

use crate::thread::ThreadCtx;

/// How a mutex is held.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum LockMode {
    Read,
    Write,
}

/// A held mutex: its address and how it is held.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct Held {
    pub addr: usize,
    pub mode: LockMode,
}

struct Table {
    ids: BTreeMap<Vec<Held>, u32>,
    sets: Vec<Vec<Held>>,
}

static TABLE: SpinMutex<Table> = SpinMutex::new(Table {
    ids: BTreeMap::new(),
    sets: Vec::new(),
});

/// The id of `set` (0 for the empty set).
pub fn intern(set: &[Held]) -> u32 {
    if set.is_empty() {
        return 0;
    }
    let mut t = TABLE.lock();
    if let Some(&id) = t.ids.get(set) {
        return id;
    }
    t.sets.push(set.to_vec());
    let id = t.sets.len() as u32;
    t.ids.insert(set.to_vec(), id);
    id
}

/// The set with id `id`.
pub fn get(id: u32) -> Vec<Held> {
    if id == 0 {
        return Vec::new();
    }
    TABLE
        .lock()
        .sets
        .get(id as usize - 1)
        .cloned()
        .unwrap_or_default()
}

/// The thread now holds `addr`.
pub fn locked(thr: &mut ThreadCtx, addr: usize, mode: LockMode) {
    thr.held.push(Held { addr, mode });
    thr.mutexes = intern(&thr.held);
}

/// The thread released (one hold of) `addr`.
pub fn unlocked(thr: &mut ThreadCtx, addr: usize) {
    if let Some(i) = thr.held.iter().rposition(|h| h.addr == addr) {
        thr.held.remove(i);
        thr.mutexes = intern(&thr.held);
    }
}

/// The mutex at `addr` is destroyed: the current thread holds it no more, however
/// many times it did.
pub fn unlocked_all(thr: &mut ThreadCtx, addr: usize) {
    if thr.held.iter().any(|h| h.addr == addr) {
        thr.held.retain(|h| h.addr != addr);
        thr.mutexes = intern(&thr.held);
    }
}

pub fn fork_lock() {
    TABLE.lock_raw();
}

/// # Safety
/// After [`fork_lock`], in parent or child.
pub unsafe fn fork_unlock() {
    // SAFETY: taken by fork_lock.
    unsafe { TABLE.force_unlock() };
}
