//! Thread slots: which thread holds which [`Sid`] over time.
//!
//! Shadow cells name threads by slot, so slots must be reused as threads come and
//! go, or vector clocks would grow with every thread ever created. Reuse is only
//! sound when the slot's previous owner *happens before* its next one: otherwise an
//! access of the old owner at epoch `e` would look ordered before the new owner,
//! whose epochs in that slot continue above `e`, and a race between them would be
//! missed. So a slot freed at epoch `last` is granted to a new thread whose creator's
//! clock knows `last` (the old owner was joined, directly or transitively); a new
//! slot is opened otherwise. Only when all 65,536 slots are taken is an unordered
//! slot reused, and that is counted (`unsafe_reuses`) rather than silent.
//!
//! Each slot keeps a journal of `(first_epoch, thread id)` so that a report can name
//! the thread behind any `(sid, epoch)` seen in shadow memory. A slot whose epoch
//! counter is exhausted is retired for good.

use alloc::vec::Vec;

use crate::vector::{Sid, VectorClock, EPOCH_MAX, SID_COUNT};

#[derive(Clone, Debug)]
struct Slot {
    /// Last epoch used in this slot by any owner.
    last_epoch: u64,
    /// Thread currently holding it.
    owner: Option<u32>,
    /// `(first epoch, thread id)` for every owner, oldest first.
    journal: Vec<(u64, u32)>,
    retired: bool,
}

/// A slot handed to a starting thread, with the epoch it starts at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotGrant {
    pub sid: Sid,
    pub epoch: u64,
}

#[derive(Debug, Default)]
pub struct SlotTable {
    slots: Vec<Slot>,
    /// Free slots, most recently freed last.
    free: Vec<Sid>,
    /// Limit on the number of slots (tests lower it).
    limit: usize,
    pub unsafe_reuses: u64,
}

impl SlotTable {
    pub const fn new() -> Self {
        SlotTable {
            slots: Vec::new(),
            free: Vec::new(),
            limit: SID_COUNT,
            unsafe_reuses: 0,
        }
    }

    /// A table with at most `limit` slots (for tests of exhaustion).
    pub fn with_limit(limit: usize) -> Self {
        SlotTable {
            limit: limit.min(SID_COUNT),
            ..Self::new()
        }
    }

    /// Grants a slot to thread `tid`, whose starting clock will be `inherited`.
    pub fn acquire(&mut self, tid: u32, inherited: Option<&VectorClock>) -> SlotGrant {
        let knows = |s: &Slot, sid: Sid| inherited.map_or(0, |c| c.get(sid)) >= s.last_epoch;
        // A freed slot whose last owner happens before the new thread: the most
        // recently freed first (its clock entries are most likely hot).
        let pos = self
            .free
            .iter()
            .rposition(|&sid| knows(&self.slots[sid as usize], sid));
        let sid = match pos {
            Some(p) => self.free.remove(p),
            None if self.slots.len() < self.limit => {
                self.slots.push(Slot {
                    last_epoch: 0,
                    owner: None,
                    journal: Vec::new(),
                    retired: false,
                });
                (self.slots.len() - 1) as Sid
            }
            None if !self.free.is_empty() => {
                self.unsafe_reuses += 1;
                self.free.remove(0)
            }
            None => crate::slots::exhausted(),
        };
        let s = &mut self.slots[sid as usize];
        let epoch = s.last_epoch + 1;
        s.last_epoch = epoch;
        s.owner = Some(tid);
        s.journal.push((epoch, tid));
        SlotGrant { sid, epoch }
    }

    /// The owner of `sid` leaves it at `final_epoch`.
    pub fn release(&mut self, sid: Sid, final_epoch: u64) {
        let s = &mut self.slots[sid as usize];
        s.owner = None;
        s.last_epoch = s.last_epoch.max(final_epoch);
        if s.last_epoch >= EPOCH_MAX - 1 {
            s.retired = true;
        } else {
            self.free.push(sid);
        }
    }

    /// The thread that held `sid` at `epoch`, if the slot was ever used.
    pub fn thread_at(&self, sid: Sid, epoch: u64) -> Option<u32> {
        let s = self.slots.get(sid as usize)?;
        let i = s.journal.partition_point(|&(first, _)| first <= epoch);
        if i == 0 {
            None
        } else {
            Some(s.journal[i - 1].1)
        }
    }

    /// Number of slots ever opened.
    pub fn opened(&self) -> usize {
        self.slots.len()
    }
}

#[cold]
fn exhausted() -> ! {
    panic!("all {} thread slots are held by running threads", SID_COUNT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_slot_is_reused_unjoined_is_not() {
        let mut t = SlotTable::new();
        let a = t.acquire(1, None);
        assert_eq!(a, SlotGrant { sid: 0, epoch: 1 });
        t.release(a.sid, 10);
        // The creator has not joined thread 1: a fresh slot.
        let b = t.acquire(2, None);
        assert_eq!(b.sid, 1);
        // A creator that knows epoch 10 of slot 0 gets slot 0 back, above epoch 10.
        let mut c = VectorClock::new();
        c.set(0, 10);
        let d = t.acquire(3, Some(&c));
        assert_eq!(d, SlotGrant { sid: 0, epoch: 11 });
        assert_eq!(t.thread_at(0, 5), Some(1));
        assert_eq!(t.thread_at(0, 11), Some(3));
        assert_eq!(t.thread_at(0, 0), None);
        assert_eq!(t.thread_at(7, 1), None);
    }

    #[test]
    fn many_sequential_joined_threads_use_one_slot() {
        let mut t = SlotTable::new();
        let mut parent = VectorClock::new();
        for tid in 0..10_000 {
            let g = t.acquire(tid, Some(&parent));
            let fin = g.epoch + 3;
            t.release(g.sid, fin);
            parent.set(g.sid, fin); // join
        }
        assert_eq!(t.opened(), 1);
        assert_eq!(t.unsafe_reuses, 0);
    }

    #[test]
    fn exhaustion_reuses_unordered_slot_and_counts_it() {
        let mut t = SlotTable::with_limit(2);
        let a = t.acquire(1, None);
        let _b = t.acquire(2, None);
        t.release(a.sid, 5);
        let c = t.acquire(3, None);
        assert_eq!(
            c,
            SlotGrant {
                sid: a.sid,
                epoch: 6
            }
        );
        assert_eq!(t.unsafe_reuses, 1);
    }

    #[test]
    fn exhausted_epoch_retires_slot() {
        let mut t = SlotTable::new();
        let a = t.acquire(1, None);
        t.release(a.sid, EPOCH_MAX);
        let mut c = VectorClock::new();
        c.set(a.sid, EPOCH_MAX);
        assert_ne!(t.acquire(2, Some(&c)).sid, a.sid);
    }
}
