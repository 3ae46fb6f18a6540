//! Sets of held mutexes, interned so a history event names the locks held at the
//! access with one `u32` (0 = none). A report prints them as
//! `(mutexes: write M0, read M1)` and describes each mutex.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use umbra_sys::SpinMutex;

/// A held mutex: its address and whether it is held for writing.
pub type Held = (usize, bool);

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

/// The current thread now holds `addr`.
pub fn locked(addr: usize, write: bool) {
    let c = crate::thread::ctx();
    c.held.push((addr, write));
    c.mutexes = intern(&c.held);
}

/// The current thread released (one hold of) `addr`.
pub fn unlocked(addr: usize) {
    let c = crate::thread::ctx();
    if let Some(i) = c.held.iter().rposition(|&(a, _)| a == addr) {
        c.held.remove(i);
        c.mutexes = intern(&c.held);
    }
}

/// The mutex at `addr` is destroyed: the current thread holds it no more, however
/// many times it did.
pub fn unlocked_all(addr: usize) {
    let c = crate::thread::ctx();
    if c.held.iter().any(|&(a, _)| a == addr) {
        c.held.retain(|&(a, _)| a != addr);
        c.mutexes = intern(&c.held);
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
