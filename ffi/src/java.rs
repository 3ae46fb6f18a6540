//! The Java interface (`__tsan_java_*`, compiler-rt's `tsan_interface_java.h`): a
//! JVM built with TSan declares its heap with `__tsan_java_init`, tells the runtime
//! about every object it allocates, frees and moves (a moving collector), and maps
//! monitors and volatiles onto lock and acquire/release calls. Objects are kept in
//! a map of blocks inside the declared heap (for `__tsan_java_find` and for the
//! `heap block` location of reports); monitors are sync objects with an owner and
//! a recursion count; a move takes the sync objects of the old range to the new
//! one and, as compiler-rt does, starts the new range with empty shadow (the
//! history names accesses by address, so moved records could not be explained).
//! Moves and frees run in the JVM's stop-the-world phase: no thread touches the
//! range meanwhile.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::ffi::c_int;
use core::sync::atomic::{AtomicUsize, Ordering};

use umbra_clocks::VectorClock;
use umbra_report::ReportKind;
use umbra_sys::SpinMutex;

use crate::intercept::app_heap::Block;
use crate::thread::{in_runtime, with_thread};

/// The program counter the runtime records for a Java call (allocation, monitor
/// operation): none. The caller is the JVM, whose native return address says
/// nothing about the Java code; the Java frames are on the shadow stack already
/// (pushed with `__tsan_func_entry`), so stacks start there, as compiler-rt's do.
const JAVA_PC: u64 = 0;

/// Objects are 8-byte aligned, as compiler-rt's `kHeapAlignment`.
const HEAP_ALIGNMENT: usize = 8;

/// The declared Java heap, `[HEAP_BEGIN, HEAP_END)`; both 0 before
/// `__tsan_java_init`.
static HEAP_BEGIN: AtomicUsize = AtomicUsize::new(0);
static HEAP_END: AtomicUsize = AtomicUsize::new(0);

/// Live Java objects: start → block.
static BLOCKS: SpinMutex<BTreeMap<usize, Block>> = SpinMutex::new(BTreeMap::new());

/// Whether `[addr, addr+size)` lies inside the declared heap; otherwise says so
/// (naming the call) and the call is ignored. compiler-rt checks the same only in
/// debug builds and goes on regardless; here a JVM bug costs a line, never the
/// runtime's own state.
fn in_heap(call: &str, addr: usize, size: usize) -> bool {
    // Relaxed: the heap is declared once, before the JVM starts the threads that
    // make these calls (thread creation orders the stores before them).
    let (begin, end) = (
        HEAP_BEGIN.load(Ordering::Relaxed),
        HEAP_END.load(Ordering::Relaxed),
    );
    if begin == 0 {
        umbra_sys::eprint_fmt(format_args!(
            "umbra: {}: __tsan_java_init was not called; ignored\n",
            call
        ));
        return false;
    }
    if addr < begin || addr.saturating_add(size) > end {
        umbra_sys::eprint_fmt(format_args!(
            "umbra: {}: [{:#x}, {:#x}) is outside the Java heap [{:#x}, {:#x}); ignored\n",
            call,
            addr,
            addr.saturating_add(size),
            begin,
            end
        ));
        return false;
    }
    true
}

/// The live Java object containing `addr`, for the location of a report.
pub fn block_of(addr: usize) -> Option<(usize, Block)> {
    // Relaxed: see `in_heap`.
    if HEAP_BEGIN.load(Ordering::Relaxed) == 0 {
        return None;
    }
    let blocks = BLOCKS.lock();
    blocks
        .range(..=addr)
        .next_back()
        .filter(|(&start, b)| addr < start + b.size)
        .map(|(&start, &b)| (start, b))
}

/// Takes the blocks starting in `[lo, hi)` out of the map.
fn take_blocks(blocks: &mut BTreeMap<usize, Block>, lo: usize, hi: usize) -> Vec<(usize, Block)> {
    let starts: Vec<usize> = blocks.range(lo..hi).map(|(&s, _)| s).collect();
    starts
        .into_iter()
        .filter_map(|s| blocks.remove(&s).map(|b| (s, b)))
        .collect()
}

#[no_mangle]
pub extern "C" fn __tsan_java_init(heap_begin: usize, heap_size: usize) {
    crate::rt::ensure_init();
    if heap_begin == 0 || heap_size == 0 || heap_begin.checked_add(heap_size).is_none() {
        umbra_sys::eprint_fmt(format_args!(
            "umbra: __tsan_java_init: bad heap [{:#x}, +{:#x}); ignored\n",
            heap_begin, heap_size
        ));
        return;
    }
    // Relaxed: see `in_heap`.
    HEAP_BEGIN.store(heap_begin, Ordering::Relaxed);
    HEAP_END.store(heap_begin + heap_size, Ordering::Relaxed);
}

/// The end of the Java program: what the end of the process does (reports still
/// being written, thread leaks, the count), returning the exit status the process
/// would get, `exitcode` if anything was reported, else 0. The JVM then exits
/// itself; the process's own exit path finds nothing new to print.
#[no_mangle]
pub extern "C" fn __tsan_java_fini() -> c_int {
    crate::rt::finish().unwrap_or(0)
}

/// A new object at `[ptr, ptr+size)`: fresh shadow, and its block (with the
/// allocating thread and stack, for reports).
#[no_mangle]
pub extern "C" fn __tsan_java_alloc(ptr: usize, size: usize) {
    with_thread(|thr| {
        if !in_heap("__tsan_java_alloc", ptr, size) || size == 0 {
            return;
        }
        crate::rt::reset_shadow(ptr, size, 0);
        // The shadow was reset: this thread's cache of recorded accesses is stale.
        thr.generation += 1;
        let block = Block {
            size,
            tid: thr.tid,
            stack: thr.stack_id(),
            pc: JAVA_PC,
        };
        BLOCKS.lock().insert(ptr, block);
    });
}

/// The objects in `[ptr, ptr+size)` are dead: their blocks and sync objects go.
/// Their shadow stays (compiler-rt's `FreeRange` without reset): the next
/// allocation there resets it.
#[no_mangle]
pub extern "C" fn __tsan_java_free(ptr: usize, size: usize) {
    in_runtime(|| {
        if !in_heap("__tsan_java_free", ptr, size) {
            return;
        }
        drop(take_blocks(&mut BLOCKS.lock(), ptr, ptr + size));
        crate::sync::reset_range(ptr, size);
    });
}

/// The collector moved `[src, src+size)` to `[dst, dst+size)` (the ranges may
/// overlap): the objects and their monitors move along; the new range starts with
/// empty shadow (as compiler-rt's), so the objects' earlier accesses are
/// forgotten and only accesses after the move can race.
#[no_mangle]
pub extern "C" fn __tsan_java_move(src: usize, dst: usize, size: usize) {
    with_thread(|thr| {
        if !in_heap("__tsan_java_move", src, size)
            || !in_heap("__tsan_java_move", dst, size)
            || src == dst
            || size == 0
        {
            return;
        }
        // Sync objects: their table indexes leave the old words first, so that
        // dropping whatever still sits in the new range (objects freed without
        // `__tsan_java_free`) cannot drop a moving one; then they land at the
        // same offsets in the new range.
        let mut moved: Vec<(usize, u32)> = Vec::new();
        umbra_shadow::take_meta_range_at(src, size, |word, index| moved.push((word - src, index)));
        crate::sync::reset_range(dst, size);
        for (offset, index) in moved {
            // Release: pairs with the Acquire of `sync::find`, as the creator's
            // store does (the object was initialized before its index was first
            // published; this makes that visible through the new word too).
            umbra_shadow::meta_word_for_create(dst + offset).store(index, Ordering::Release);
        }
        {
            let mut blocks = BLOCKS.lock();
            let old = take_blocks(&mut blocks, src, src + size);
            drop(take_blocks(&mut blocks, dst, dst + size));
            for (start, block) in old {
                blocks.insert(start - src + dst, block);
            }
        }
        crate::rt::reset_shadow(dst, size, 0);
        thr.generation += 1;
    });
}

/// The first object starting in `[*from, to)`: stores its start into `*from` and
/// returns its size; 0 (and `*from` untouched) when there is none.
///
/// # Safety
/// `from` points to a readable and writable `usize`.
#[no_mangle]
pub unsafe extern "C" fn __tsan_java_find(from: *mut usize, to: usize) -> usize {
    // SAFETY: the caller passes a valid pointer (the JVM's own variable).
    let start = unsafe { *from };
    let found = in_runtime(|| {
        let aligned = (start + HEAP_ALIGNMENT - 1) & !(HEAP_ALIGNMENT - 1);
        if aligned >= to {
            return None;
        }
        BLOCKS
            .lock()
            .range(aligned..to)
            .next()
            .map(|(&s, b)| (s, b.size))
    });
    match found {
        Some((s, size)) => {
            // SAFETY: as above.
            unsafe { *from = s };
            size
        }
        None => 0,
    }
}

/// A finalizer is about to run: it happens after everything every thread has
/// done so far (compiler-rt's `AcquireGlobal`), since the collector found the
/// object unreachable only after all of it.
#[no_mangle]
pub extern "C" fn __tsan_java_finalize() {
    with_thread(|thr| {
        let c = &mut *thr;
        if c.ignore_sync > 0 {
            return;
        }
        let mut all = VectorClock::new();
        for (sid, epoch) in crate::intercept::sleep::slot_epochs()
            .into_iter()
            .enumerate()
        {
            if epoch != 0 {
                all.set(sid as u16, epoch);
            }
        }
        c.clock.acquire(&all);
        thr.refresh_fast_state();
    });
}

/// Reports a misuse of the monitor at `addr` unless it was already reported.
fn misuse(g: &mut crate::sync::SyncState, kind: ReportKind) -> Option<ReportKind> {
    if g.broken || !crate::rt::OPTIONS.lock().report_mutex_bugs {
        return None;
    }
    g.broken = true;
    Some(kind)
}

/// How a monitor is taken.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Hold {
    Write,
    Read,
}

/// The current thread took the monitor at `addr` (`recursion` more times, for
/// writing): it acquires what the monitor's writers and readers released, and
/// owns it for writing. compiler-rt's `MutexPostLock`/`MutexPostReadLock` with
/// Java's flags: reentrant, created on first use.
fn locked(addr: usize, hold: Hold, recursion: u32) {
    let pc = JAVA_PC;
    with_thread(|thr| {
        if !in_heap("__tsan_java_mutex_lock", addr, 1) {
            return;
        }
        let me = thr.tid + 1;
        let stack = thr.stack_id();
        let s = crate::sync::get_or_create(addr);
        let mut g = s.lock();
        if g.created_pc == 0 && g.created_stack == 0 {
            g.created_pc = pc;
            g.created_stack = stack;
        }
        let bug = match hold {
            Hold::Write => {
                g.last_lock_pc = pc;
                g.last_lock_stack = stack;
                if g.owner == me {
                    g.recursion += recursion;
                    None
                } else {
                    let double = g.owner != 0;
                    g.owner = me;
                    g.recursion = recursion;
                    if double {
                        misuse(&mut g, ReportKind::MutexDoubleLock)
                    } else {
                        None
                    }
                }
            }
            Hold::Read if g.owner != 0 => misuse(&mut g, ReportKind::MutexBadReadLock),
            Hold::Read => None,
        };
        let c = &mut *thr;
        if c.ignore_sync == 0 {
            c.clock.acquire(&g.clock);
            if hold == Hold::Write {
                c.clock.acquire(&g.read_clock);
            }
        }
        drop(g);
        thr.refresh_fast_state();
        let mode = match hold {
            Hold::Write => crate::mutexset::LockMode::Write,
            Hold::Read => crate::mutexset::LockMode::Read,
        };
        crate::mutexset::locked(thr, addr, mode);
        if let Some(kind) = bug {
            crate::report::report_mutex_misuse(kind, addr, pc, None);
        }
    });
}

/// How much of a write hold an unlock gives up.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unlock {
    /// One level of recursion.
    Once,
    /// Every level (`__tsan_java_mutex_unlock_rec`, before `Object.wait`).
    Fully,
}

/// The current thread gives up (one or all levels of) its write hold of the
/// monitor at `addr`; when no level is left, its clock is published into the
/// monitor. Returns the levels given up (0 for a misuse: the thread did not hold
/// it, reported as `unlock of an unlocked mutex`).
fn write_unlocked(addr: usize, how: Unlock) -> u32 {
    let pc = JAVA_PC;
    with_thread(|thr| {
        if !in_heap("__tsan_java_mutex_unlock", addr, 1) {
            return 0;
        }
        let me = thr.tid + 1;
        let s = crate::sync::get_or_create(addr);
        let mut g = s.lock();
        if g.owner != me || g.recursion == 0 {
            let bug = misuse(&mut g, ReportKind::MutexBadUnlock);
            drop(g);
            if let Some(kind) = bug {
                crate::report::report_mutex_misuse(kind, addr, pc, None);
            }
            return 0;
        }
        let given_up = match how {
            Unlock::Once => 1,
            Unlock::Fully => g.recursion,
        };
        g.recursion -= given_up;
        if g.recursion == 0 {
            g.owner = 0;
            let c = &mut *thr;
            if c.ignore_sync == 0 {
                c.clock.release_store(&mut g.clock);
            }
        }
        drop(g);
        thr.refresh_fast_state();
        for _ in 0..given_up {
            crate::mutexset::unlocked(thr, addr);
        }
        given_up
    })
    .unwrap_or(0)
}

#[no_mangle]
pub extern "C" fn __tsan_java_mutex_lock(addr: usize) {
    locked(addr, Hold::Write, 1);
}

#[no_mangle]
pub extern "C" fn __tsan_java_mutex_unlock(addr: usize) {
    write_unlocked(addr, Unlock::Once);
}

#[no_mangle]
pub extern "C" fn __tsan_java_mutex_read_lock(addr: usize) {
    locked(addr, Hold::Read, 0);
}

/// A reader's release accumulates in the read clock: every reader happens before
/// the next writer, readers not before each other.
#[no_mangle]
pub extern "C" fn __tsan_java_mutex_read_unlock(addr: usize) {
    with_thread(|thr| {
        if !in_heap("__tsan_java_mutex_read_unlock", addr, 1) {
            return;
        }
        let s = crate::sync::get_or_create(addr);
        let mut g = s.lock();
        let c = &mut *thr;
        if c.ignore_sync == 0 {
            c.clock.release(&mut g.read_clock);
        }
        drop(g);
        thr.refresh_fast_state();
        crate::mutexset::unlocked(thr, addr);
    });
}

/// Re-takes a monitor `rec` levels deep (after `Object.wait`), as `rec` locks.
#[no_mangle]
pub extern "C" fn __tsan_java_mutex_lock_rec(addr: usize, rec: c_int) {
    if rec <= 0 {
        umbra_sys::eprint_fmt(format_args!(
            "umbra: __tsan_java_mutex_lock_rec: recursion {} is not positive; ignored\n",
            rec
        ));
        return;
    }
    locked(addr, Hold::Write, rec as u32);
}

/// Gives up every level of the calling thread's hold of a monitor (before
/// `Object.wait`); returns how many there were, for `__tsan_java_mutex_lock_rec`.
#[no_mangle]
pub extern "C" fn __tsan_java_mutex_unlock_rec(addr: usize) -> c_int {
    write_unlocked(addr, Unlock::Fully) as c_int
}

/// A volatile read (or other acquire) of the variable at `addr`.
#[no_mangle]
pub extern "C" fn __tsan_java_acquire(addr: usize) {
    with_thread(|thr| {
        if in_heap("__tsan_java_acquire", addr, 1) {
            crate::sync::acquire(thr, addr);
        }
    });
}

/// How a volatile write publishes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Release {
    /// Joins what earlier releases put there.
    Join,
    /// Replaces it.
    Store,
}

/// A release into the variable at `addr` by the current thread. The JVM's own
/// store of the variable may reach the runtime as a relaxed atomic store by the
/// same thread (in instrumented native code): the release is recorded as heading
/// this thread's release sequence on the location (as a release RMW or release
/// store would), so that store continues it instead of ending it, and a reader
/// that acquires after seeing the value gets the release (as under compiler-rt,
/// where relaxed stores leave the location's clock alone).
fn volatile_release(call: &str, addr: usize, how: Release) {
    with_thread(|thr| {
        if !in_heap(call, addr, 1) || thr.ignore_sync > 0 {
            return;
        }
        let s = crate::sync::get_or_create(addr);
        let mut g = s.lock();
        let state = &mut *g;
        let c = &mut *thr;
        match how {
            Release::Join => c.clock.release_rmw(&mut state.clock, &mut state.seqs),
            Release::Store => c
                .clock
                .release_store_atomic(&mut state.clock, &mut state.seqs),
        }
        // SeqCst, as every change of the count (see `atomics`): the clock changed,
        // so a thread that took the previous one must not skip taking this one on
        // its next acquire load. No memory operation is part of this release, so
        // the count goes from even to even in one step.
        s.version.fetch_add(2, Ordering::SeqCst);
        drop(g);
        thr.refresh_fast_state();
    });
}

#[no_mangle]
pub extern "C" fn __tsan_java_release(addr: usize) {
    volatile_release("__tsan_java_release", addr, Release::Join);
}

/// A volatile write of the variable at `addr`: its clock becomes the writer's.
#[no_mangle]
pub extern "C" fn __tsan_java_release_store(addr: usize) {
    volatile_release("__tsan_java_release_store", addr, Release::Store);
}

pub fn fork_lock() {
    BLOCKS.lock_raw();
}

/// # Safety
/// After [`fork_lock`], in parent or child.
pub unsafe fn fork_unlock() {
    // SAFETY: taken by fork_lock.
    unsafe { BLOCKS.force_unlock() };
}
