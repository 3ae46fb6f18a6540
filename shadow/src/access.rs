//! The check-and-update of one access against the shadow of its word.
//!
//! A word's shadow is a set of access records. A new access `cur`:
//! 1. **races** with a record `old` iff their byte masks overlap, they come from
//!    different slots, at least one is a write, not both are atomic, and `old` does
//!    not happen before `cur` (`old.epoch > C_cur[old.sid]`);
//! 2. **makes `old` redundant** iff `old` happens before `cur`, `cur` covers all of
//!    `old`'s bytes, `cur` conflicts with everything `old` conflicts with (a write
//!    covers a read, a plain access covers an atomic one). Any later access racing
//!    with `old` then races with `cur` too, so dropping `old` loses no race
//!    (FastTrack's argument, made byte-precise);
//! 3. **is itself redundant** if a record of the same slot and epoch already covers
//!    it in the same sense.
//!
//! The new set is the old one minus redundant records plus `cur`. Two records fit
//! inline in the word's [`CellPair`] and are swapped in with one 16-byte CAS; larger
//! sets (several concurrent readers, threads writing disjoint bytes of one word)
//! move to the [`SpillTable`] under a lock, and the pair holds a spill marker. No
//! record is ever evicted, so no race is ever missed for lack of room (TSan drops
//! records when its four slots are full).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use umbra_clocks::VectorClock;
use umbra_sys::SpinMutex;

use crate::cell::{CellPair, ShadowCell};

/// What a checked access found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessOutcome {
    /// No race (the access is recorded).
    Ok,
    /// The access races with `prev` (a freed marker means use after a free that
    /// did not happen before). The access is recorded all the same.
    Race { prev: ShadowCell },
}

#[inline]
fn happens_before(old: ShadowCell, cur: ShadowCell, clock: &VectorClock) -> bool {
    old.sid() == cur.sid() || old.epoch() <= clock.get(old.sid())
}

/// Does `old` (a record or freed marker) race with `cur`?
#[inline]
pub fn races(old: ShadowCell, cur: ShadowCell, clock: &VectorClock) -> bool {
    let o = old.effective();
    o.mask() & cur.mask() != 0
        && (o.sid() != cur.sid() || old.is_freed())
        && !(o.is_read() && cur.is_read())
        && !(o.is_atomic() && cur.is_atomic())
        && !happens_before(old, cur, clock)
}

/// `cur` (which happens after `old` if `hb`) makes `old` redundant.
#[inline]
fn covers(cur: ShadowCell, old: ShadowCell, hb: bool) -> bool {
    let o = old.effective();
    hb && o.mask() & !cur.mask() == 0
        && (cur.is_write() || o.is_read())
        && (!cur.is_atomic() || o.is_atomic())
}

/// `old` already records everything `cur` would.
#[inline]
fn already_recorded(old: ShadowCell, cur: ShadowCell) -> bool {
    old.is_access()
        && old.sid() == cur.sid()
        && old.epoch() == cur.epoch()
        && cur.mask() & !old.mask() == 0
        && (old.is_write() || cur.is_read())
        && (!old.is_atomic() || cur.is_atomic())
}

/// Checks `cur` against `records` and computes the new record set into `out`.
/// Returns the first racing record.
fn merge(
    records: &[ShadowCell],
    cur: ShadowCell,
    clock: &VectorClock,
    out: &mut Vec<ShadowCell>,
) -> Option<ShadowCell> {
    let mut race = None;
    let mut recorded = false;
    out.clear();
    for &old in records {
        if old.is_empty() {
            continue;
        }
        if race.is_none() && races(old, cur, clock) {
            race = Some(old);
        }
        if already_recorded(old, cur) {
            // Keep `old`: it is the record of `cur`.
            recorded = true;
            out.push(old);
        } else if !covers(cur, old, happens_before(old, cur, clock)) {
            out.push(old);
        }
    }
    if !recorded {
        out.push(cur);
    }
    race
}

/// Records that overflowed a word's pair, keyed by word address. Sharded to keep
/// unrelated words from contending.
pub struct SpillTable {
    shards: [SpinMutex<BTreeMap<usize, Vec<ShadowCell>>>; 64],
}

impl SpillTable {
    pub const fn new() -> Self {
        SpillTable {
            shards: [const { SpinMutex::new(BTreeMap::new()) }; 64],
        }
    }

    fn shard(&self, word: usize) -> &SpinMutex<BTreeMap<usize, Vec<ShadowCell>>> {
        &self.shards[(word >> 3).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58]
    }

    /// Number of words currently spilled (for statistics and tests).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All records of a word, inline or spilled (for reports and tests).
    pub fn records(&self, word: usize, pair: &CellPair) -> Vec<ShadowCell> {
        let (c0, c1) = load(pair);
        if c0.is_spill_marker() {
            let g = self.shard(word).lock();
            return g.get(&word).cloned().unwrap_or_default();
        }
        [c0, c1].into_iter().filter(|c| !c.is_empty()).collect()
    }

    /// Takes every shard lock (before `fork`), in a fixed order.
    pub fn lock_all(&self) {
        for s in &self.shards {
            s.lock_raw();
        }
    }

    /// Releases what [`SpillTable::lock_all`] took.
    ///
    /// # Safety
    /// As [`umbra_sys::SpinMutex::force_unlock`].
    pub unsafe fn unlock_all(&self) {
        for s in &self.shards {
            // SAFETY: forwarded contract.
            unsafe { s.force_unlock() };
        }
    }

    /// Forgets the spilled records of every word in `[lo, hi)` (memory reset).
    pub fn forget_range(&self, lo: usize, hi: usize) {
        if hi - lo <= 8 {
            return self.forget(lo & !7);
        }
        for s in &self.shards {
            let mut g = s.lock();
            let keys: Vec<usize> = g.range(lo..hi).map(|(&k, _)| k).collect();
            for k in keys {
                g.remove(&k);
            }
        }
    }

    /// Forgets the spilled records of `word` (its memory was reset).
    pub fn forget(&self, word: usize) {
        self.shard(word).lock().remove(&word);
    }
}

impl Default for SpillTable {
    fn default() -> Self {
        Self::new()
    }
}

#[inline(always)]
pub fn load(pair: &CellPair) -> (ShadowCell, ShadowCell) {
    // Relaxed: shadow needs atomicity per cell; a torn pair is caught by the CAS.
    (
        ShadowCell(pair.cells[0].load(Ordering::Relaxed)),
        ShadowCell(pair.cells[1].load(Ordering::Relaxed)),
    )
}

#[inline]
fn cas_pair(pair: &CellPair, old: (ShadowCell, ShadowCell), new: (ShadowCell, ShadowCell)) -> bool {
    let p = &pair.cells as *const [AtomicU64; 2] as *mut u128;
    let o = old.0 .0 as u128 | (old.1 .0 as u128) << 64;
    let n = new.0 .0 as u128 | (new.1 .0 as u128) << 64;
    // SAFETY: `p` points to 16 bytes of atomics aligned to 16 (CellPair is
    // align(16)); cmpxchg16b is available on every x86_64 CPU this runtime accepts
    // (checked at startup). Relaxed: only atomicity of the pair matters.
    unsafe { cas16(p, o, n) }
}

/// `lock cmpxchg16b`: compares the 16 bytes at `p` with `old` and stores `new` if
/// they are equal; returns whether it did.
///
/// # Safety
/// `p` must be valid for reads and writes of 16 bytes and 16-byte aligned.
#[inline]
unsafe fn cas16(p: *mut u128, old: u128, new: u128) -> bool {
    let ok: u64;
    // SAFETY: per the contract on `p`. rbx is reserved by LLVM, so the low half
    // of `new` is swapped into it around the instruction and restored after; all
    // other operands are pinned to registers so none can be allocated to rbx.
    unsafe {
        core::arch::asm!(
            "xor r9d, r9d",
            "xchg r8, rbx",
            "lock cmpxchg16b xmmword ptr [rsi]",
            "mov rbx, r8",
            "sete r9b",
            in("rsi") p,
            inout("r8") new as u64 => _,
            out("r9") ok,
            inout("rax") old as u64 => _,
            inout("rdx") (old >> 64) as u64 => _,
            in("rcx") (new >> 64) as u64,
            options(nostack),
        );
    }
    ok != 0
}

/// Checks `cur` against the shadow of word `word` and records it.
///
/// `clock` is the accessing thread's vector clock; `cur` its cell for this access
/// (slot, current epoch, mask, read/atomic flags). Lock-free unless the word has,
/// or now needs, more than two records.
pub fn check_and_update(
    spill: &SpillTable,
    word: usize,
    pair: &CellPair,
    cur: ShadowCell,
    clock: &VectorClock,
    scratch: &mut Vec<ShadowCell>,
) -> AccessOutcome {
    loop {
        let (c0, c1) = load(pair);
        if c0.is_spill_marker() {
            if let Some(r) = update_spilled(spill, word, pair, cur, clock, scratch) {
                return r;
            }
            continue;
        }
        let race = merge(&[c0, c1], cur, clock, scratch);
        let new = match scratch.len() {
            0 => (ShadowCell::EMPTY, ShadowCell::EMPTY),
            1 => (scratch[0], ShadowCell::EMPTY),
            2 => (scratch[0], scratch[1]),
            _ => {
                // Three records: move them to the spill table, under its lock so no
                // other thread reads the marker before the records are there.
                let mut g = spill.shard(word).lock();
                let last = *scratch.last().expect("three records");
                if !cas_pair(pair, (c0, c1), (ShadowCell::SPILL_MARKER, last)) {
                    continue;
                }
                g.insert(word, scratch.clone());
                return outcome(race);
            }
        };
        if new == (c0, c1) || cas_pair(pair, (c0, c1), new) {
            return outcome(race);
        }
    }
}

fn outcome(race: Option<ShadowCell>) -> AccessOutcome {
    match race {
        Some(prev) => AccessOutcome::Race { prev },
        None => AccessOutcome::Ok,
    }
}

#[cold]
fn update_spilled(
    spill: &SpillTable,
    word: usize,
    pair: &CellPair,
    cur: ShadowCell,
    clock: &VectorClock,
    scratch: &mut Vec<ShadowCell>,
) -> Option<AccessOutcome> {
    let mut g = spill.shard(word).lock();
    let (c0, c1) = load(pair);
    if !c0.is_spill_marker() {
        return None; // reset meanwhile: start over
    }
    let records = g.entry(word).or_default();
    let race = merge(records, cur, clock, scratch);
    if scratch.len() <= 1 {
        // Down to one record: move back inline (not at two, so a word whose set
        // swings between two and three records does not move back and forth).
        // Only a reset, which does not take the lock, can change the marker under
        // us; then its state wins.
        g.remove(&word);
        if !cas_pair(pair, (c0, c1), (scratch[0], ShadowCell::EMPTY)) {
            return None;
        }
    } else {
        records.clear();
        records.extend_from_slice(scratch);
        // The second cell mirrors the newest record, so a repeat of this access in
        // the same epoch is still caught by the fast path's comparison.
        // Relaxed: readers compare it against their own access only.
        pair.cells[1].store(scratch[scratch.len() - 1].0, Ordering::Relaxed);
    }
    Some(outcome(race))
}

/// Checks `cur` against the records of `word` without recording it; returns the
/// first record it races with. Used for `free`, which then overwrites the whole
/// block with freed markers, so recording each word first would be wasted work.
pub fn check_only(
    spill: &SpillTable,
    word: usize,
    pair: &CellPair,
    cur: ShadowCell,
    clock: &VectorClock,
) -> Option<ShadowCell> {
    let (c0, c1) = load(pair);
    if c0.is_spill_marker() {
        let g = spill.shard(word).lock();
        return g
            .get(&word)
            .and_then(|v| v.iter().copied().find(|&r| races(r, cur, clock)));
    }
    [c0, c1]
        .into_iter()
        .find(|&r| !r.is_empty() && races(r, cur, clock))
}

#[cfg(test)]
mod tests;
