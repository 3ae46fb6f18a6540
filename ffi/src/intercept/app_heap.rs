//! The malloc family, on glibc's allocator (`__libc_malloc` and friends, called
//! directly so no other interposer is involved). A new block's shadow and sync
//! objects are reset, so reusing freed memory never races; `free` is checked as a
//! write of the whole block and leaves freed markers, so an unordered access after
//! it is reported. Live blocks are kept in a sharded map for reports.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::ffi::c_void;

use umbra_shadow::cell::ShadowCell;
use umbra_sys::SpinMutex;

use crate::entry::caller_pc;
use crate::entry::AccessKind;
use crate::intercept::scope::ScopedInterceptor;
use crate::real;
use crate::thread::{with_known_thread, Unknown};

#[derive(Clone, Copy)]
pub struct Block {
    pub size: usize,
    pub tid: u32,
    pub stack: u32,
    pub pc: u64,
}

static BLOCKS: [SpinMutex<BTreeMap<usize, Block>>; 32] =
    [const { SpinMutex::new(BTreeMap::new()) }; 32];

fn shard(p: usize) -> &'static SpinMutex<BTreeMap<usize, Block>> {
    &BLOCKS[crate::hash::slot((p >> 4) as u64, BLOCKS.len())]
}

/// Recently freed blocks (for describing a use after free): a ring of the last
/// `FREED_KEPT` frees, searched newest first when a report needs it.
static FREED: SpinMutex<(Vec<(usize, Block)>, usize)> = SpinMutex::new((Vec::new(), 0));
const FREED_KEPT: usize = 1 << 14;

fn remember_freed(p: usize, b: Block) {
    let mut f = FREED.lock();
    let (ring, next) = &mut *f;
    if ring.len() < FREED_KEPT {
        ring.push((p, b));
    } else {
        ring[*next % FREED_KEPT] = (p, b);
    }
    *next += 1;
}

/// The most recently freed block containing `addr`, if it is among the last
/// `FREED_KEPT` frees.
pub fn freed_block_of(addr: usize) -> Option<(usize, Block)> {
    let f = FREED.lock();
    let (ring, next) = &*f;
    (0..ring.len())
        .map(|i| ring[(next + ring.len() - 1 - i) % ring.len()])
        .find(|&(b, blk)| addr >= b && addr < b + blk.size.max(1))
}

/// The live heap block containing `addr`.
pub fn block_of(addr: usize) -> Option<(usize, Block)> {
    BLOCKS.iter().find_map(|s| {
        let g = s.lock();
        g.range(..=addr)
            .next_back()
            .filter(|(&b, blk)| addr < b + blk.size.max(1))
            .map(|(&b, &blk)| (b, blk))
    })
}

fn on_alloc(p: *mut c_void, size: usize, pc: u64) -> *mut c_void {
    if p.is_null() {
        return p;
    }
    ScopedInterceptor::enter(Unknown::Attach).rt_global(|| {
        // Sync objects of the previous block at this address were dropped by its free.
        crate::rt::reset_shadow(p as usize, size, 0);
        // A thread the runtime does not know yet allocates as T0, with no stack.
        let (tid, stack) = with_known_thread(|thr| {
            // Shadow was reset: this thread's cache of recorded accesses is stale.
            thr.generation += 1;
            (thr.tid, thr.stack_id())
        })
        .unwrap_or((0, 0));
        shard(p as usize).lock().insert(
            p as usize,
            Block {
                size,
                tid,
                stack,
                pc,
            },
        );
    });
    p
}

fn on_free(p: *mut c_void, pc: u64) {
    if p.is_null() {
        return;
    }
    ScopedInterceptor::enter(Unknown::Attach).rt_global(|| {
        let Some(b) = shard(p as usize).lock().remove(&(p as usize)) else {
            return;
        };
        remember_freed(p as usize, b);
        if b.size == 0 {
            return;
        }
        // A free is a write to the whole block: check it, then leave freed markers
        // (not on a thread the runtime does not know yet).
        with_known_thread(|thr| {
            crate::entry::free_access(thr, p as usize, b.size, pc);
            let marker = ShadowCell::freed(thr.clock.sid, thr.clock.epoch());
            crate::rt::reset_shadow_freed(p as usize, b.size, marker.0);
            crate::sync::reset_range(p as usize, b.size);
            thr.generation += 1;
        });
    });
}

#[no_mangle]
pub unsafe extern "C" fn malloc(n: usize) -> *mut c_void {
    let pc = caller_pc();
    crate::signals::unsafe_call(pc);
    // SAFETY: glibc's allocator.
    on_alloc(unsafe { real::__libc_malloc(n) }, n, pc)
}

#[no_mangle]
pub unsafe extern "C" fn calloc(n: usize, m: usize) -> *mut c_void {
    let pc = caller_pc();
    crate::signals::unsafe_call(pc);
    // SAFETY: glibc's allocator (checks the multiplication).
    let p = unsafe { real::__libc_calloc(n, m) };
    on_alloc(p, n.wrapping_mul(m), pc)
}

#[no_mangle]
pub unsafe extern "C" fn realloc(old: *mut c_void, n: usize) -> *mut c_void {
    let pc = caller_pc();
    crate::signals::unsafe_call(pc);
    if old.is_null() {
        // SAFETY: realloc(NULL, n) is malloc(n).
        return on_alloc(unsafe { real::__libc_malloc(n) }, n, pc);
    }
    if n == 0 {
        on_free(old, pc);
        // SAFETY: glibc frees and returns NULL.
        return unsafe { real::__libc_realloc(old, 0) };
    }
    // Move explicitly so the old block is checked as read and freed, the new one fresh.
    // SAFETY: glibc's allocator.
    let p = unsafe { real::__libc_malloc(n) };
    if p.is_null() {
        return p;
    }
    // SAFETY: `old` is a live block of at least its usable size.
    let old_size = unsafe { real::malloc_usable_size(old) };
    let keep = old_size.min(n);
    // The program owns only the size it asked for; the slack up to the usable
    // size may still carry freed markers of an earlier, larger block there, so
    // only the requested bytes count as read (all usable bytes are copied, as
    // glibc's realloc does).
    // Inside the runtime: a signal handler must not find the shard locked.
    let asked = ScopedInterceptor::enter(Unknown::Skip).rt_global(|| {
        shard(old as usize)
            .lock()
            .get(&(old as usize))
            .map_or(keep, |b| b.size.min(n))
    });
    if let Some(asked) = asked {
        crate::entry::range_access(old as usize, asked, AccessKind::Read, pc);
    }
    on_alloc(p, n, pc);
    // SAFETY: both blocks hold at least `keep` bytes.
    unsafe { crate::memfns::__umbra_rt_memcpy(p as *mut u8, old as *const u8, keep) };
    on_free(old, pc);
    // SAFETY: `old` was allocated by glibc.
    unsafe { real::__libc_free(old) };
    p
}

#[no_mangle]
pub unsafe extern "C" fn reallocarray(old: *mut c_void, n: usize, m: usize) -> *mut c_void {
    match n.checked_mul(m) {
        // SAFETY: forwarded.
        Some(s) => unsafe { realloc(old, s) },
        None => core::ptr::null_mut(),
    }
}

#[no_mangle]
pub unsafe extern "C" fn free(p: *mut c_void) {
    let pc = caller_pc();
    crate::signals::unsafe_call(pc);
    on_free(p, pc);
    // SAFETY: the program frees a block it got from this allocator.
    unsafe { real::__libc_free(p) }
}

#[no_mangle]
pub unsafe extern "C" fn cfree(p: *mut c_void) {
    // SAFETY: forwarded.
    unsafe { free(p) }
}

#[no_mangle]
pub unsafe extern "C" fn memalign(align: usize, n: usize) -> *mut c_void {
    let pc = caller_pc();
    crate::signals::unsafe_call(pc);
    // SAFETY: glibc's allocator.
    on_alloc(unsafe { real::__libc_memalign(align, n) }, n, pc)
}

#[no_mangle]
pub unsafe extern "C" fn aligned_alloc(align: usize, n: usize) -> *mut c_void {
    let pc = caller_pc();
    crate::signals::unsafe_call(pc);
    // SAFETY: glibc's allocator.
    on_alloc(unsafe { real::__libc_memalign(align, n) }, n, pc)
}

#[no_mangle]
pub unsafe extern "C" fn valloc(n: usize) -> *mut c_void {
    let pc = caller_pc();
    crate::signals::unsafe_call(pc);
    // SAFETY: glibc's allocator.
    on_alloc(unsafe { real::__libc_memalign(4096, n) }, n, pc)
}

#[no_mangle]
pub unsafe extern "C" fn pvalloc(n: usize) -> *mut c_void {
    let n = (n + 4095) & !4095;
    // SAFETY: glibc's allocator.
    on_alloc(unsafe { real::__libc_memalign(4096, n) }, n, caller_pc())
}

#[no_mangle]
pub unsafe extern "C" fn posix_memalign(out: *mut *mut c_void, align: usize, n: usize) -> i32 {
    if !align.is_power_of_two() || !align.is_multiple_of(core::mem::size_of::<usize>()) {
        return 22; // EINVAL
    }
    // SAFETY: glibc's allocator.
    let p = on_alloc(unsafe { real::__libc_memalign(align, n) }, n, caller_pc());
    if p.is_null() {
        return 12; // ENOMEM
    }
    // SAFETY: `out` is the caller's result slot.
    unsafe { *out = p };
    0
}

#[no_mangle]
pub unsafe extern "C" fn mmap(
    a: real::Ptr,
    n: usize,
    prot: i32,
    flags: i32,
    fd: i32,
    off: i64,
) -> real::Ptr {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    let p = unsafe { real::mmap(a, n, prot, flags, fd, off) };
    if p as isize != -1 {
        // New memory, or MAP_FIXED over old memory: nothing recorded there holds.
        icpt.rt_global(|| crate::rt::forget_memory(p as usize, n));
    }
    p
}

/// The same function as `mmap` on x86_64 (64-bit offsets either way).
#[no_mangle]
pub unsafe extern "C" fn mmap64(
    a: real::Ptr,
    n: usize,
    prot: i32,
    flags: i32,
    fd: i32,
    off: i64,
) -> real::Ptr {
    // SAFETY: forwarded.
    unsafe { mmap(a, n, prot, flags, fd, off) }
}

#[no_mangle]
pub unsafe extern "C" fn munmap(a: real::Ptr, n: usize) -> i32 {
    ScopedInterceptor::enter(Unknown::Attach).rt_global(|| crate::rt::forget_memory(a as usize, n));
    // SAFETY: forwarded.
    unsafe { real::munmap(a, n) }
}

/// `mremap(old, old_size, new_size, flags, new_address)` (variadic in C; the fifth
/// argument is read only with MREMAP_FIXED, and passing it always is harmless on
/// x86_64). Moved contents start with no records at their new address (the records
/// of the old one are dropped, not moved); memory staying in place keeps its own.
#[no_mangle]
pub unsafe extern "C" fn mremap(
    old: real::Ptr,
    old_size: usize,
    new_size: usize,
    flags: i32,
    to: real::Ptr,
) -> real::Ptr {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    let p = unsafe { real::mremap(old, old_size, new_size, flags, to) };
    if p as isize != -1 {
        let (old, p) = (old as usize, p as usize);
        icpt.rt_global(|| {
            if p == old {
                // Resized in place: only the part that appeared or vanished changes.
                let (lo, hi) = if new_size > old_size {
                    (old_size, new_size)
                } else {
                    (new_size, old_size)
                };
                crate::rt::forget_memory(old + lo, hi - lo);
            } else {
                crate::rt::forget_memory(old, old_size);
                crate::rt::forget_memory(p, new_size);
            }
        });
    }
    p as real::Ptr
}

const MADV_DONTNEED: i32 = 4;
const MADV_FREE: i32 = 8;

/// `madvise`: MADV_DONTNEED and MADV_FREE discard the contents of the range (what
/// allocators do with freed memory), so its shadow and sync objects go too.
#[no_mangle]
pub unsafe extern "C" fn madvise(a: real::Ptr, n: usize, advice: i32) -> i32 {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    let r = unsafe { real::madvise(a, n, advice) };
    if r == 0 && (advice == MADV_DONTNEED || advice == MADV_FREE) {
        icpt.rt_global(|| crate::rt::forget_memory(a as usize, n));
    }
    r
}

pub fn fork_lock() {
    for s in &BLOCKS {
        s.lock_raw();
    }
    FREED.lock_raw();
}

/// # Safety
/// After [`fork_lock`], in parent or child.
pub unsafe fn fork_unlock() {
    // SAFETY: all taken by fork_lock.
    unsafe {
        FREED.force_unlock();
        for s in &BLOCKS {
            s.force_unlock();
        }
    }
}
