//! `sleep`, `usleep`, `nanosleep`: not synchronization, but a common way to make
//! a race look ordered. When a sleep returns, the thread records where it slept
//! and what every thread had reached by then (as TSan's `AfterSleep` does); a
//! report whose previous access happened before that point says "As if
//! synchronized via sleep".

use alloc::vec::Vec;
use core::ffi::c_int;
use core::sync::atomic::{AtomicU64, Ordering};

use umbra_clocks::SID_COUNT;
use umbra_shadow::cell::ShadowCell;

use crate::entry::caller_pc;
use crate::real::{self, Ptr};
use crate::thread::{ctx, in_runtime, thr};

/// The current epoch of every slot, published as threads tick.
static SLOT_EPOCH: [AtomicU64; SID_COUNT] = [const { AtomicU64::new(0) }; SID_COUNT];

/// Publishes the calling thread's epoch (called whenever it changes).
#[inline]
pub fn publish_epoch(sid: u16, epoch: u64) {
    // Relaxed: the sleep heuristic needs no ordering, only a recent value.
    SLOT_EPOCH[sid as usize].store(epoch, Ordering::Relaxed);
}

/// The epoch every slot opened so far has reached (as last published).
pub fn slot_epochs() -> Vec<u64> {
    let n = crate::thread::REGISTRY.lock().slots.opened();
    // Relaxed: a recent value is all either caller needs (the sleep heuristic; a
    // Java finalizer's acquire of everything done so far, as approximate in
    // compiler-rt); the shadow records compared with these carry their epochs.
    SLOT_EPOCH[..n]
        .iter()
        .map(|e| e.load(Ordering::Relaxed))
        .collect()
}

fn after_sleep(pc: u64) {
    if thr().in_rt > 0 {
        return;
    }
    in_runtime(|| {
        let snapshot = slot_epochs();
        let stack = crate::thread::current_stack_id();
        let c = ctx();
        c.sleep = Some((pc, stack, snapshot));
    });
}

/// The stack of the current thread's last sleep, if the racing previous access
/// `prev` happened before it.
pub fn synchronized_by_sleep(prev: ShadowCell) -> Option<Vec<u64>> {
    let c = ctx();
    let (pc, stack, snap) = c.sleep.as_ref()?;
    if snap.get(prev.sid() as usize).copied().unwrap_or(0) < prev.epoch() {
        return None;
    }
    let mut v = Vec::with_capacity(8);
    v.push(*pc);
    v.extend(crate::trace::DEPOT.unwind(*stack));
    Some(v)
}

#[no_mangle]
pub unsafe extern "C" fn sleep(s: u32) -> u32 {
    let pc = caller_pc();
    // SAFETY: forwarded.
    let r = unsafe { real::sleep(s) };
    after_sleep(pc);
    r
}

#[no_mangle]
pub unsafe extern "C" fn usleep(us: u32) -> c_int {
    let pc = caller_pc();
    // SAFETY: forwarded.
    let r = unsafe { real::usleep(us) };
    after_sleep(pc);
    r
}

#[no_mangle]
pub unsafe extern "C" fn nanosleep(req: Ptr, rem: Ptr) -> c_int {
    let pc = caller_pc();
    // SAFETY: forwarded.
    let r = unsafe { real::nanosleep(req, rem) };
    after_sleep(pc);
    r
}
