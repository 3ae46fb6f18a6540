//! Access history, so a report can show where the *previous* access happened.
//!
//! Each thread appends an [`Event`] to a ring buffer whenever an access changes
//! shadow (accesses found already recorded leave no event, like the shadow itself).
//! An event names its call stack by a [`StackDepot`] id: call stacks are interned
//! as paths in a global call tree (`(parent, pc) → node`), so a stack costs one id
//! per event however deep it is, and stays valid for the whole run even after the
//! thread exits. The shadow stack is interned lazily, only up to the frames that
//! changed since the last interned access.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use umbra_sys::SpinMutex;

/// One recorded access.
#[derive(Clone, Copy, Default)]
#[repr(C)]
pub struct Event {
    pub pc: u64,
    pub addr: u64,
    /// `epoch << 28 | size << 2 | atomic << 1 | read`
    pub info: u64,
    pub stack: u64,
}

impl Event {
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

pub struct Trace {
    buf: *mut Event,
    cap: usize,
    /// Events ever written; the ring holds the last `cap`.
    pos: usize,
}

// SAFETY: a trace is written only by its thread and read by reporters while that
// thread is registered; torn reads of an event being overwritten can only produce
// a mismatched (hence ignored) event.
unsafe impl Send for Trace {}
unsafe impl Sync for Trace {}

impl Trace {
    pub fn new(cap_events: usize) -> Trace {
        let cap = cap_events.next_power_of_two().max(64);
        let bytes = cap * core::mem::size_of::<Event>();
        let buf = umbra_sys::mmap_anon(bytes, true)
            .unwrap_or_else(|| umbra_sys::internal_error(format_args!("cannot map {bytes} bytes of history")))
            as *mut Event;
        Trace { buf, cap, pos: 0 }
    }

    #[inline]
    pub fn push(&mut self, e: Event) {
        // SAFETY: the index is masked into the ring of `cap` events.
        unsafe { *self.buf.add(self.pos & (self.cap - 1)) = e };
        self.pos += 1;
    }

    /// The newest event for which `pred` holds.
    pub fn find_last(&self, pred: impl Fn(&Event) -> bool) -> Option<Event> {
        let n = self.pos.min(self.cap);
        for i in 1..=n {
            // SAFETY: index masked into the ring; the slot was written (i <= pos).
            let e = unsafe { *self.buf.add((self.pos - i) & (self.cap - 1)) };
            if pred(&e) {
                return Some(e);
            }
        }
        None
    }

    pub fn release(&mut self) {
        if !self.buf.is_null() {
            // SAFETY: the ring is ours and no longer referenced.
            unsafe { umbra_sys::munmap(self.buf as *mut u8, self.cap * core::mem::size_of::<Event>()) };
            self.buf = core::ptr::null_mut();
            self.pos = 0;
        }
    }
}

/// The global call tree. Node 0 is the root (empty stack).
pub struct StackDepot {
    inner: SpinMutex<DepotInner>,
}

struct DepotInner {
    index: BTreeMap<(u32, u64), u32>,
    nodes: Vec<(u64, u32)>, // (pc, parent) of node id-1
}

pub static DEPOT: StackDepot = StackDepot { inner: SpinMutex::new(DepotInner { index: BTreeMap::new(), nodes: Vec::new() }) };

impl StackDepot {
    /// The node for `pc` called from the stack `parent`.
    pub fn intern(&self, parent: u32, pc: u64) -> u32 {
        let mut g = self.inner.lock();
        if let Some(&id) = g.index.get(&(parent, pc)) {
            return id;
        }
        g.nodes.push((pc, parent));
        let id = g.nodes.len() as u32;
        g.index.insert((parent, pc), id);
        id
    }

    /// The pcs of stack `id`, innermost first.
    pub fn unwind(&self, mut id: u32) -> Vec<u64> {
        let g = self.inner.lock();
        let mut out = Vec::new();
        while id != 0 && (id as usize) <= g.nodes.len() {
            let (pc, parent) = g.nodes[id as usize - 1];
            out.push(pc);
            id = parent;
        }
        out
    }
}
