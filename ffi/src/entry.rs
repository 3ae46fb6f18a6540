//! The memory-access and function entry points the compiler emits, and the access
//! fast path behind them.
//!
//! The fast path (`access`) reads the thread's fast state from static TLS, builds
//! the cell this access would store, and compares it with the word's two cells:
//! if either already records this access (same slot, epoch, bytes, and a kind at
//! least as strong), nothing can have changed and it returns. Everything else goes
//! to `access_slow`, out of line: the check-and-update, history, reports.

use core::sync::atomic::Ordering;

pub use umbra_shadow::access::recorded_fast as already_recorded;
use umbra_shadow::access::{is_spilled, recorded_in_pair, recorded_in_slot_cell};
use umbra_shadow::cell::{mask_of, ShadowCell, READ};
use umbra_shadow::{check_and_update, pair_for, pair_if_mapped, AccessOutcome};

use crate::thread::{ctx, current_stack_id, in_runtime, thr};
use crate::trace::Event;

/// The return address of the current exported function: the pc of the
/// instrumented access (well, just after the call), as TSan records it.
#[inline(always)]
pub fn caller_pc() -> u64 {
    core::intrinsics::return_address() as u64
}

/// Checks an access of `SIZE` bytes at `addr` that does not cross a word.
#[inline(always)]
fn access(addr: usize, size: usize, is_write: bool, pc: u64) {
    let t = thr();
    let mask = mask_of(addr, size) as u64;
    let cur = t.fast_state | mask | if is_write { 0 } else { READ };
    let Some(pair) = pair_if_mapped(addr) else {
        // First access to this 64 GiB chunk: the slow path maps its shadow.
        return access_slow(addr, size, is_write, false, pc, ShadowCell(cur));
    };
    if recorded_in_pair(pair, cur, is_write) {
        return;
    }
    if is_spilled(pair) {
        // In its own function, tail-called: its few more live values would cost
        // this one a saved register.
        return access_spilled(addr, size, is_write, pc, ShadowCell(cur));
    }
    access_slow(addr, size, is_write, false, pc, ShadowCell(cur));
}

/// The fast path's look at the extension cell of a spilled word: a repeat ends
/// here, anything else goes on to the slow path.
#[inline(never)]
fn access_spilled(addr: usize, size: usize, is_write: bool, pc: u64, cur: ShadowCell) {
    if let Some(pair) = pair_if_mapped(addr) {
        if recorded_in_slot_cell(addr, pair, cur.0, is_write) {
            return;
        }
    }
    access_slow(addr, size, is_write, false, pc, cur);
}

/// The slow path of an access. It runs inside the runtime (`in_runtime`): a signal
/// arriving meanwhile waits, so its handler's accesses never land in the middle of
/// this one's history and shadow update.
#[inline(never)]
pub fn access_slow(
    addr: usize,
    size: usize,
    is_write: bool,
    is_atomic: bool,
    pc: u64,
    cur: ShadowCell,
) {
    in_runtime(|| access_slow_in_rt(addr, size, is_write, is_atomic, pc, cur));
}

fn access_slow_in_rt(
    addr: usize,
    size: usize,
    is_write: bool,
    is_atomic: bool,
    pc: u64,
    cur: ShadowCell,
) {
    let t = thr();
    if t.ctx.is_null() {
        ctx(); // registers the thread; then redo with its real fast state
        return access_slow_known(addr, size, is_write, is_atomic, pc);
    }
    if cur.0 & umbra_shadow::cell::IGNORE != 0 {
        return;
    }
    let cur = if is_atomic {
        ShadowCell(cur.0 | umbra_shadow::cell::ATOMIC)
    } else {
        cur
    };
    record_and_check(addr, size, is_write, is_atomic, pc, cur);
}

fn access_slow_known(addr: usize, size: usize, is_write: bool, is_atomic: bool, pc: u64) {
    let t = thr();
    let mask = mask_of(addr, size) as u64;
    let cur = t.fast_state | mask | if is_write { 0 } else { READ };
    access_slow_in_rt(addr, size, is_write, is_atomic, pc, ShadowCell(cur));
}

/// Logs the access into the thread's history and checks it against shadow.
fn record_and_check(
    addr: usize,
    size: usize,
    is_write: bool,
    is_atomic: bool,
    pc: u64,
    cur: ShadowCell,
) {
    let c = ctx();
    let word = addr & !7;
    let pair = pair_for(word);
    // A record of this thread's current epoch that covers the access (a wider one,
    // or one in another extension cell than the fast path looks at) makes it a
    // repeat: nothing to log or check.
    if umbra_shadow::access::recorded_in_cells(word, pair, cur) {
        return;
    }
    // A word spilled to the side table has most of its records out of the fast
    // path's sight: a repeat of an access this thread recorded there, with its clock
    // unchanged since (no acquire, release or own heap operation: the generation), is
    // caught here. Such a record can only have been dropped for an access that
    // happens after it, which needs this thread's clock to have moved on, so the
    // repeat needs no check.
    // Relaxed: shadow cells need atomicity only.
    let spilled = ShadowCell(pair.cells[0].load(Ordering::Relaxed)).is_table_marker();
    let slot = (word >> 3) % crate::thread::SPILLED_SEEN;
    if spilled
        && c.caches
            .as_ref()
            .is_some_and(|k| k.spilled_seen[slot] == (word, cur.0, c.generation))
    {
        return;
    }
    let stack = current_stack_id();
    let info = Event::info(cur.epoch(), size, !is_write, is_atomic);
    // SAFETY: the trace belongs to this thread and lives as long as the registry.
    unsafe { (*c.trace).record(pc, stack, c.mutexes, info, addr as u64, size as u64) };
    let mut scratch = core::mem::take(&mut c.scratch);
    let r = check_and_update(
        &crate::rt::SPILL,
        word,
        pair,
        cur,
        &c.clock.clock,
        &mut scratch,
    );
    let c = ctx();
    c.scratch = scratch;
    if ShadowCell(pair.cells[0].load(Ordering::Relaxed)).is_table_marker() {
        let generation = c.generation;
        if let Some(k) = c.caches.as_deref_mut() {
            k.spilled_seen[(word >> 3) % crate::thread::SPILLED_SEEN] = (word, cur.0, generation);
        }
    }
    if let AccessOutcome::Race { prev } = r {
        crate::report::report_race(addr, size, is_write, is_atomic, pc, word, prev);
    }
}

/// Checks an access of any size and alignment (split by word).
#[inline]
pub fn access_any(addr: usize, size: usize, is_write: bool, pc: u64) {
    if (addr & 7) + size <= 8 {
        access(addr, size, is_write, pc);
    } else {
        range_access(addr, size, is_write, pc);
    }
}

/// Checks every word of `[addr, addr+size)`; one history event for the range.
/// Runs inside the runtime, as `access_slow` does.
pub fn range_access(addr: usize, size: usize, is_write: bool, pc: u64) {
    if size == 0 {
        return;
    }
    in_runtime(|| range_access_in_rt(addr, size, is_write, pc));
}

fn range_access_in_rt(addr: usize, size: usize, is_write: bool, pc: u64) {
    let t = thr();
    if t.ctx.is_null() {
        ctx();
    }
    let t = thr();
    if t.fast_state & umbra_shadow::cell::IGNORE != 0 {
        return;
    }
    let fast = t.fast_state;
    let mut first = true;
    umbra_shadow::for_each_word(addr, size, |word, pair, mask| {
        let cur = fast | mask as u64 | if is_write { 0 } else { READ };
        if already_recorded(word, pair, cur, is_write) {
            return;
        }
        let c = ctx();
        if first {
            first = false;
            let stack = current_stack_id();
            let info = Event::info(ShadowCell(cur).epoch(), size, !is_write, false);
            // SAFETY: this thread's own trace.
            unsafe { (*c.trace).record(pc, stack, c.mutexes, info, addr as u64, size as u64) };
        }
        let mut scratch = core::mem::take(&mut c.scratch);
        let r = check_and_update(
            &crate::rt::SPILL,
            word,
            pair,
            ShadowCell(cur),
            &c.clock.clock,
            &mut scratch,
        );
        ctx().scratch = scratch;
        if let AccessOutcome::Race { prev } = r {
            let off = (mask as u64).trailing_zeros() as usize;
            let len = (mask as u64).count_ones() as usize;
            crate::report::report_race(word + off, len, is_write, false, pc, word, prev);
        }
    });
}

/// The check a `free` of `[addr, addr+size)` makes: a write to every byte, checked
/// against each word's records but recorded only once, as one history event (the
/// caller then fills the block with freed markers).
pub fn free_access(addr: usize, size: usize, pc: u64) {
    let t = thr();
    if t.ctx.is_null() || t.fast_state & umbra_shadow::cell::IGNORE != 0 || size == 0 {
        return;
    }
    let fast = t.fast_state;
    let c = ctx();
    let stack = current_stack_id();
    let info = Event::info(ShadowCell(fast).epoch(), size, false, false);
    // SAFETY: this thread's own trace.
    unsafe { (*c.trace).record(pc, stack, c.mutexes, info, addr as u64, size as u64) };
    let mut race = None;
    umbra_shadow::for_each_word(addr, size, |word, pair, mask| {
        if race.is_none() {
            let cur = ShadowCell(fast | mask as u64);
            if let Some(prev) =
                umbra_shadow::check_only(&crate::rt::SPILL, word, pair, cur, &ctx().clock.clock)
            {
                race = Some((word, mask, prev));
            }
        }
    });
    if let Some((word, mask, prev)) = race {
        let off = (mask as u64).trailing_zeros() as usize;
        let len = (mask as u64).count_ones() as usize;
        crate::report::report_race(word + off, len, true, false, pc, word, prev);
    }
}

macro_rules! access_entry_points {
    ($( $size:literal => $read:ident, $write:ident, $read_pc:ident, $write_pc:ident,
        $uread:ident, $uwrite:ident, $vread:ident, $vwrite:ident, $uvread:ident, $uvwrite:ident; )*) => {$(
        #[no_mangle]
        pub extern "C" fn $read(addr: usize) { access(addr, $size, false, caller_pc()) }
        #[no_mangle]
        pub extern "C" fn $write(addr: usize) { access(addr, $size, true, caller_pc()) }
        #[no_mangle]
        pub extern "C" fn $read_pc(addr: usize, pc: u64) { access_any(addr, $size, false, pc) }
        #[no_mangle]
        pub extern "C" fn $write_pc(addr: usize, pc: u64) { access_any(addr, $size, true, pc) }
        #[no_mangle]
        pub extern "C" fn $uread(addr: usize) { access_any(addr, $size, false, caller_pc()) }
        #[no_mangle]
        pub extern "C" fn $uwrite(addr: usize) { access_any(addr, $size, true, caller_pc()) }
        #[no_mangle]
        pub extern "C" fn $vread(addr: usize) { access_any(addr, $size, false, caller_pc()) }
        #[no_mangle]
        pub extern "C" fn $vwrite(addr: usize) { access_any(addr, $size, true, caller_pc()) }
        #[no_mangle]
        pub extern "C" fn $uvread(addr: usize) { access_any(addr, $size, false, caller_pc()) }
        #[no_mangle]
        pub extern "C" fn $uvwrite(addr: usize) { access_any(addr, $size, true, caller_pc()) }
    )*};
}

access_entry_points! {
    1 => __tsan_read1, __tsan_write1, __tsan_read1_pc, __tsan_write1_pc, __tsan_unaligned_read1, __tsan_unaligned_write1,
         __tsan_volatile_read1, __tsan_volatile_write1, __tsan_unaligned_volatile_read1, __tsan_unaligned_volatile_write1;
    2 => __tsan_read2, __tsan_write2, __tsan_read2_pc, __tsan_write2_pc, __tsan_unaligned_read2, __tsan_unaligned_write2,
         __tsan_volatile_read2, __tsan_volatile_write2, __tsan_unaligned_volatile_read2, __tsan_unaligned_volatile_write2;
    4 => __tsan_read4, __tsan_write4, __tsan_read4_pc, __tsan_write4_pc, __tsan_unaligned_read4, __tsan_unaligned_write4,
         __tsan_volatile_read4, __tsan_volatile_write4, __tsan_unaligned_volatile_read4, __tsan_unaligned_volatile_write4;
    8 => __tsan_read8, __tsan_write8, __tsan_read8_pc, __tsan_write8_pc, __tsan_unaligned_read8, __tsan_unaligned_write8,
         __tsan_volatile_read8, __tsan_volatile_write8, __tsan_unaligned_volatile_read8, __tsan_unaligned_volatile_write8;
}

/// 16-byte accesses: two 8-byte halves (or a range when unaligned).
macro_rules! access16 {
    ($($name:ident => $w:expr;)*) => {$(
        #[no_mangle]
        pub extern "C" fn $name(addr: usize) { access_any(addr, 16, $w, caller_pc()) }
    )*};
}
access16! {
    __tsan_read16 => false; __tsan_write16 => true; __tsan_unaligned_read16 => false; __tsan_unaligned_write16 => true;
    __tsan_volatile_read16 => false; __tsan_volatile_write16 => true;
    __tsan_unaligned_volatile_read16 => false; __tsan_unaligned_volatile_write16 => true;
}

#[no_mangle]
pub extern "C" fn __tsan_read16_pc(addr: usize, pc: u64) {
    access_any(addr, 16, false, pc)
}
#[no_mangle]
pub extern "C" fn __tsan_write16_pc(addr: usize, pc: u64) {
    access_any(addr, 16, true, pc)
}

/// KCSAN-style compound accesses: a read followed by a write.
macro_rules! read_write {
    ($($name:ident => $size:literal;)*) => {$(
        #[no_mangle]
        pub extern "C" fn $name(addr: usize) { access_any(addr, $size, true, caller_pc()) }
    )*};
}
read_write! {
    __tsan_read_write1 => 1; __tsan_read_write2 => 2; __tsan_read_write4 => 4; __tsan_read_write8 => 8; __tsan_read_write16 => 16;
    __tsan_unaligned_read_write1 => 1; __tsan_unaligned_read_write2 => 2; __tsan_unaligned_read_write4 => 4;
    __tsan_unaligned_read_write8 => 8; __tsan_unaligned_read_write16 => 16;
}

#[no_mangle]
pub extern "C" fn __tsan_read_range(addr: usize, size: usize) {
    range_access(addr, size, false, caller_pc())
}
#[no_mangle]
pub extern "C" fn __tsan_write_range(addr: usize, size: usize) {
    range_access(addr, size, true, caller_pc())
}
#[no_mangle]
pub extern "C" fn __tsan_read_range_pc(addr: usize, size: usize, pc: u64) {
    range_access(addr, size, false, pc)
}
#[no_mangle]
pub extern "C" fn __tsan_write_range_pc(addr: usize, size: usize, pc: u64) {
    range_access(addr, size, true, pc)
}

/// A virtual-table pointer update: a write, unless it stores the same value
/// (constructors of derived classes rewrite the vptr with equal values).
#[no_mangle]
pub unsafe extern "C" fn __tsan_vptr_update(vptr: *mut usize, new: usize) {
    // SAFETY: the instrumented code is about to store to `vptr`.
    if unsafe { core::ptr::read_volatile(vptr) } != new {
        access(vptr as usize, 8, true, caller_pc());
    }
}

#[no_mangle]
pub extern "C" fn __tsan_vptr_read(vptr: usize) {
    access(vptr, 8, false, caller_pc())
}

/// Pushes the caller's return address on the shadow stack.
#[no_mangle]
pub extern "C" fn __tsan_func_entry(pc: u64) {
    let t = thr();
    if t.depth < t.stack_cap {
        // SAFETY: depth < stack_cap, inside the shadow stack mapping.
        unsafe { *t.stack.add(t.depth) = pc };
        t.depth += 1;
    } else {
        func_entry_slow(pc, caller_pc());
    }
}

/// `site` is an address inside the function being entered (the return address of
/// its call to `__tsan_func_entry`).
#[cold]
#[inline(never)]
fn func_entry_slow(pc: u64, site: u64) {
    if thr().ctx.is_null() {
        ctx();
        let t = thr();
        if t.depth < t.stack_cap {
            // SAFETY: as in __tsan_func_entry.
            unsafe { *t.stack.add(t.depth) = pc };
            t.depth += 1;
        }
        return;
    }
    let t = thr();
    if !t.stack.is_null() && t.depth < crate::thread::STACK_CAP {
        // SAFETY: a Rust thread starting up (the capacity is hidden, not smaller):
        // the shadow stack mapping holds STACK_CAP frames.
        if unsafe { (*t.ctx).startup.is_some() } {
            // SAFETY: depth < STACK_CAP, inside the mapping.
            unsafe { *t.stack.add(t.depth) = pc };
            t.depth += 1;
            crate::thread::std_startup_entry(site);
        }
    }
    // Otherwise the shadow stack is full (recursion deeper than 65,536 frames):
    // frames beyond are not recorded; exits below keep depth consistent.
}

#[no_mangle]
pub extern "C" fn __tsan_func_exit() {
    let t = thr();
    let d = t.depth.saturating_sub(1);
    t.depth = d;
    if t.interned > d {
        t.interned = d;
    }
}
