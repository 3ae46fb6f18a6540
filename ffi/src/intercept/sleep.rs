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
use crate::intercept::scope::ScopedInterceptor;
use crate::real::{self, Ptr};
use crate::thread::{ThreadCtx, Unknown};

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

/// A thread's last sleep: where, and what every slot's epoch was when it ended.
pub struct LastSleep {
    pc: u64,
    stack: u32,
    /// Slot → its epoch when the sleep returned.
    epochs: Vec<u64>,
}

fn after_sleep(icpt: &ScopedInterceptor, pc: u64) {
    icpt.rt(|thr| {
        let epochs = slot_epochs();
        let stack = thr.stack_id();
        thr.sleep = Some(LastSleep { pc, stack, epochs });
    });
}

/// The stack of the thread's last sleep, if the racing previous access `prev`
/// happened before it.
pub fn synchronized_by_sleep(thr: &ThreadCtx, prev: ShadowCell) -> Option<Vec<u64>> {
    let sleep = thr.sleep.as_ref()?;
    if sleep.epochs.get(prev.sid() as usize).copied().unwrap_or(0) < prev.epoch() {
        return None;
    }
    let mut v = Vec::with_capacity(8);
    v.push(sleep.pc);
    v.extend(crate::depot::DEPOT.unwind(sleep.stack));
    Some(v)
}

#[no_mangle]
pub unsafe extern "C" fn sleep(s: u32) -> u32 {
    let pc = caller_pc();
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    let r = unsafe { real::sleep(s) };
    after_sleep(&icpt, pc);
    r
}

#[no_mangle]
pub unsafe extern "C" fn usleep(us: u32) -> c_int {
    let pc = caller_pc();
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    let r = unsafe { real::usleep(us) };
    after_sleep(&icpt, pc);
    r
}

#[no_mangle]
pub unsafe extern "C" fn nanosleep(req: Ptr, rem: Ptr) -> c_int {
    let pc = caller_pc();
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    let r = unsafe { real::nanosleep(req, rem) };
    after_sleep(&icpt, pc);
    r
}
