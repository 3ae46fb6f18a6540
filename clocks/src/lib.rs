//! Happens-before bookkeeping for umbra: epochs, vector clocks, thread slots and the
//! rules by which synchronization operations move clocks between threads and sync
//! objects. Nothing here knows about memory or shadow cells; the shadow layer asks
//! one question of this crate, "does epoch `e` of slot `s` happen before the current
//! point of this thread?", answered by [`VectorClock::get`].
#![cfg_attr(not(test), no_std)]
extern crate alloc;

mod slots;
mod thread;
mod vector;

pub use slots::{SlotGrant, SlotTable};
pub use thread::{ReleaseSequences, ThreadClock};
pub use vector::{Epoch, Sid, VectorClock, EPOCH_BITS, EPOCH_MAX, SID_BITS, SID_COUNT};

#[cfg(test)]
mod model_tests;
