//! Access history, so a report can show where the *previous* access happened.
//!
//! A thread's history is a ring of [`Event`]s, each *summarizing* the accesses of
//! one epoch made from one pc, with one call stack, size, kind and set of held
//! mutexes: the range of addresses they touched and the last one. A loop over ten
//! million array elements in one epoch is one event, so the access that raced ten
//! million accesses ago is still there when the race is found. Events of the
//! current epoch are found through a small per-thread cache keyed by that tuple;
//! only accesses that change shadow are recorded (an access already recorded in
//! the same epoch leaves shadow, and history, as they were).
//!
//! An event names its call stack by a [`StackDepot`] id: call stacks are interned
//! as paths in a global call tree (`(parent, pc) → node`), so a stack costs one id
//! per event however deep it is, after the thread exits too. The tree is bounded
//! (see [`StackDepot`]): stacks interned two generations ago are forgotten. The
//! shadow stack is interned lazily, only up to the frames that changed since the
//! last interned access.

use alloc::vec::Vec;

use umbra_sys::SpinMutex;

/// Accesses of one epoch from one pc, stack, size, kind and mutex set.
#[derive(Clone, Copy, Default)]
#[repr(C)]
pub struct Event {
    pub pc: u64,
    /// `epoch << 28 | size << 2 | atomic << 1 | read`
    pub info: u64,
    pub stack: u32,
    /// Interned set of mutexes held (see `crate::mutexset`).
    pub mutexes: u32,
    /// Lowest address accessed, and one past the highest byte.
    pub lo: u64,
    pub hi: u64,
    /// The most recent access's address.
    pub last: u64,
}

impl Event {
    pub fn info(epoch: u64, size: usize, is_read: bool, is_atomic: bool) -> u64 {
        (epoch << 28)
            | ((size.min(0x3ff_ffff) as u64) << 2)
            | ((is_atomic as u64) << 1)
            | is_read as u64
    }
    pub fn epoch(&self) -> u64 {
        self.info >> 28
    }
    pub fn size(&self) -> u64 {
        (self.info >> 2) & 0x3ff_ffff
    }
    pub fn is_read(&self) -> bool {
        self.info & 1 != 0
    }
    pub fn is_atomic(&self) -> bool {
        self.info & 2 != 0
    }
}

const CACHE: usize = 256;

pub struct Trace {
    buf: *mut Event,
    cap: usize,
    /// Events ever written; the ring holds the last `cap`.
    pos: usize,
    /// Ring position + 1 of the event most recently used for each hash bucket of
    /// (pc, stack, info, mutexes); 0 = none. Dropped when the thread finishes.
    cache: Option<alloc::boxed::Box<[usize; CACHE]>>,
}

// SAFETY: a trace is written only by its thread and read by reporters while that
// thread is registered; torn reads of an event being updated can only produce a
// mismatched (hence ignored) or slightly stale range.
unsafe impl Send for Trace {}
// SAFETY: as for Send: the only shared use is a reporter's read, which tolerates a
// concurrent write by the owning thread (see above).
unsafe impl Sync for Trace {}

impl Trace {
    pub fn new(cap_events: usize) -> Trace {
        let cap = cap_events.next_power_of_two().max(64);
        let bytes = cap * core::mem::size_of::<Event>();
        let buf = umbra_sys::mmap_anon(bytes, true).unwrap_or_else(|| {
            umbra_sys::internal_error(format_args!("cannot map {bytes} bytes of history"))
        }) as *mut Event;
        Trace {
            buf,
            cap,
            pos: 0,
            cache: Some(alloc::boxed::Box::new([0; CACHE])),
        }
    }

    /// Records an access of `size` bytes at `addr`.
    #[inline]
    pub fn record(&mut self, pc: u64, stack: u32, mutexes: u32, info: u64, addr: u64, size: u64) {
        let Some(cache) = self.cache.as_deref_mut() else {
            return;
        };
        let h = (pc ^ (stack as u64) << 20 ^ info.rotate_left(17) ^ (mutexes as u64) << 40)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            >> 56;
        let slot = cache[h as usize % CACHE];
        if slot != 0 && self.pos - (slot - 1) <= self.cap {
            // SAFETY: the position is within the last `cap` written, masked into the ring.
            let e = unsafe { &mut *self.buf.add((slot - 1) & (self.cap - 1)) };
            if e.pc == pc && e.info == info && e.stack == stack && e.mutexes == mutexes {
                e.lo = e.lo.min(addr);
                e.hi = e.hi.max(addr + size);
                e.last = addr;
                return;
            }
        }
        // SAFETY: the index is masked into the ring of `cap` events.
        unsafe {
            *self.buf.add(self.pos & (self.cap - 1)) = Event {
                pc,
                info,
                stack,
                mutexes,
                lo: addr,
                hi: addr + size,
                last: addr,
            };
        }
        self.pos += 1;
        cache[h as usize % CACHE] = self.pos;
    }

    /// The event that best explains an access of `epoch` to bytes `[lo, hi)` of
    /// the kind `pred` accepts: one whose last access covers them, else the one
    /// with the narrowest range (the newest among equals).
    pub fn find(
        &self,
        epoch: u64,
        lo: u64,
        hi: u64,
        pred: impl Fn(&Event) -> bool,
    ) -> Option<Event> {
        if self.buf.is_null() {
            return None;
        }
        let n = self.pos.min(self.cap);
        let mut best: Option<Event> = None;
        for i in 1..=n {
            // SAFETY: index masked into the ring; the slot was written (i <= pos).
            let e = unsafe { *self.buf.add((self.pos - i) & (self.cap - 1)) };
            if e.epoch() != epoch || e.hi <= lo || e.lo >= hi || !pred(&e) {
                continue;
            }
            if e.last < hi && e.last + e.size().max(1) > lo {
                return Some(e);
            }
            if best.is_none_or(|b| e.hi - e.lo < b.hi - b.lo) {
                best = Some(e);
            }
        }
        best
    }

    /// The thread finished: no more events, so the lookup cache can go.
    pub fn close(&mut self) {
        self.cache = None;
    }

    pub fn release(&mut self) {
        if !self.buf.is_null() {
            // SAFETY: the ring is ours and no longer referenced.
            unsafe {
                umbra_sys::munmap(
                    self.buf as *mut u8,
                    self.cap * core::mem::size_of::<Event>(),
                )
            };
            self.buf = core::ptr::null_mut();
            self.pos = 0;
        }
        self.cache = None;
    }
}

/// Call-tree nodes per depot generation (about 48 bytes each with the index).
const GEN_NODES: usize = 1 << 20;
const GEN_SHIFT: u32 = 24;
const INDEX_MASK: u32 = (1 << GEN_SHIFT) - 1;

/// The global call tree. Id 0 is the root (empty stack); other ids are
/// `generation << 24 | node index + 1`.
///
/// Recursive parallel code (rayon's `join` nests two ways at every level, on
/// whichever thread steals) has exponentially many distinct call paths, so the tree
/// is bounded: nodes live in generations of [`GEN_NODES`]; when the current one is
/// full it becomes the previous one and the one before is dropped. Ids of a
/// dropped generation unwind to nothing (a report then shows only the access's own
/// frame); threads notice the new generation and re-intern their stacks.
pub struct StackDepot {
    inner: SpinMutex<DepotInner>,
    /// The current generation (read without the lock by threads checking whether
    /// their interned prefix is still current), on its own cache line: the lock
    /// next to it is written by every interning thread.
    generation: Padded,
}

/// A value alone on its cache lines (128 bytes: adjacent-line prefetch).
#[repr(align(128))]
struct Padded(core::sync::atomic::AtomicU32);

#[derive(Default)]
struct Generation {
    /// `(pc, parent)` of node index i.
    nodes: Vec<(u64, u32)>,
    /// Open-addressing index `(pc, parent) → id`; id 0 marks an empty slot.
    table: Vec<(u64, u32, u32)>,
}

impl Generation {
    fn slot(&self, parent: u32, pc: u64) -> usize {
        // Fibonacci hashing: the top bits of the product depend on every input bit.
        let h = (pc ^ (parent as u64).rotate_left(32)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (h >> (64 - self.table.len().trailing_zeros())) as usize
    }

    fn find(&self, parent: u32, pc: u64) -> Result<u32, usize> {
        let mut i = self.slot(parent, pc);
        loop {
            let (p, par, id) = self.table[i];
            if id == 0 {
                return Err(i);
            }
            if p == pc && par == parent {
                return Ok(id);
            }
            i = (i + 1) & (self.table.len() - 1);
        }
    }

    fn grow(&mut self) {
        let cap = (self.table.len() * 2).max(1024);
        let old = core::mem::replace(&mut self.table, alloc::vec![(0, 0, 0); cap]);
        for e in old.into_iter().filter(|e| e.2 != 0) {
            if let Err(i) = self.find(e.1, e.0) {
                self.table[i] = e;
            }
        }
    }
}

struct DepotInner {
    gen: u32,
    cur: Generation,
    prev: Generation,
}

pub static DEPOT: StackDepot = StackDepot {
    inner: SpinMutex::new(DepotInner {
        gen: 0,
        cur: Generation {
            nodes: Vec::new(),
            table: Vec::new(),
        },
        prev: Generation {
            nodes: Vec::new(),
            table: Vec::new(),
        },
    }),
    generation: Padded(core::sync::atomic::AtomicU32::new(0)),
};

fn gen_of(id: u32) -> u32 {
    id >> GEN_SHIFT
}

impl DepotInner {
    /// The nodes of `id`'s generation, if it is still kept, and its index there.
    fn locate(&self, id: u32) -> Option<(&Generation, usize)> {
        let g = if gen_of(id) == self.gen & 0xff {
            &self.cur
        } else if gen_of(id) == self.gen.wrapping_sub(1) & 0xff && self.gen > 0 {
            &self.prev
        } else {
            return None;
        };
        let i = (id & INDEX_MASK) as usize;
        (i >= 1 && i <= g.nodes.len()).then_some((g, i - 1))
    }

    fn intern(&mut self, parent: u32, pc: u64) -> u32 {
        // A parent from the previous generation (the generation turned while its
        // thread was interning) is copied into the current one first; one from a
        // dropped generation is lost (the stack restarts at the root).
        let parent = if parent == 0 || gen_of(parent) == self.gen & 0xff {
            parent
        } else {
            let mut chain = Vec::new();
            let mut id = parent;
            while id != 0 {
                match self.locate(id) {
                    Some((g, i)) => {
                        chain.push(g.nodes[i].0);
                        id = g.nodes[i].1;
                    }
                    None => break,
                }
            }
            let mut p = 0;
            for &pc in chain.iter().rev() {
                p = self.intern_current(p, pc);
            }
            p
        };
        self.intern_current(parent, pc)
    }

    fn intern_current(&mut self, parent: u32, pc: u64) -> u32 {
        if self.cur.nodes.len() >= GEN_NODES {
            self.prev = core::mem::take(&mut self.cur);
            self.gen += 1;
            DEPOT
                .generation
                .0
                .store(self.gen, core::sync::atomic::Ordering::Relaxed);
            // The parent now belongs to the previous generation: `intern` copies
            // its path into the new one.
            return self.intern(parent, pc);
        }
        if self.cur.table.len() < 2 * (self.cur.nodes.len() + 1) {
            self.cur.grow();
        }
        match self.cur.find(parent, pc) {
            Ok(id) => id,
            Err(slot) => {
                self.cur.nodes.push((pc, parent));
                let id = (self.gen & 0xff) << GEN_SHIFT | self.cur.nodes.len() as u32;
                self.cur.table[slot] = (pc, parent, id);
                id
            }
        }
    }
}

impl StackDepot {
    /// The node for `pc` called from the stack `parent`.
    pub fn intern(&self, parent: u32, pc: u64) -> u32 {
        self.inner.lock().intern(parent, pc)
    }

    /// The current generation; ids interned in an older one should be re-interned.
    pub fn generation(&self) -> u32 {
        // Relaxed: a hint; `intern` copes with parents of the previous generation.
        self.generation
            .0
            .load(core::sync::atomic::Ordering::Relaxed)
    }

    /// Number of call-tree nodes kept (for `verbosity` statistics).
    pub fn len(&self) -> usize {
        let g = self.inner.lock();
        g.cur.nodes.len() + g.prev.nodes.len()
    }

    pub fn fork_lock(&self) {
        self.inner.lock_raw();
    }

    /// # Safety
    /// After [`StackDepot::fork_lock`], in parent or child.
    pub unsafe fn fork_unlock(&self) {
        // SAFETY: taken by fork_lock.
        unsafe { self.inner.force_unlock() };
    }

    /// The pcs of stack `id`, innermost first; empty if its generation was dropped.
    pub fn unwind(&self, mut id: u32) -> Vec<u64> {
        let g = self.inner.lock();
        let mut out = Vec::new();
        while id != 0 {
            let Some((gen, i)) = g.locate(id) else { break };
            let (pc, parent) = gen.nodes[i];
            out.push(pc);
            id = parent;
        }
        out
    }
}
