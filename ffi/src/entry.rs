//! The memory-access and function entry points the compiler emits, and the access
//! fast path behind them.
//!
//! The fast path (`access`) reads the thread's fast state from static TLS, builds
//! the cell this access would store, and compares it with the word's two cells:
//! if either already records this access (same slot, epoch, bytes, and a kind at
//! least as strong), nothing can have changed and it returns. Everything else goes
//! to `access_slow`, out of line: the check-and-update, history, reports.

use core::sync::atomic::Ordering;

use umbra_shadow::access::{is_spilled, recorded_fast, recorded_in_pair, recorded_in_slot_cell};
use umbra_shadow::cell::{mask_of, ShadowCell, ATOMIC, IGNORE, READ};
use umbra_shadow::{check_and_update, pair_for, pair_if_mapped, AccessOutcome};

use crate::history::Event;
use crate::thread::{cur, spilled_slot, with_thread, SpilledAccess, ThreadCtx};

/// What an access does to memory: read or write, plain or atomic (compiler-rt's
/// `AccessType` flags); the same type names the accesses of a report.
pub use umbra_report::AccessKind;

/// The bits of an access of `kind` in a shadow cell (`READ`, `ATOMIC`).
#[inline(always)]
pub const fn cell_bits(kind: AccessKind) -> u64 {
    (if kind.is_write() { 0 } else { READ }) | (if kind.is_atomic() { ATOMIC } else { 0 })
}

/// The return address of the current exported function: the pc of the
/// instrumented access (well, just after the call), as TSan records it.
#[inline(always)]
pub fn caller_pc() -> u64 {
    core::intrinsics::return_address() as u64
}

/// Whether the shadow of `addr` (its pair, and the extension cell the fast path
/// looks at) already records the access `cur` of `kind` (same slot, epoch, bytes
/// and a kind at least as strong).
#[inline(always)]
pub fn already_recorded(
    addr: usize,
    pair: &umbra_shadow::CellPair,
    cur: u64,
    kind: AccessKind,
) -> bool {
    recorded_fast(addr, pair, cur, kind.is_write())
}

/// Checks an access of `size` bytes at `addr` that does not cross a word.
#[inline(always)]
pub fn access(addr: usize, size: usize, kind: AccessKind, pc: u64) {
    let mask = mask_of(addr, size) as u64;
    let cur = cur().fast_state.get() | mask | cell_bits(kind);
    let Some(pair) = pair_if_mapped(addr) else {
        // First access to this 64 GiB chunk: the slow path maps its shadow.
        return access_slow(addr, size, kind, pc, ShadowCell(cur));
    };
    if recorded_in_pair(pair, cur, kind.is_write()) {
        return;
    }
    if is_spilled(pair) {
        // In its own function, tail-called: its few more live values would cost
        // this one a saved register.
        return access_spilled(addr, size, kind, pc, ShadowCell(cur));
    }
    access_slow(addr, size, kind, pc, ShadowCell(cur));
}

/// The fast path's look at the extension cell of a spilled word: a repeat ends
/// here, anything else goes on to the slow path.
#[inline(never)]
fn access_spilled(addr: usize, size: usize, kind: AccessKind, pc: u64, cur: ShadowCell) {
    if let Some(pair) = pair_if_mapped(addr) {
        if recorded_in_slot_cell(addr, pair, cur.0, kind.is_write()) {
            return;
        }
    }
    access_slow(addr, size, kind, pc, cur);
}

/// The slow path of an access. It runs inside the runtime (an [`crate::thread::Rt`]
/// scope): a signal arriving meanwhile waits, so its handler's accesses never land
/// in the middle of this one's history and shadow update.
#[inline(never)]
pub fn access_slow(addr: usize, size: usize, kind: AccessKind, pc: u64, cur: ShadowCell) {
    // A thread not yet attached built `cur` from a zero fast state: rebuilt below.
    let attached = crate::thread::cur().attached();
    with_thread(|thr| {
        let cur = if attached {
            cur
        } else {
            let mask = mask_of(addr, size) as u64;
            ShadowCell(crate::thread::cur().fast_state.get() | mask | cell_bits(kind))
        };
        if cur.0 & IGNORE != 0 {
            return;
        }
        record_and_check(thr, addr, size, kind, pc, cur);
    });
}

/// Logs the access into the thread's history and checks it against shadow.
fn record_and_check(
    thr: &mut ThreadCtx,
    addr: usize,
    size: usize,
    kind: AccessKind,
    pc: u64,
    cur: ShadowCell,
) {
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
    let seen = SpilledAccess {
        word,
        cell: cur.0,
        generation: thr.generation,
    };
    if spilled
        && thr
            .caches
            .as_ref()
            .is_some_and(|k| k.spilled_seen[spilled_slot(word)] == seen)
    {
        return;
    }
    let stack = thr.stack_id();
    let info = Event::info(cur.epoch(), size, kind);
    // SAFETY: the trace belongs to this thread and lives as long as the registry.
    unsafe { (*thr.trace).record(pc, stack, thr.mutexes, info, addr as u64, size as u64) };
    let r = check_and_update(
        &crate::rt::SPILL,
        word,
        pair,
        cur,
        &thr.clock.clock,
        &mut thr.scratch,
    );
    if ShadowCell(pair.cells[0].load(Ordering::Relaxed)).is_table_marker() {
        let seen = SpilledAccess {
            generation: thr.generation,
            ..seen
        };
        if let Some(k) = thr.caches.as_deref_mut() {
            k.spilled_seen[spilled_slot(word)] = seen;
        }
    }
    if let AccessOutcome::Race { prev } = r {
        crate::report::report_race(thr, addr, size, kind, pc, word, prev);
    }
}

/// Checks an access of any size and alignment (split by word).
#[inline]
pub fn access_any(addr: usize, size: usize, kind: AccessKind, pc: u64) {
    if (addr & 7) + size <= 8 {
        access(addr, size, kind, pc);
    } else {
        range_access(addr, size, kind, pc);
    }
}

/// Checks every word of `[addr, addr+size)`; one history event for the range.
/// Runs inside the runtime, as `access_slow` does.
pub fn range_access(addr: usize, size: usize, kind: AccessKind, pc: u64) {
    if size == 0 {
        return;
    }
    with_thread(|thr| range_access_in_rt(thr, addr, size, kind, pc));
}

fn range_access_in_rt(thr: &mut ThreadCtx, addr: usize, size: usize, kind: AccessKind, pc: u64) {
    let fast = cur().fast_state.get();
    if fast & IGNORE != 0 {
        return;
    }
    let mut first = true;
    umbra_shadow::for_each_word(addr, size, |word, pair, mask| {
        let cur = fast | mask as u64 | cell_bits(kind);
        if already_recorded(word, pair, cur, kind) {
            return;
        }
        if first {
            first = false;
            let stack = thr.stack_id();
            let info = Event::info(ShadowCell(cur).epoch(), size, kind);
            // SAFETY: this thread's own trace.
            unsafe { (*thr.trace).record(pc, stack, thr.mutexes, info, addr as u64, size as u64) };
        }
        let r = check_and_update(
            &crate::rt::SPILL,
            word,
            pair,
            ShadowCell(cur),
            &thr.clock.clock,
            &mut thr.scratch,
        );
        if let AccessOutcome::Race { prev } = r {
            let off = (mask as u64).trailing_zeros() as usize;
            let len = (mask as u64).count_ones() as usize;
            crate::report::report_race(thr, word + off, len, kind, pc, word, prev);
        }
    });
}

/// The check a `free` of `[addr, addr+size)` makes: a write to every byte, checked
/// against each word's records but recorded only once, as one history event (the
/// caller then fills the block with freed markers).
pub fn free_access(thr: &mut ThreadCtx, addr: usize, size: usize, pc: u64) {
    let fast = cur().fast_state.get();
    if fast & IGNORE != 0 || size == 0 {
        return;
    }
    let stack = thr.stack_id();
    let info = Event::info(ShadowCell(fast).epoch(), size, AccessKind::Write);
    // SAFETY: this thread's own trace.
    unsafe { (*thr.trace).record(pc, stack, thr.mutexes, info, addr as u64, size as u64) };
    let mut race = None;
    umbra_shadow::for_each_word(addr, size, |word, pair, mask| {
        if race.is_none() {
            let cur = ShadowCell(fast | mask as u64);
            if let Some(prev) =
                umbra_shadow::check_only(&crate::rt::SPILL, word, pair, cur, &thr.clock.clock)
            {
                race = Some((word, mask, prev));
            }
        }
    });
    if let Some((word, mask, prev)) = race {
        let off = (mask as u64).trailing_zeros() as usize;
        let len = (mask as u64).count_ones() as usize;
        crate::report::report_race(thr, word + off, len, AccessKind::Write, pc, word, prev);
    }
}

const R: AccessKind = AccessKind::Read;
const W: AccessKind = AccessKind::Write;

macro_rules! access_entry_points {
    ($( $size:literal => $read:ident, $write:ident, $read_pc:ident, $write_pc:ident,
        $uread:ident, $uwrite:ident, $vread:ident, $vwrite:ident, $uvread:ident, $uvwrite:ident; )*) => {$(
        #[no_mangle]
        pub extern "C" fn $read(addr: usize) { access(addr, $size, R, caller_pc()) }
        #[no_mangle]
        pub extern "C" fn $write(addr: usize) { access(addr, $size, W, caller_pc()) }
        #[no_mangle]
        pub extern "C" fn $read_pc(addr: usize, pc: u64) { access_any(addr, $size, R, pc) }
        #[no_mangle]
        pub extern "C" fn $write_pc(addr: usize, pc: u64) { access_any(addr, $size, W, pc) }
        #[no_mangle]
        pub extern "C" fn $uread(addr: usize) { access_any(addr, $size, R, caller_pc()) }
        #[no_mangle]
        pub extern "C" fn $uwrite(addr: usize) { access_any(addr, $size, W, caller_pc()) }
        #[no_mangle]
        pub extern "C" fn $vread(addr: usize) { access_any(addr, $size, R, caller_pc()) }
        #[no_mangle]
        pub extern "C" fn $vwrite(addr: usize) { access_any(addr, $size, W, caller_pc()) }
        #[no_mangle]
        pub extern "C" fn $uvread(addr: usize) { access_any(addr, $size, R, caller_pc()) }
        #[no_mangle]
        pub extern "C" fn $uvwrite(addr: usize) { access_any(addr, $size, W, caller_pc()) }
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
    __tsan_read16 => R; __tsan_write16 => W; __tsan_unaligned_read16 => R; __tsan_unaligned_write16 => W;
    __tsan_volatile_read16 => R; __tsan_volatile_write16 => W;
    __tsan_unaligned_volatile_read16 => R; __tsan_unaligned_volatile_write16 => W;
}

#[no_mangle]
pub extern "C" fn __tsan_read16_pc(addr: usize, pc: u64) {
    access_any(addr, 16, R, pc)
}
#[no_mangle]
pub extern "C" fn __tsan_write16_pc(addr: usize, pc: u64) {
    access_any(addr, 16, W, pc)
}

/// KCSAN-style compound accesses: a read followed by a write.
macro_rules! read_write {
    ($($name:ident => $size:literal;)*) => {$(
        #[no_mangle]
        pub extern "C" fn $name(addr: usize) { access_any(addr, $size, W, caller_pc()) }
    )*};
}
read_write! {
    __tsan_read_write1 => 1; __tsan_read_write2 => 2; __tsan_read_write4 => 4; __tsan_read_write8 => 8; __tsan_read_write16 => 16;
    __tsan_unaligned_read_write1 => 1; __tsan_unaligned_read_write2 => 2; __tsan_unaligned_read_write4 => 4;
    __tsan_unaligned_read_write8 => 8; __tsan_unaligned_read_write16 => 16;
}

#[no_mangle]
pub extern "C" fn __tsan_read_range(addr: usize, size: usize) {
    range_access(addr, size, R, caller_pc())
}
#[no_mangle]
pub extern "C" fn __tsan_write_range(addr: usize, size: usize) {
    range_access(addr, size, W, caller_pc())
}
#[no_mangle]
pub extern "C" fn __tsan_read_range_pc(addr: usize, size: usize, pc: u64) {
    range_access(addr, size, R, pc)
}
#[no_mangle]
pub extern "C" fn __tsan_write_range_pc(addr: usize, size: usize, pc: u64) {
    range_access(addr, size, W, pc)
}

/// A virtual-table pointer update: a write, unless it stores the same value
/// (constructors of derived classes rewrite the vptr with equal values).
#[no_mangle]
pub unsafe extern "C" fn __tsan_vptr_update(vptr: *mut usize, new: usize) {
    // SAFETY: the instrumented code is about to store to `vptr`.
    if unsafe { core::ptr::read_volatile(vptr) } != new {
        access(vptr as usize, 8, W, caller_pc());
    }
}

#[no_mangle]
pub extern "C" fn __tsan_vptr_read(vptr: usize) {
    access(vptr, 8, R, caller_pc())
}

/// Pushes the caller's return address on the shadow stack.
#[no_mangle]
pub extern "C" fn __tsan_func_entry(pc: u64) {
    if !cur().push_frame(pc) {
        func_entry_slow(pc, caller_pc());
    }
}

/// `site` is an address inside the function being entered (the return address of
/// its call to `__tsan_func_entry`).
#[cold]
#[inline(never)]
fn func_entry_slow(pc: u64, site: u64) {
    let t = cur();
    if !t.attached() {
        with_thread(|_| ()); // attaches the thread, which maps its shadow stack
        t.push_frame(pc);
        return;
    }
    if !t.stack.get().is_null() && t.depth.get() < crate::thread::STACK_CAP {
        with_thread(|thr| {
            // A Rust thread starting up: the capacity is hidden, not smaller.
            if thr.startup.is_some() {
                let d = t.depth.get();
                // SAFETY: d < STACK_CAP: the shadow stack mapping holds STACK_CAP frames.
                unsafe { *t.stack.get().add(d) = pc };
                t.depth.set(d + 1);
                thr.std_startup_entry(site);
            }
        });
    }
    // Otherwise the shadow stack is full (recursion deeper than 65,536 frames):
    // frames beyond are not recorded; exits below keep depth consistent.
}

#[no_mangle]
pub extern "C" fn __tsan_func_exit() {
    cur().pop_frame();
}
