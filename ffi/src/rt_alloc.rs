//! The runtime's own allocator. Runtime data (vector clocks, thread contexts,
//! report text, DWARF tables) must never come from the program's `malloc`: that is
//! intercepted, may be called while the program's heap lock is held, and would put
//! runtime memory under race detection. Power-of-two size classes up to 64 KiB are
//! carved from 1 MiB mmap'd slabs and recycled through per-class free lists; larger
//! blocks are whole mappings.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr;

use umbra_sys::SpinMutex;

const MIN_SHIFT: usize = 4; // 16 bytes
const MAX_SHIFT: usize = 16; // 64 KiB
const CLASSES: usize = MAX_SHIFT - MIN_SHIFT + 1;
const SLAB: usize = 1 << 20;

struct Class {
    free: *mut u8, // intrusive singly linked free list
    bump: *mut u8, // next unused byte of the current slab
    end: *mut u8,
}

// SAFETY: the raw pointers are only touched under the class's lock.
unsafe impl Send for Class {}

/// Bytes of runtime memory mapped so far (slabs and large blocks, minus large
/// blocks unmapped), for `verbosity` statistics.
pub static MAPPED: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

fn count(bytes: usize, add: bool) {
    // Relaxed: a statistic.
    if add {
        MAPPED.fetch_add(bytes, core::sync::atomic::Ordering::Relaxed);
    } else {
        MAPPED.fetch_sub(bytes, core::sync::atomic::Ordering::Relaxed);
    }
}

static CLASS: [SpinMutex<Class>; CLASSES] = [const {
    SpinMutex::new(Class {
        free: ptr::null_mut(),
        bump: ptr::null_mut(),
        end: ptr::null_mut(),
    })
}; CLASSES];

fn class_of(layout: &Layout) -> Option<usize> {
    let size = layout.size().max(layout.align()).max(1 << MIN_SHIFT);
    let shift = usize::BITS as usize - (size - 1).leading_zeros() as usize;
    if shift <= MAX_SHIFT {
        Some(shift - MIN_SHIFT)
    } else {
        None
    }
}

pub struct RuntimeAllocator;

// SAFETY: blocks of a class are `1 << (class + MIN_SHIFT)` bytes, aligned to their
// size (slabs are page aligned and carved in size steps), which satisfies any
// layout mapped to that class; large blocks are page-aligned mappings of at least
// the requested size. A block is handed out once until freed.
unsafe impl GlobalAlloc for RuntimeAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(c) = class_of(&layout) else {
            if layout.align() > 4096 {
                return ptr::null_mut();
            }
            count(layout.size(), true);
            return umbra_sys::mmap_anon(layout.size(), false).unwrap_or(ptr::null_mut());
        };
        let size = 1usize << (c + MIN_SHIFT);
        let mut g = CLASS[c].lock();
        if !g.free.is_null() {
            let p = g.free;
            // SAFETY: free blocks store the next pointer in their first word.
            g.free = unsafe { *(p as *mut *mut u8) };
            return p;
        }
        if g.bump.is_null() || g.bump as usize + size > g.end as usize {
            let Some(s) = umbra_sys::mmap_anon(SLAB.max(size), false) else {
                return ptr::null_mut();
            };
            count(SLAB.max(size), true);
            g.bump = s;
            // SAFETY: `s` is the start of a mapping of at least SLAB bytes.
            g.end = unsafe { s.add(SLAB.max(size)) };
        }
        let p = g.bump;
        // SAFETY: checked above that `size` bytes remain in the slab.
        g.bump = unsafe { p.add(size) };
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        match class_of(&layout) {
            Some(c) => {
                let mut g = CLASS[c].lock();
                // SAFETY: the block is ours, at least 16 bytes and pointer aligned.
                unsafe { *(p as *mut *mut u8) = g.free };
                g.free = p;
            }
            // SAFETY: large blocks are whole mappings of `layout.size()` bytes.
            None => {
                count(layout.size(), false);
                // SAFETY: as above.
                unsafe { umbra_sys::munmap(p, layout.size()) }
            }
        }
    }
}

/// Holds every size-class lock across `fork` (taken last: other runtime locks are
/// held while allocating, never the other way round).
pub fn fork_lock() {
    for c in &CLASS {
        c.lock_raw();
    }
}

/// # Safety
/// After [`fork_lock`], in parent or child.
pub unsafe fn fork_unlock() {
    for c in &CLASS {
        // SAFETY: taken by fork_lock.
        unsafe { c.force_unlock() };
    }
}
