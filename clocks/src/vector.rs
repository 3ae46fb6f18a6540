//! Epochs and vector clocks.
//!
//! Every thread that runs instrumented code holds a *slot* ([`Sid`]); a slot's
//! *epoch* counts the release operations its thread has performed. An event of a
//! thread is named by the pair `(sid, epoch)` current when it happened, an
//! [`Epoch`] in FastTrack's terms `e@t`. A vector clock maps every slot to the latest
//! epoch of that slot known to *happen before* the clock's owner: for a thread,
//! everything it has acquired; for a sync object, everything released into it.
//!
//! The one happens-before query of the detector: an earlier access `e@s` happens
//! before the current point of thread `T` iff `e <= C_T[s]`.

use alloc::vec::Vec;

/// Index of a thread slot. Sixteen bits, so 65,536 slots: threads alive at once
/// beyond that share slots (see [`crate::SlotTable`]).
pub type Sid = u16;
pub const SID_BITS: u32 = 16;
pub const SID_COUNT: usize = 1 << SID_BITS;

/// Number of bits of an epoch stored in a shadow cell.
pub const EPOCH_BITS: u32 = 36;
/// The last epoch a slot can reach; a thread whose slot gets there moves to a fresh
/// slot. At one release per 10 ns that is more than ten minutes of a single thread
/// doing nothing but releases, and slots are plentiful, so no global reset is ever
/// needed.
pub const EPOCH_MAX: u64 = (1 << EPOCH_BITS) - 1;

/// An event name: epoch `epoch` of slot `sid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Epoch {
    pub sid: Sid,
    pub epoch: u64,
}

/// A vector clock: slot → epoch, with absent slots reading as 0 ("nothing known").
///
/// Stored densely up to the highest slot ever set; slots are handed out lowest
/// first, so the length tracks the number of threads alive at once, not the number
/// ever created.
#[derive(Clone, Default, Debug, PartialEq, Eq)]
pub struct VectorClock {
    v: Vec<u64>,
}

impl VectorClock {
    pub const fn new() -> Self {
        VectorClock { v: Vec::new() }
    }

    /// The epoch of `sid` known to this clock (0 if none).
    #[inline]
    pub fn get(&self, sid: Sid) -> u64 {
        match self.v.get(sid as usize) {
            Some(&e) => e,
            None => 0,
        }
    }

    pub fn set(&mut self, sid: Sid, epoch: u64) {
        let i = sid as usize;
        if i >= self.v.len() {
            self.v.resize(i + 1, 0);
        }
        self.v[i] = epoch;
    }

    /// Number of slots stored (a bound for iteration; absent slots are 0).
    pub fn len(&self) -> usize {
        self.v.len()
    }

    pub fn is_empty(&self) -> bool {
        self.v.iter().all(|&e| e == 0)
    }

    /// `self := self ⊔ other` (pointwise maximum): afterwards everything that
    /// happened before `other` also happens before `self`.
    pub fn join(&mut self, other: &VectorClock) {
        if other.v.len() > self.v.len() {
            self.v.resize(other.v.len(), 0);
        }
        for (a, &b) in self.v.iter_mut().zip(other.v.iter()) {
            if b > *a {
                *a = b;
            }
        }
    }

    /// `self := other`.
    pub fn assign(&mut self, other: &VectorClock) {
        self.v.clear();
        self.v.extend_from_slice(&other.v);
    }

    /// Forgets everything (all slots 0).
    pub fn clear(&mut self) {
        self.v.clear();
    }

    /// `self ⊑ other`: every event known to `self` is known to `other`.
    pub fn le(&self, other: &VectorClock) -> bool {
        self.v
            .iter()
            .enumerate()
            .all(|(i, &e)| e <= other.get(i as Sid))
    }

    /// Does event `e` happen before the point this clock describes?
    #[inline]
    pub fn knows(&self, e: Epoch) -> bool {
        e.epoch <= self.get(e.sid)
    }

    pub fn iter(&self) -> impl Iterator<Item = (Sid, u64)> + '_ {
        self.v
            .iter()
            .enumerate()
            .filter(|(_, &e)| e != 0)
            .map(|(i, &e)| (i as Sid, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_slots_read_zero_and_join_is_pointwise_max() {
        let mut a = VectorClock::new();
        let mut b = VectorClock::new();
        a.set(0, 5);
        a.set(2, 1);
        b.set(1, 7);
        b.set(2, 3);
        assert_eq!(a.get(1), 0);
        assert_eq!(a.get(999), 0);
        a.join(&b);
        assert_eq!((a.get(0), a.get(1), a.get(2)), (5, 7, 3));
        assert!(b.le(&a));
        assert!(!a.le(&b));
        assert!(a.knows(Epoch { sid: 1, epoch: 7 }));
        assert!(!a.knows(Epoch { sid: 1, epoch: 8 }));
    }

    #[test]
    fn assign_and_clear() {
        let mut a = VectorClock::new();
        let mut b = VectorClock::new();
        a.set(3, 9);
        b.set(0, 1);
        a.assign(&b);
        assert_eq!(a, b);
        a.clear();
        assert!(a.is_empty());
        assert_eq!(a.get(0), 0);
    }
}
