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
//! inline in the word's [`CellPair`] and are swapped in with one 16-byte CAS. A word
//! that needs more (a word read by several threads after a write, threads writing
//! disjoint bytes of one word) moves its records out, under a lock, and the pair's
//! first cell holds a spill marker:
//! - up to four records live in the word's four **extension cells**
//!   ([`crate::map::ext_cells`]), a record of slot `s` in cell `s % 4` when it is
//!   free. The fast path checks the cell of its own slot: a word read by up to four
//!   threads (of distinct `s % 4`) after a write costs each repeated read one more
//!   load, wherever the word is and however often it is read;
//! - past four, the records move to the [`SpillTable`] (a marker with
//!   [`crate::cell::IN_TABLE`]), and the extension cells become per-slot *hints*:
//!   the cell of slot `s % 4` holds the record of the last access of a thread of
//!   such a slot, so its repeats still end on the fast path.
//!
//! A cell the fast path finds equal to its access proves the access recorded,
//! whatever the cell's mode and however stale: it is a record of the accessing
//! thread's slot at its current epoch that was in the word's set, and such a record
//! leaves the set only for an access that covers it in the same sense, which can
//! only be the thread's own (another thread's access happens after it only once the
//! thread released, which ends its epoch). Only resets (free, unmap) empty a set
//! without an access; they clear the marker, and a word is spilled again only after
//! its extension cells are rewritten. No record is ever evicted, so no race is ever
//! missed for lack of room (TSan drops records when its four slots are full).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use umbra_clocks::VectorClock;
use umbra_sys::SpinMutex;

use crate::cell::{CellPair, ShadowCell, MASK_BITS, READ, SID_SHIFT, SPILLED};
use crate::map::{ext_cells, EXT_CELLS};

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
/// Returns the first racing record and the index in `out` of the record that
/// records `cur` (`cur` itself or an older record covering it).
fn merge(
    records: &[ShadowCell],
    cur: ShadowCell,
    clock: &VectorClock,
    out: &mut Vec<ShadowCell>,
) -> (Option<ShadowCell>, usize) {
    let mut race = None;
    let mut recorded = None;
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
            recorded = recorded.or(Some(out.len()));
            out.push(old);
        } else if !covers(cur, old, happens_before(old, cur, clock)) {
            out.push(old);
        }
    }
    let at = match recorded {
        Some(at) => at,
        None => {
            out.push(cur);
            out.len() - 1
        }
    };
    (race, at)
}

/// The extension cell a record of `rec`'s slot prefers.
#[inline(always)]
pub fn ext_slot(rec: ShadowCell) -> usize {
    rec.sid() as usize % EXT_CELLS
}

/// The fast path's first check: whether a cell of `pair` records the access whose
/// cell would be `cur` exactly (same slot, epoch, bytes and atomic bit, and a kind
/// at least as strong): a read is also covered by a same-epoch plain write of the
/// same bytes, hence the read bit OR-ed into the stored cells. Two loads and
/// compares, no call: the entry points inline it and stay leaf code.
#[inline(always)]
pub fn recorded_in_pair(pair: &CellPair, cur: u64, is_write: bool) -> bool {
    let r = if is_write { 0 } else { READ };
    // Relaxed: only atomicity of each cell matters here (module docs).
    let c0 = pair.cells[0].load(Ordering::Relaxed);
    let c1 = pair.cells[1].load(Ordering::Relaxed);
    (c0 | r) == cur || (c1 | r) == cur
}

/// Whether the word of `pair` is spilled (its records are not in the pair).
#[inline(always)]
pub fn is_spilled(pair: &CellPair) -> bool {
    // Relaxed: as in `recorded_in_pair`.
    pair.cells[0].load(Ordering::Relaxed) & (MASK_BITS | SPILLED) == SPILLED
}

/// The fast path's second check, for a spilled word: whether the extension cell
/// of `cur`'s slot records the access exactly, as [`recorded_in_pair`] checks the
/// pair (the module docs say why a match there is enough).
#[inline(always)]
pub fn recorded_in_slot_cell(addr: usize, pair: &CellPair, cur: u64, is_write: bool) -> bool {
    let r = if is_write { 0 } else { READ };
    let slot = (cur >> SID_SHIFT) as usize % EXT_CELLS;
    // Relaxed: as in `recorded_in_pair`.
    let e = ext_cells(addr, pair)[slot].load(Ordering::Relaxed);
    (e | r) == cur
}

/// Both checks of the fast path in one.
#[inline(always)]
pub fn recorded_fast(addr: usize, pair: &CellPair, cur: u64, is_write: bool) -> bool {
    recorded_in_pair(pair, cur, is_write)
        || is_spilled(pair) && recorded_in_slot_cell(addr, pair, cur, is_write)
}

/// Whether the cells of `word` (pair `pair`) show a record that already records
/// `cur`: the pair, and the extension cells if the word is spilled. Lock-free, for
/// the slow path's first look (the fast path checks exact matches in the pair and
/// the cell of its own slot only). A `true` is final (see the module docs); a
/// `false` may come from a concurrent rewrite and sends the caller to the update.
pub fn recorded_in_cells(word: usize, pair: &CellPair, cur: ShadowCell) -> bool {
    let (c0, c1) = load(pair);
    if already_recorded(c0, cur) || already_recorded(c1, cur) {
        return true;
    }
    c0.is_spill_marker()
        && ext_cells(word, pair)
            .iter()
            // Relaxed: cells need atomicity only; see above for why any value seen
            // is good enough.
            .any(|c| already_recorded(ShadowCell(c.load(Ordering::Relaxed)), cur))
}

/// Writes the record set `records` (at most [`EXT_CELLS`]) into the extension cells,
/// each in the cell of its slot where that is free, `records[first]` (the record of
/// the access being made) before the others, the newest before older ones; the
/// rest fill the cells left. Other cells are emptied. Called with the word's shard
/// lock held: only holders write extension cells.
fn place(ext: &[AtomicU64; EXT_CELLS], records: &[ShadowCell], first: usize) {
    debug_assert!(records.len() <= EXT_CELLS);
    let mut cells = [ShadowCell::EMPTY; EXT_CELLS];
    let mut placed = [false; EXT_CELLS];
    let order =
        || core::iter::once(first).chain((0..records.len()).rev().filter(move |&i| i != first));
    for i in order() {
        let s = ext_slot(records[i]);
        if cells[s].is_empty() {
            cells[s] = records[i];
            placed[i] = true;
        }
    }
    for i in order() {
        if !placed[i] {
            if let Some(free) = cells.iter_mut().find(|c| c.is_empty()) {
                *free = records[i];
            }
        }
    }
    for (cell, new) in ext.iter().zip(cells) {
        // Relaxed: readers need atomicity per cell only (module docs); store only
        // changes, so a steady word's cache line stays shared between readers.
        if cell.load(Ordering::Relaxed) != new.0 {
            cell.store(new.0, Ordering::Relaxed);
        }
    }
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

    /// All records of a word, inline or spilled (for tests).
    pub fn records(&self, word: usize, pair: &CellPair) -> Vec<ShadowCell> {
        let g = self.shard(word).lock();
        let (c0, c1) = load(pair);
        if c0.is_table_marker() {
            return g.get(&word).cloned().unwrap_or_default();
        }
        if c0.is_spill_marker() {
            return load_ext(ext_cells(word, pair))
                .into_iter()
                .filter(|c| !c.is_empty())
                .collect();
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

/// The extension cells' contents.
fn load_ext(ext: &[AtomicU64; EXT_CELLS]) -> [ShadowCell; EXT_CELLS] {
    // Relaxed: atomicity per cell; callers hold the shard lock, the only writer.
    core::array::from_fn(|i| ShadowCell(ext[i].load(Ordering::Relaxed)))
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
        let (race, at) = merge(&[c0, c1], cur, clock, scratch);
        let new = match scratch.len() {
            0 => (ShadowCell::EMPTY, ShadowCell::EMPTY),
            1 => (scratch[0], ShadowCell::EMPTY),
            2 => (scratch[0], scratch[1]),
            _ => {
                // Three records: move them to the extension cells, under the shard
                // lock (only its holders write extension cells), and only while the
                // pair is still what they were computed from: another thread may have
                // spilled it meanwhile, and its cells must not be overwritten.
                let _g = spill.shard(word).lock();
                if load(pair) != (c0, c1) {
                    continue;
                }
                place(ext_cells(word, pair), scratch, at);
                // The cells are written before the marker that sends readers there;
                // if the pair changed after all, they are unread until a spill
                // rewrites them.
                if !cas_pair(pair, (c0, c1), (ShadowCell::SPILL_MARKER, scratch[at])) {
                    continue;
                }
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

/// The update of a spilled word, under its shard lock. `None`: the pair was reset
/// meanwhile (resets do not lock), start over.
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
        return None;
    }
    let ext = ext_cells(word, pair);
    let in_table = c0.is_table_marker();
    let ext_records = load_ext(ext);
    let records: &[ShadowCell] = if in_table {
        g.get(&word).map_or(&[], |v| &v[..])
    } else {
        &ext_records
    };
    let (race, at) = merge(records, cur, clock, scratch);
    let newest = scratch[at];
    if scratch.len() <= 1 {
        // Down to one record: move back inline (not at two, so a word whose set
        // swings between two and three records does not move back and forth).
        if in_table {
            g.remove(&word);
        }
        if !cas_pair(pair, (c0, c1), (newest, ShadowCell::EMPTY)) {
            return None;
        }
    } else if scratch.len() <= EXT_CELLS {
        place(ext, scratch, at);
        if in_table {
            g.remove(&word);
            if !cas_pair(pair, (c0, c1), (ShadowCell::SPILL_MARKER, newest)) {
                return None;
            }
        } else {
            // The second cell mirrors the record of the newest access, so its
            // repeats are caught by the fast path's comparison with the pair.
            // Relaxed: readers compare it against their own access only.
            pair.cells[1].store(newest.0, Ordering::Relaxed);
        }
    } else {
        // The slot's hint: this access's record (see the module docs).
        // Relaxed: as for the records.
        ext[ext_slot(cur)].store(newest.0, Ordering::Relaxed);
        let v = g.entry(word).or_default();
        v.clear();
        v.extend_from_slice(scratch);
        if in_table {
            // Relaxed: as above.
            pair.cells[1].store(newest.0, Ordering::Relaxed);
        } else if !cas_pair(pair, (c0, c1), (ShadowCell::TABLE_MARKER, newest)) {
            g.remove(&word);
            return None;
        }
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
        let (c0, c1) = load(pair);
        if c0.is_table_marker() {
            return g
                .get(&word)
                .and_then(|v| v.iter().copied().find(|&r| races(r, cur, clock)));
        }
        let recs = if c0.is_spill_marker() {
            load_ext(ext_cells(word, pair))
        } else {
            [c0, c1, ShadowCell::EMPTY, ShadowCell::EMPTY]
        };
        return recs
            .into_iter()
            .find(|&r| !r.is_empty() && races(r, cur, clock));
    }
    [c0, c1]
        .into_iter()
        .find(|&r| !r.is_empty() && races(r, cur, clock))
}

#[cfg(test)]
mod tests;
