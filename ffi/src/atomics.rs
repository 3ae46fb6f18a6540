//! `__tsan_atomic*`: the atomic operations of C11/C++11/Rust, performed for the
//! program and turned into clock operations by their memory order, following the
//! rules in `umbra_clocks::ThreadClock` (release sequences through RMWs, relaxed
//! stores ending them, standalone fences).
//!
//! An operation that moves clocks runs the memory operation under the lock of the
//! location's sync object, so a load that reads a stored value also reads the
//! clock that store published. Purely relaxed operations on a location that never
//! saw a release, by a thread that never ran a release fence, only touch shadow.

use core::sync::atomic::{self, AtomicU16, AtomicU32, AtomicU64, AtomicU8, Ordering};

use crate::entry::{access_slow, caller_pc, cell_bits, AccessKind};
use crate::sync;
use crate::thread::{cur, with_thread, OnLeave, Rt, ThreadCtx, Unknown};
use umbra_shadow::cell::{mask_of, ShadowCell};
use umbra_shadow::pair_if_mapped;

/// The memory order of an atomic operation (C11's `memory_order`, the ABI's
/// `__tsan_memory_order`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MemoryOrder {
    Relaxed,
    Consume,
    Acquire,
    Release,
    AcqRel,
    SeqCst,
}

impl MemoryOrder {
    /// The order the program passed as `mo` to `func`. GCC's HLE and `__sync`
    /// flags above bit 15 are masked off, as TSan does. Any other value is not a
    /// memory order: it is reported (one line naming the value and the function)
    /// and treated as seq_cst, the strongest, so no synchronization is lost.
    fn from_abi(mo: i32, func: &str) -> MemoryOrder {
        match mo & 0x7fff {
            0 => MemoryOrder::Relaxed,
            1 => MemoryOrder::Consume,
            2 => MemoryOrder::Acquire,
            3 => MemoryOrder::Release,
            4 => MemoryOrder::AcqRel,
            5 => MemoryOrder::SeqCst,
            _ => {
                umbra_sys::eprint_fmt(format_args!(
                    "umbra: invalid memory order {} passed to {}; treating it as seq_cst\n",
                    mo, func
                ));
                MemoryOrder::SeqCst
            }
        }
    }

    /// Whether a load with this order acquires (consume is treated as acquire).
    fn is_acquire(self) -> bool {
        matches!(
            self,
            MemoryOrder::Consume | MemoryOrder::Acquire | MemoryOrder::AcqRel | MemoryOrder::SeqCst
        )
    }

    fn is_release(self) -> bool {
        matches!(
            self,
            MemoryOrder::Release | MemoryOrder::AcqRel | MemoryOrder::SeqCst
        )
    }
}

/// What an atomic operation does to its location, for the clock rules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AtomicOp {
    Load,
    Store,
    Rmw,
}

/// Shadow check of an atomic access: the same dedup fast path as plain accesses
/// (an atomic access of this epoch already recorded for these bytes ends it),
/// then the slow path.
#[inline]
fn check(addr: usize, size: usize, kind: AccessKind, pc: u64) {
    if size == 16 {
        // A 16-byte atomic is two 8-byte atomic accesses, as in TSan.
        check(addr, 8, kind, pc);
        check(addr + 8, 8, kind, pc);
        return;
    }
    if (addr & 7) + size > 8 {
        // Misaligned atomics (not produced by compilers for lock-free types): a
        // plain range check, as before the access kinds were typed.
        let plain = AccessKind::new(kind.is_write(), false);
        crate::entry::range_access(addr, size, plain, pc);
        return;
    }
    let cur = cur().fast_state.get() | mask_of(addr, size) as u64 | cell_bits(kind);
    if pair_if_mapped(addr)
        .is_some_and(|pair| crate::entry::already_recorded(addr, pair, cur, kind))
    {
        return;
    }
    access_slow(addr, size, kind, pc, ShadowCell(cur));
}

const ATOMIC_READ: AccessKind = AccessKind::AtomicRead;
const ATOMIC_WRITE: AccessKind = AccessKind::AtomicWrite;

/// Runs `op` (the memory operation; returns whether a CAS succeeded) with the
/// clock effects of `kind` at order `mo` (`fmo` for a failed CAS).
///
/// Operations that publish (release stores and RMWs) or acquire through an RMW
/// create the location's sync object and run under its lock. A load runs without
/// it first; if the location has a sync object, the load is repeated under its
/// lock, so the value returned is one whose clock it takes (a release store
/// writes value and clock under that lock). A relaxed RMW on a location without
/// a sync object has no clock effect, except for a later acquire fence, and takes
/// the clock if a sync object appeared meanwhile.
///
/// All of it runs inside the runtime: a signal arriving meanwhile waits, so its
/// handler never finds a sync object locked or a clock half-updated by this thread.
///
/// Only on a thread whose context a runtime scope already holds (a fault's
/// handler that interrupted runtime work) is `op` run alone, as for a runtime
/// caller.
#[inline]
fn with_clocks(
    addr: usize,
    kind: AtomicOp,
    mo: MemoryOrder,
    fmo: MemoryOrder,
    mut op: impl FnMut() -> bool,
) {
    match Rt::enter(OnLeave::DeliverPending, Unknown::Attach) {
        Some(mut rt) => with_clocks_in_rt(&mut rt, addr, kind, mo, fmo, op),
        None => {
            op();
        }
    }
}

fn with_clocks_in_rt(
    c: &mut ThreadCtx,
    addr: usize,
    kind: AtomicOp,
    mo: MemoryOrder,
    fmo: MemoryOrder,
    mut op: impl FnMut() -> bool,
) {
    if c.ignore_depth > 0 || c.ignore_sync > 0 {
        op();
        return;
    }
    let needs_sync = match kind {
        AtomicOp::Load => false,
        AtomicOp::Store => mo.is_release() || c.clock.has_release_fence(),
        AtomicOp::Rmw => mo.is_release() || mo.is_acquire() || c.clock.has_release_fence(),
    };
    let sv = if needs_sync {
        sync::get_or_create(addr)
    } else if let Some(sv) = sync::find(addr) {
        if kind == AtomicOp::Load && load_without_lock(c, sv, addr, mo.is_acquire(), &mut op) {
            return;
        }
        sv
    } else {
        // No sync object: nothing to synchronize with, unless one appears meanwhile.
        let ok = op();
        let Some(sv) = sync::find(addr) else { return };
        match kind {
            // Repeat the load under the lock, so its value and clock match.
            AtomicOp::Load => sv,
            // A relaxed store publishes nothing without a release fence.
            AtomicOp::Store => return,
            // The RMW is done; its read half takes the clock now.
            AtomicOp::Rmw => {
                let g = sv.lock();
                if !ok && fmo.is_acquire() {
                    c.clock.acquire(&g.clock)
                } else {
                    c.clock.relaxed_load(&g.clock)
                }
                drop(g);
                c.refresh_fast_state();
                return;
            }
        }
    };
    {
        let mut g = sv.lock();
        // SeqCst: the count turns odd before the memory operation and even after
        // the clock update, in the one total order the loads of `load_without_lock`
        // are part of.
        let writes = kind != AtomicOp::Load;
        if writes {
            sv.version.fetch_add(1, Ordering::SeqCst);
        }
        let ok = op();
        let (kind, mo) = if kind == AtomicOp::Rmw && !ok {
            (AtomicOp::Load, fmo)
        } else {
            (kind, mo)
        };
        let st = &mut *g;
        match kind {
            AtomicOp::Load => {
                if mo.is_acquire() {
                    c.clock.acquire(&st.clock)
                } else {
                    c.clock.relaxed_load(&st.clock)
                }
            }
            AtomicOp::Store => {
                if mo.is_release() {
                    c.clock.release_store_atomic(&mut st.clock, &mut st.seqs)
                } else {
                    c.clock.relaxed_store(&mut st.clock, &mut st.seqs)
                }
            }
            AtomicOp::Rmw => match (mo.is_acquire(), mo.is_release()) {
                (true, true) => c.clock.acquire_release(&mut st.clock, &mut st.seqs),
                (true, false) => {
                    c.clock.acquire(&st.clock);
                    c.clock.relaxed_rmw_store(&mut st.clock, &mut st.seqs);
                }
                (false, true) => {
                    c.clock.relaxed_load(&st.clock);
                    c.clock.release_rmw(&mut st.clock, &mut st.seqs);
                }
                (false, false) => {
                    c.clock.relaxed_load(&st.clock);
                    c.clock.relaxed_rmw_store(&mut st.clock, &mut st.seqs);
                }
            },
        }
        if writes {
            sv.version.fetch_add(1, Ordering::SeqCst);
        }
        if kind == AtomicOp::Load {
            // Relaxed: under the lock no writer is between its two increments.
            remember_acquired(c, addr, sv.version.load(Ordering::Relaxed), mo.is_acquire());
        }
        drop(g);
        c.refresh_fast_state();
    }
}

fn cache_slot(addr: usize) -> usize {
    (addr >> 3) % crate::thread::ACQ_CACHE
}

fn remember_acquired(c: &mut ThreadCtx, addr: usize, version: u64, into_clock: bool) {
    let Some(caches) = c.caches.as_deref_mut() else {
        return;
    };
    let e = &mut caches.acquired[cache_slot(addr)];
    // A relaxed load after an acquire of the same version keeps the stronger fact.
    let stronger = into_clock || (e.addr == addr && e.version == version && e.into_clock);
    *e = crate::thread::AcquiredSync {
        addr,
        version,
        into_clock: stronger,
    };
}

/// A load from a location with a sync object whose clock this thread already took
/// at the current version: done without the lock (spinning readers would otherwise
/// fight the writer for it). Returns false when the slow path is needed.
fn load_without_lock(
    c: &ThreadCtx,
    sv: &sync::SyncVar,
    addr: usize,
    acquire: bool,
    op: &mut impl FnMut() -> bool,
) -> bool {
    let Some(caches) = c.caches.as_deref() else {
        return false;
    };
    let e = caches.acquired[cache_slot(addr)];
    let v = e.version;
    // An acquire needs the clock in C_T; a relaxed load is satisfied by either.
    if e.addr != addr || (acquire && !e.into_clock) {
        return false;
    }
    // SeqCst: see with_clocks; a version equal before and after the load, even and
    // already taken, means every store the load can have read published a clock
    // this thread holds.
    let v1 = sv.version.load(Ordering::SeqCst);
    if v1 != v || v1 & 1 != 0 {
        return false;
    }
    op();
    sv.version.load(Ordering::SeqCst) == v1
}

macro_rules! atomic_size {
    ($t:ty, $at:ty, $size:literal,
     $load:ident, $store:ident, $xchg:ident, $add:ident, $sub:ident, $and:ident, $or:ident, $xor:ident, $nand:ident,
     $cas_val:ident, $cas_strong:ident, $cas_weak:ident) => {
        #[no_mangle]
        pub unsafe extern "C" fn $load(a: *const $t, mo: i32) -> $t {
            let mo = MemoryOrder::from_abi(mo, stringify!($load));
            check(a as usize, $size, ATOMIC_READ, caller_pc());
            let mut v = 0;
            // SAFETY: the program passes a valid, aligned atomic location.
            with_clocks(a as usize, AtomicOp::Load, mo, mo, || { v = unsafe { &*(a as *const $at) }.load(Ordering::SeqCst); true });
            v
        }
        #[no_mangle]
        pub unsafe extern "C" fn $store(a: *mut $t, v: $t, mo: i32) {
            let mo = MemoryOrder::from_abi(mo, stringify!($store));
            check(a as usize, $size, ATOMIC_WRITE, caller_pc());
            // SAFETY: as above.
            with_clocks(a as usize, AtomicOp::Store, mo, mo, || { unsafe { &*(a as *const $at) }.store(v, Ordering::SeqCst); true });
        }
        atomic_size!(@rmw $t, $at, $size, $xchg, swap);
        atomic_size!(@rmw $t, $at, $size, $add, fetch_add);
        atomic_size!(@rmw $t, $at, $size, $sub, fetch_sub);
        atomic_size!(@rmw $t, $at, $size, $and, fetch_and);
        atomic_size!(@rmw $t, $at, $size, $or, fetch_or);
        atomic_size!(@rmw $t, $at, $size, $xor, fetch_xor);
        atomic_size!(@rmw $t, $at, $size, $nand, fetch_nand);
        #[no_mangle]
        pub unsafe extern "C" fn $cas_val(a: *mut $t, cmp: $t, new: $t, mo: i32, fmo: i32) -> $t {
            let mo = MemoryOrder::from_abi(mo, stringify!($cas_val));
            let fmo = MemoryOrder::from_abi(fmo, stringify!($cas_val));
            check(a as usize, $size, ATOMIC_WRITE, caller_pc());
            let mut old = 0;
            with_clocks(a as usize, AtomicOp::Rmw, mo, fmo, || {
                // SAFETY: as above.
                let r = unsafe { &*(a as *const $at) }.compare_exchange(cmp, new, Ordering::SeqCst, Ordering::SeqCst);
                match r { Ok(v) => { old = v; true } Err(v) => { old = v; false } }
            });
            old
        }
        #[no_mangle]
        pub unsafe extern "C" fn $cas_strong(a: *mut $t, cmp: *mut $t, new: $t, mo: i32, fmo: i32) -> i32 {
            let mo = MemoryOrder::from_abi(mo, stringify!($cas_strong));
            let fmo = MemoryOrder::from_abi(fmo, stringify!($cas_strong));
            check(a as usize, $size, ATOMIC_WRITE, caller_pc());
            // SAFETY: `cmp` points to the expected value, per the ABI.
            let expected = unsafe { *cmp };
            let mut ok = false;
            with_clocks(a as usize, AtomicOp::Rmw, mo, fmo, || {
                // SAFETY: as above.
                match unsafe { &*(a as *const $at) }.compare_exchange(expected, new, Ordering::SeqCst, Ordering::SeqCst) {
                    Ok(_) => ok = true,
                    // SAFETY: as above.
                    Err(v) => unsafe { *cmp = v },
                }
                ok
            });
            ok as i32
        }
        #[no_mangle]
        pub unsafe extern "C" fn $cas_weak(a: *mut $t, cmp: *mut $t, new: $t, mo: i32, fmo: i32) -> i32 {
            // SAFETY: forwarded (a strong CAS is a valid weak CAS).
            unsafe { $cas_strong(a, cmp, new, mo, fmo) }
        }
    };
    (@rmw $t:ty, $at:ty, $size:literal, $name:ident, $method:ident) => {
        #[no_mangle]
        pub unsafe extern "C" fn $name(a: *mut $t, v: $t, mo: i32) -> $t {
            let mo = MemoryOrder::from_abi(mo, stringify!($name));
            check(a as usize, $size, ATOMIC_WRITE, caller_pc());
            let mut old = 0;
            // SAFETY: the program passes a valid, aligned atomic location.
            with_clocks(a as usize, AtomicOp::Rmw, mo, mo, || { old = unsafe { &*(a as *const $at) }.$method(v, Ordering::SeqCst); true });
            old
        }
    };
}

atomic_size!(
    u8,
    AtomicU8,
    1,
    __tsan_atomic8_load,
    __tsan_atomic8_store,
    __tsan_atomic8_exchange,
    __tsan_atomic8_fetch_add,
    __tsan_atomic8_fetch_sub,
    __tsan_atomic8_fetch_and,
    __tsan_atomic8_fetch_or,
    __tsan_atomic8_fetch_xor,
    __tsan_atomic8_fetch_nand,
    __tsan_atomic8_compare_exchange_val,
    __tsan_atomic8_compare_exchange_strong,
    __tsan_atomic8_compare_exchange_weak
);
atomic_size!(
    u16,
    AtomicU16,
    2,
    __tsan_atomic16_load,
    __tsan_atomic16_store,
    __tsan_atomic16_exchange,
    __tsan_atomic16_fetch_add,
    __tsan_atomic16_fetch_sub,
    __tsan_atomic16_fetch_and,
    __tsan_atomic16_fetch_or,
    __tsan_atomic16_fetch_xor,
    __tsan_atomic16_fetch_nand,
    __tsan_atomic16_compare_exchange_val,
    __tsan_atomic16_compare_exchange_strong,
    __tsan_atomic16_compare_exchange_weak
);
atomic_size!(
    u32,
    AtomicU32,
    4,
    __tsan_atomic32_load,
    __tsan_atomic32_store,
    __tsan_atomic32_exchange,
    __tsan_atomic32_fetch_add,
    __tsan_atomic32_fetch_sub,
    __tsan_atomic32_fetch_and,
    __tsan_atomic32_fetch_or,
    __tsan_atomic32_fetch_xor,
    __tsan_atomic32_fetch_nand,
    __tsan_atomic32_compare_exchange_val,
    __tsan_atomic32_compare_exchange_strong,
    __tsan_atomic32_compare_exchange_weak
);
atomic_size!(
    u64,
    AtomicU64,
    8,
    __tsan_atomic64_load,
    __tsan_atomic64_store,
    __tsan_atomic64_exchange,
    __tsan_atomic64_fetch_add,
    __tsan_atomic64_fetch_sub,
    __tsan_atomic64_fetch_and,
    __tsan_atomic64_fetch_or,
    __tsan_atomic64_fetch_xor,
    __tsan_atomic64_fetch_nand,
    __tsan_atomic64_compare_exchange_val,
    __tsan_atomic64_compare_exchange_strong,
    __tsan_atomic64_compare_exchange_weak
);

/// 16-byte atomics through `lock cmpxchg16b`.
mod wide {
    /// Compare-and-swap of 16 bytes; returns the previous value.
    ///
    /// # Safety
    /// `p` valid for 16 bytes and 16-byte aligned.
    pub unsafe fn cas(p: *mut u128, old: u128, new: u128) -> u128 {
        let (lo, hi): (u64, u64);
        // SAFETY: per the contract; rbx is swapped in and restored (LLVM reserves it).
        unsafe {
            core::arch::asm!(
                "xchg r8, rbx",
                "lock cmpxchg16b xmmword ptr [rsi]",
                "mov rbx, r8",
                in("rsi") p,
                inout("r8") new as u64 => _,
                inout("rax") old as u64 => lo,
                inout("rdx") (old >> 64) as u64 => hi,
                in("rcx") (new >> 64) as u64,
                options(nostack),
            );
        }
        lo as u128 | (hi as u128) << 64
    }

    /// Applies `f` atomically; returns the previous value.
    ///
    /// # Safety
    /// As [`cas`].
    pub unsafe fn update(p: *mut u128, f: impl Fn(u128) -> u128) -> u128 {
        // SAFETY: forwarded.
        let mut cur = unsafe { cas(p, 0, 0) };
        loop {
            // SAFETY: forwarded.
            let seen = unsafe { cas(p, cur, f(cur)) };
            if seen == cur {
                return cur;
            }
            cur = seen;
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn __tsan_atomic128_load(a: *const u128, mo: i32) -> u128 {
    let mo = MemoryOrder::from_abi(mo, "__tsan_atomic128_load");
    check(a as usize, 16, ATOMIC_READ, caller_pc());
    let mut v = 0;
    with_clocks(a as usize, AtomicOp::Load, mo, mo, || {
        // SAFETY: the program passes a valid 16-byte aligned location; cas(0, 0)
        // only writes when the value is already 0.
        v = unsafe { wide::cas(a as *mut u128, 0, 0) };
        true
    });
    v
}

#[no_mangle]
pub unsafe extern "C" fn __tsan_atomic128_store(a: *mut u128, v: u128, mo: i32) {
    let mo = MemoryOrder::from_abi(mo, "__tsan_atomic128_store");
    check(a as usize, 16, ATOMIC_WRITE, caller_pc());
    with_clocks(a as usize, AtomicOp::Store, mo, mo, || {
        // SAFETY: the program passes a valid 16-byte aligned location.
        unsafe { wide::update(a, |_| v) };
        true
    });
}

macro_rules! rmw128 {
    ($($name:ident => |$old:ident, $v:ident| $e:expr;)*) => {$(
        #[no_mangle]
        pub unsafe extern "C" fn $name(a: *mut u128, v: u128, mo: i32) -> u128 {
            let mo = MemoryOrder::from_abi(mo, stringify!($name));
            check(a as usize, 16, ATOMIC_WRITE, caller_pc());
            let mut prev = 0;
            // SAFETY: as above.
            with_clocks(a as usize, AtomicOp::Rmw, mo, mo, || { prev = unsafe { wide::update(a, |$old| { let $v = v; $e }) }; true });
            prev
        }
    )*};
}
rmw128! {
    __tsan_atomic128_exchange => |_o, v| v;
    __tsan_atomic128_fetch_add => |o, v| o.wrapping_add(v);
    __tsan_atomic128_fetch_sub => |o, v| o.wrapping_sub(v);
    __tsan_atomic128_fetch_and => |o, v| o & v;
    __tsan_atomic128_fetch_or => |o, v| o | v;
    __tsan_atomic128_fetch_xor => |o, v| o ^ v;
    __tsan_atomic128_fetch_nand => |o, v| !(o & v);
}

#[no_mangle]
pub unsafe extern "C" fn __tsan_atomic128_compare_exchange_val(
    a: *mut u128,
    cmp: u128,
    new: u128,
    mo: i32,
    fmo: i32,
) -> u128 {
    let mo = MemoryOrder::from_abi(mo, "__tsan_atomic128_compare_exchange_val");
    let fmo = MemoryOrder::from_abi(fmo, "__tsan_atomic128_compare_exchange_val");
    check(a as usize, 16, ATOMIC_WRITE, caller_pc());
    let mut old = 0;
    with_clocks(a as usize, AtomicOp::Rmw, mo, fmo, || {
        // SAFETY: the program passes a valid 16-byte aligned location.
        old = unsafe { wide::cas(a, cmp, new) };
        old == cmp
    });
    old
}

#[no_mangle]
pub unsafe extern "C" fn __tsan_atomic128_compare_exchange_strong(
    a: *mut u128,
    cmp: *mut u128,
    new: u128,
    mo: i32,
    fmo: i32,
) -> i32 {
    // SAFETY: `cmp` points to the expected value, per the ABI.
    let expected = unsafe { *cmp };
    // SAFETY: forwarded.
    let old = unsafe { __tsan_atomic128_compare_exchange_val(a, expected, new, mo, fmo) };
    if old != expected {
        // SAFETY: as above.
        unsafe { *cmp = old };
    }
    (old == expected) as i32
}

#[no_mangle]
pub unsafe extern "C" fn __tsan_atomic128_compare_exchange_weak(
    a: *mut u128,
    cmp: *mut u128,
    new: u128,
    mo: i32,
    fmo: i32,
) -> i32 {
    // SAFETY: forwarded.
    unsafe { __tsan_atomic128_compare_exchange_strong(a, cmp, new, mo, fmo) }
}

/// `atomic_thread_fence`: the release and acquire fence rules (stock TSan treats
/// fences as no-ops and reports false races on fence-based synchronization).
#[no_mangle]
pub extern "C" fn __tsan_atomic_thread_fence(mo: i32) {
    let mo = MemoryOrder::from_abi(mo, "__tsan_atomic_thread_fence");
    atomic::fence(Ordering::SeqCst);
    with_thread(|c| {
        if c.ignore_sync > 0 {
            return;
        }
        if mo.is_acquire() {
            c.clock.fence_acquire();
        }
        if mo.is_release() {
            c.clock.fence_release();
        }
        c.refresh_fast_state();
    });
}

/// A signal fence orders only against signal handlers on the same thread, which
/// the detector treats as part of the thread: nothing to do.
#[no_mangle]
pub extern "C" fn __tsan_atomic_signal_fence(mo: i32) {
    MemoryOrder::from_abi(mo, "__tsan_atomic_signal_fence");
    atomic::compiler_fence(Ordering::SeqCst);
}
