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
//! An event names its call stack by a stack depot id (`crate::depot`), so a
//! stack costs one id per event however deep it is, after the thread exits too.

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
    pub fn info(epoch: u64, size: usize, kind: crate::entry::AccessKind) -> u64 {
        (epoch << 28)
            | ((size.min(0x3ff_ffff) as u64) << 2)
            | ((kind.is_atomic() as u64) << 1)
            | !kind.is_write() as u64
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
const _: () = assert!(CACHE.is_power_of_two());

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
        let h = crate::hash::slot(
            pc ^ (stack as u64) << 20 ^ info.rotate_left(17) ^ (mutexes as u64) << 40,
            CACHE,
        );
        let slot = cache[h];
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
        cache[h] = self.pos;
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
