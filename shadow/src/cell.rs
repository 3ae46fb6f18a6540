//! One shadow cell: a recorded access to (part of) an 8-byte application word.
//!
//! ```text
//!  63            28 27          12 11  10   9     8    7      0
//! +----------------+--------------+---+---+------+----+--------+
//! |  epoch (36)    |   sid (16)   | S | F |atomic|read|  mask  |
//! +----------------+--------------+---+---+------+----+--------+
//! ```
//! `mask` has one bit per byte of the word the access touched, so accesses to
//! adjacent bytes never conflict. A cell with a non-zero mask is an access record;
//! `0` is empty; a zero mask with `F` set marks freed memory (sid/epoch name the
//! free); a zero mask with `S` set marks a word whose records moved out of the
//! pair: into the word's four extension cells, or, with bit `T` (bit 8, the read
//! bit of a record) also set, into the side table (the second cell then mirrors the
//! word's newest record, for the fast path's same-access check). A thread's *fast state* uses the same layout with mask 0, so the cell for
//! an access is `fast_state | mask | read`, one OR; bit `S` in a fast state means
//! "ignore accesses" and makes every comparison with a stored cell fail.

use core::sync::atomic::AtomicU64;
use umbra_clocks::{Epoch, Sid};

pub const MASK_BITS: u64 = 0xff;
pub const READ: u64 = 1 << 8;
pub const ATOMIC: u64 = 1 << 9;
pub const FREED: u64 = 1 << 10;
pub const SPILLED: u64 = 1 << 11;
/// In a spill marker only: the records are in the side table, the extension cells
/// hold per-slot hints (see [`crate::access`]).
pub const IN_TABLE: u64 = READ;
/// In a fast state (never in a stored cell): the thread ignores accesses.
pub const IGNORE: u64 = SPILLED;
pub const SID_SHIFT: u32 = 12;
pub const EPOCH_SHIFT: u32 = 28;

#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct ShadowCell(pub u64);

impl ShadowCell {
    pub const EMPTY: ShadowCell = ShadowCell(0);
    /// The word's records are in its extension cells.
    pub const SPILL_MARKER: ShadowCell = ShadowCell(SPILLED);
    /// The word's records are in the side table.
    pub const TABLE_MARKER: ShadowCell = ShadowCell(SPILLED | IN_TABLE);

    /// The fast-state part (`sid`, `epoch`) of a thread.
    #[inline]
    pub const fn fast_state(sid: Sid, epoch: u64) -> u64 {
        ((sid as u64) << SID_SHIFT) | (epoch << EPOCH_SHIFT)
    }

    #[inline]
    pub const fn access(
        sid: Sid,
        epoch: u64,
        mask: u8,
        is_read: bool,
        is_atomic: bool,
    ) -> ShadowCell {
        ShadowCell(
            Self::fast_state(sid, epoch)
                | mask as u64
                | if is_read { READ } else { 0 }
                | if is_atomic { ATOMIC } else { 0 },
        )
    }

    /// The marker left in freed memory by a free at `sid@epoch`.
    pub const fn freed(sid: Sid, epoch: u64) -> ShadowCell {
        ShadowCell(Self::fast_state(sid, epoch) | FREED)
    }

    #[inline]
    pub fn mask(self) -> u8 {
        self.0 as u8
    }
    #[inline]
    pub fn is_read(self) -> bool {
        self.0 & READ != 0
    }
    #[inline]
    pub fn is_write(self) -> bool {
        self.0 & READ == 0
    }
    #[inline]
    pub fn is_atomic(self) -> bool {
        self.0 & ATOMIC != 0
    }
    #[inline]
    pub fn sid(self) -> Sid {
        (self.0 >> SID_SHIFT) as Sid
    }
    #[inline]
    pub fn epoch(self) -> u64 {
        self.0 >> EPOCH_SHIFT
    }
    pub fn when(self) -> Epoch {
        Epoch {
            sid: self.sid(),
            epoch: self.epoch(),
        }
    }
    #[inline]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// A record of an access (not empty, not a marker).
    #[inline]
    pub fn is_access(self) -> bool {
        self.mask() != 0
    }
    #[inline]
    pub fn is_freed(self) -> bool {
        self.mask() == 0 && self.0 & FREED != 0
    }
    /// Either spill marker: the records are not in the pair.
    #[inline]
    pub fn is_spill_marker(self) -> bool {
        self.mask() == 0 && self.0 & SPILLED != 0
    }
    /// The spill marker whose records are in the side table.
    #[inline]
    pub fn is_table_marker(self) -> bool {
        self.is_spill_marker() && self.0 & IN_TABLE != 0
    }

    /// As an access for conflict purposes: a freed marker behaves as a plain write
    /// of the whole word.
    #[inline]
    pub fn effective(self) -> ShadowCell {
        if self.is_freed() {
            ShadowCell(self.0 | MASK_BITS)
        } else {
            self
        }
    }

    /// Size in bytes and offset within the word of the accessed range.
    pub fn size_and_offset(self) -> (u32, u32) {
        let m = self.mask();
        (m.count_ones(), m.trailing_zeros())
    }
}

impl core::fmt::Debug for ShadowCell {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.is_empty() {
            return write!(f, "empty");
        }
        if self.is_table_marker() {
            return write!(f, "spilled-to-table");
        }
        if self.is_spill_marker() {
            return write!(f, "spilled");
        }
        if self.is_freed() {
            return write!(f, "freed@{}:{}", self.sid(), self.epoch());
        }
        write!(
            f,
            "{}{}[{:08b}]@{}:{}",
            if self.is_atomic() { "atomic-" } else { "" },
            if self.is_read() { "read" } else { "write" },
            self.mask(),
            self.sid(),
            self.epoch()
        )
    }
}

/// The two cells of one application word, updated together with a 16-byte CAS.
#[repr(C, align(16))]
pub struct CellPair {
    pub cells: [AtomicU64; 2],
}

/// Byte mask of an access of `size` bytes at `addr`, clipped to `addr`'s word.
#[inline(always)]
pub fn mask_of(addr: usize, size: usize) -> u8 {
    let off = addr & 7;
    let n = if size >= 8 { 8 } else { size };
    let m = if n >= 8 { 0xffu32 } else { (1u32 << n) - 1 };
    ((m << off) & 0xff) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        let c = ShadowCell::access(0xbeef, (1 << 36) - 1, 0b0011_0000, true, true);
        assert_eq!(c.sid(), 0xbeef);
        assert_eq!(c.epoch(), (1 << 36) - 1);
        assert_eq!(c.mask(), 0b0011_0000);
        assert!(c.is_read() && c.is_atomic() && c.is_access());
        assert_eq!(c.size_and_offset(), (2, 4));
        let f = ShadowCell::freed(3, 9);
        assert!(f.is_freed() && !f.is_access() && !f.is_spill_marker());
        assert_eq!(f.effective().mask(), 0xff);
        assert!(ShadowCell::SPILL_MARKER.is_spill_marker());
    }

    #[test]
    fn masks() {
        assert_eq!(mask_of(0x1000, 8), 0xff);
        assert_eq!(mask_of(0x1001, 1), 0b10);
        assert_eq!(mask_of(0x1006, 2), 0b1100_0000);
        assert_eq!(mask_of(0x1004, 4), 0xf0);
        // Clipped to the word: the rest belongs to the next word.
        assert_eq!(mask_of(0x1006, 4), 0b1100_0000);
    }

    #[test]
    fn ignore_bit_never_matches_a_record() {
        let rec = ShadowCell::access(1, 5, 0xff, false, false);
        let cur = ShadowCell::fast_state(1, 5) | IGNORE | 0xff;
        assert_ne!(rec.0, cur);
    }
}
