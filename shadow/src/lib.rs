//! Shadow memory: for every 8-byte word of application memory, a pair of 8-byte
//! [`ShadowCell`]s recording the most recent accesses that a later access could race
//! with, plus a 4-byte meta word that indexes the sync object living at that word.
//!
//! - [`cell`]: the encoding of one recorded access (byte mask, read/atomic, slot,
//!   epoch) and the special markers (freed, spilled).
//! - [`map`]: application address → shadow pair, meta word and extension cells,
//!   through a directory of lazily reserved regions, so no fixed address layout is
//!   assumed.
//! - [`access`]: the check-and-update of one access against a pair: which recorded
//!   accesses race with it, which it makes redundant, and the CAS that installs it;
//!   words that need more than two records spill into four extension cells, and
//!   past four into a side table.
#![cfg_attr(not(test), no_std)]
extern crate alloc;

pub mod access;
pub mod cell;
pub mod map;

pub use access::{check_and_update, check_only, AccessOutcome, SpillTable};
pub use cell::{CellPair, ShadowCell};
pub use map::{
    for_each_word, meta_word, meta_word_for_create, pair_for, pair_if_mapped, reset_range,
    reset_range_marking, reset_range_to, reset_range_with, take_meta_range, take_meta_range_at,
    ShadowMap, MAP, WORD,
};
