//! A thread's clocks and the happens-before rules of the C/C++ (and Rust) memory model,
//! including standalone fences (after Lidbury & Donaldson, POPL 2017, as in Miri).
//!
//! A thread `T` carries three clocks:
//! - `C_T`, what happens before `T`'s current point (`clock`);
//! - `F_T^rel`, a snapshot of `C_T` at `T`'s last release fence (`fence_release`):
//!   a later *relaxed* store by `T` carries it, so that an acquire on the other side
//!   synchronizes with the fence;
//! - `F_T^acq`, everything that relaxed loads of `T` have read from
//!   (`fence_acquire`): a later acquire fence of `T` joins it into `C_T`.
//!
//! A sync object (mutex, atomic location, semaphore, ...) carries one clock `S`.
//! The rules, each a method below:
//!
//! | operation                     | effect                                  |
//! |-------------------------------|-----------------------------------------|
//! | acquire (lock, acquire load)  | `C_T := C_T ⊔ S`                        |
//! | release (RMW, sem_post, ...)  | `S := S ⊔ C_T`, then tick               |
//! | release store (unlock, store) | `S := C_T`, then tick                   |
//! | relaxed load / RMW read part  | `F_T^acq := F_T^acq ⊔ S`                |
//! | relaxed store                 | `S := S_T ⊔ F_T^rel` (see below)        |
//! | relaxed RMW write part        | `S := S ⊔ F_T^rel` (continues them)     |
//! | release fence                 | `F_T^rel := C_T`, then tick             |
//! | acquire fence                 | `C_T := C_T ⊔ F_T^acq`                  |
//!
//! "Tick" increments `C_T[T]`, so accesses after a release are not covered by the
//! clock just published. A seq_cst fence is an acquire fence followed by a release
//! fence; seq_cst and acq_rel operations are acquire plus release.
//!
//! Release sequences follow C11/C++11, which C programs and work-stealing deques
//! (Chase–Lev as published, crossbeam-deque, rayon) are written against: the
//! sequence headed by a release `A` continues through later RMWs by any thread *and
//! later plain stores by `A`'s own thread*. C++20 (P0982) dropped the second part,
//! but an owner that pops its deque with a relaxed store of `bottom` relies on it,
//! and stock TSan accepts it (its relaxed stores leave the clock alone); a relaxed
//! store by *another* thread still ends the sequence. So an atomic location also
//! records whose sequences are live ([`ReleaseSequences`]), and a plain store by
//! `T` keeps `S_T`, the part of `S` carried by `T`'s own live sequences.

use crate::vector::{Epoch, Sid, VectorClock};

#[derive(Clone, Debug, Default)]
pub struct ThreadClock {
    /// The slot this thread holds.
    pub sid: Sid,
    /// `C_T`; `clock.get(sid)` is the thread's current epoch.
    pub clock: VectorClock,
    /// `F_T^rel`; empty until the first release fence.
    pub fence_release: VectorClock,
    /// `F_T^acq`.
    pub fence_acquire: VectorClock,
}

impl ThreadClock {
    /// A thread starting in slot `sid` at `epoch`, knowing what `inherited` knows
    /// (its creator's clock at creation, or nothing).
    pub fn start(sid: Sid, epoch: u64, inherited: Option<&VectorClock>) -> Self {
        let mut clock = VectorClock::new();
        if let Some(c) = inherited {
            clock.assign(c);
        }
        clock.set(sid, epoch);
        ThreadClock {
            sid,
            clock,
            fence_release: VectorClock::new(),
            fence_acquire: VectorClock::new(),
        }
    }

    /// The current event name of this thread.
    #[inline]
    pub fn now(&self) -> Epoch {
        Epoch {
            sid: self.sid,
            epoch: self.clock.get(self.sid),
        }
    }

    #[inline]
    pub fn epoch(&self) -> u64 {
        self.clock.get(self.sid)
    }

    /// Starts a new epoch: later events are not covered by clocks released so far.
    pub fn tick(&mut self) {
        let e = self.epoch() + 1;
        self.clock.set(self.sid, e);
    }

    /// Acquire from a sync object: `C_T := C_T ⊔ S`.
    pub fn acquire(&mut self, sync: &VectorClock) {
        self.clock.join(sync);
    }

    /// Release into a sync object, keeping what others released there:
    /// `S := S ⊔ C_T`, then tick. Used by RMWs (release sequences), semaphores,
    /// read unlocks, thread exit.
    pub fn release(&mut self, sync: &mut VectorClock) {
        sync.join(&self.clock);
        self.tick();
    }

    /// Release into a sync object, replacing its clock: `S := C_T`, then tick. Used
    /// by mutex unlock and release stores, which head a new release sequence.
    pub fn release_store(&mut self, sync: &mut VectorClock) {
        sync.assign(&self.clock);
        self.tick();
    }

    /// A release store to an atomic location: heads a new release sequence, ending
    /// every other thread's: `S := C_T`, then tick.
    pub fn release_store_atomic(&mut self, sync: &mut VectorClock, seqs: &mut ReleaseSequences) {
        seqs.store(self.sid, sync, &self.clock);
        self.tick();
    }

    /// A release RMW on an atomic location: `S := S ⊔ C_T`, then tick; its release
    /// sequence continues through this thread's later stores.
    pub fn release_rmw(&mut self, sync: &mut VectorClock, seqs: &mut ReleaseSequences) {
        seqs.add(self.sid, sync, &self.clock);
        self.tick();
    }

    /// Acquire and release in one step (acq_rel / seq_cst RMW): `C_T := C_T ⊔ S`,
    /// `S := S ⊔ C_T`, then tick.
    pub fn acquire_release(&mut self, sync: &mut VectorClock, seqs: &mut ReleaseSequences) {
        self.clock.join(sync);
        seqs.add(self.sid, sync, &self.clock);
        self.tick();
    }

    /// A relaxed load (or the read half of a relaxed/release RMW) read from `sync`:
    /// remember its clock for a later acquire fence.
    pub fn relaxed_load(&mut self, sync: &VectorClock) {
        self.fence_acquire.join(sync);
    }

    /// A relaxed store to `sync`'s location: it ends other threads' release
    /// sequences, continues this thread's own, and carries this thread's last
    /// release fence: `S := S_T ⊔ F_T^rel`.
    pub fn relaxed_store(&self, sync: &mut VectorClock, seqs: &mut ReleaseSequences) {
        seqs.store(self.sid, sync, &self.fence_release);
    }

    /// The write half of a relaxed or acquire RMW: continues every release sequence
    /// and adds this thread's last release fence: `S := S ⊔ F_T^rel`.
    pub fn relaxed_rmw_store(&self, sync: &mut VectorClock, seqs: &mut ReleaseSequences) {
        seqs.add(self.sid, sync, &self.fence_release);
    }

    /// `atomic_thread_fence(release)`: `F_T^rel := C_T`, then tick.
    pub fn fence_release(&mut self) {
        self.fence_release.assign(&self.clock);
        self.tick();
    }

    /// `atomic_thread_fence(acquire)`: `C_T := C_T ⊔ F_T^acq`.
    pub fn fence_acquire(&mut self) {
        self.clock.join(&self.fence_acquire);
    }

    /// Whether this thread has ever executed a release fence (relaxed stores then
    /// carry a clock and need their sync object).
    pub fn has_release_fence(&self) -> bool {
        !self.fence_release.is_empty()
    }
}

/// Whose release sequences are live at an atomic location, so that a plain store by
/// thread `T` can keep exactly `S_T`, the part of `S` that `T`'s own sequences carry
/// (C++11 rule, see the module doc). `S` is always the join of the live parts.
///
/// Almost always one thread's sequences make up all of `S` (`sole`), which costs no
/// allocation; per-thread clocks (`live`) appear only when RMWs of several threads
/// have released into the location since its last plain store.
#[derive(Clone, Debug, Default)]
pub struct ReleaseSequences {
    /// With `live` empty: the thread whose sequences carry all of `S` (`None`: no
    /// thread's, e.g. `S` came from a non-atomic release such as an annotation).
    sole: Option<Sid>,
    /// Otherwise, per thread, the clock its live sequences carry.
    live: alloc::vec::Vec<(Sid, VectorClock)>,
    /// More than [`MAX_LIVE`] threads released by RMW since the last plain store:
    /// their parts are no longer told apart, and the next plain store keeps all of
    /// `S` (it may hide a race, never invent one).
    overflow: bool,
}

/// Per-thread parts kept at most (a lock word RMW'd by a thousand threads would
/// otherwise hold a thousand clocks).
const MAX_LIVE: usize = 4;

impl ReleaseSequences {
    /// An RMW by `sid` adds `x` to `S`: every sequence continues, and `sid`'s own
    /// (headed by this RMW) carries `x`.
    pub fn add(&mut self, sid: Sid, s: &mut VectorClock, x: &VectorClock) {
        if x.is_empty() {
            return;
        }
        if self.live.is_empty() {
            if self.sole == Some(sid) || s.is_empty() {
                self.sole = Some(sid);
                s.join(x);
                return;
            }
            if let Some(o) = self.sole.take() {
                self.live.push((o, s.clone()));
            }
        }
        let full = self.live.len() >= MAX_LIVE;
        match self.live.iter_mut().find(|e| e.0 == sid) {
            Some(e) => e.1.join(x),
            None if !full => self.live.push((sid, x.clone())),
            None => self.overflow = true,
        }
        s.join(x);
    }

    /// A plain store by `sid` carrying `x`: only `sid`'s own sequences continue,
    /// `S := S_sid ⊔ x`.
    pub fn store(&mut self, sid: Sid, s: &mut VectorClock, x: &VectorClock) {
        if self.overflow {
            // Keep all of `S`: an over-approximation of `S_sid`.
            self.overflow = false;
            self.live.clear();
        } else if self.live.is_empty() {
            if self.sole != Some(sid) {
                s.clear();
            }
        } else {
            match self.live.iter().position(|e| e.0 == sid) {
                Some(i) => {
                    let own = self.live.swap_remove(i).1;
                    s.assign(&own);
                }
                None => s.clear(),
            }
            self.live.clear();
        }
        s.join(x);
        self.sole = Some(sid);
    }

    /// Forgets everything (the location was freed or re-initialized).
    pub fn clear(&mut self) {
        self.sole = None;
        self.live.clear();
        self.overflow = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_threads() -> (ThreadClock, ThreadClock) {
        (
            ThreadClock::start(0, 1, None),
            ThreadClock::start(1, 1, None),
        )
    }

    #[test]
    fn release_acquire_orders_and_tick_separates() {
        let (mut a, mut b) = two_threads();
        let mut s = VectorClock::new();
        let before = a.now();
        a.release_store(&mut s);
        let after = a.now();
        b.acquire(&s);
        assert!(b.clock.knows(before));
        assert!(!b.clock.knows(after));
    }

    #[test]
    fn fence_pair_synchronizes_and_missing_fence_does_not() {
        // T0: x = 1; fence(release); flag.store(relaxed)
        // T1: flag.load(relaxed); fence(acquire); read x
        let (mut a, mut b) = two_threads();
        let mut flag = VectorClock::new();
        let write_x = a.now();
        a.fence_release();
        a.relaxed_store(&mut flag, &mut ReleaseSequences::default());
        b.relaxed_load(&flag);
        assert!(
            !b.clock.knows(write_x),
            "relaxed load alone must not synchronize"
        );
        b.fence_acquire();
        assert!(b.clock.knows(write_x));

        // Without the release fence the relaxed store carries nothing.
        let (a, mut b) = two_threads();
        let mut flag = VectorClock::new();
        let write_x = a.now();
        a.relaxed_store(&mut flag, &mut ReleaseSequences::default());
        b.relaxed_load(&flag);
        b.fence_acquire();
        assert!(!b.clock.knows(write_x));
    }

    #[test]
    fn relaxed_store_ends_other_threads_sequences_but_rmw_continues_them() {
        let mut a = ThreadClock::start(0, 1, None);
        let c = ThreadClock::start(2, 1, None);
        let mut b = ThreadClock::start(1, 1, None);
        let mut x = VectorClock::new();
        let mut seqs = ReleaseSequences::default();
        let ev = a.now();
        a.release_store_atomic(&mut x, &mut seqs);
        c.relaxed_rmw_store(&mut x, &mut seqs);
        b.acquire(&x);
        assert!(b.clock.knows(ev), "RMW continues the release sequence");

        let mut b2 = ThreadClock::start(3, 1, None);
        c.relaxed_store(&mut x, &mut seqs);
        b2.acquire(&x);
        assert!(
            !b2.clock.knows(ev),
            "a relaxed store by another thread ends it"
        );
    }

    #[test]
    fn relaxed_store_by_the_releasing_thread_continues_its_sequence() {
        // Chase–Lev: the owner pushes (release store of `bottom`), then pops with a
        // relaxed store of `bottom`; a thief reading that value still synchronizes
        // with the push.
        let mut owner = ThreadClock::start(0, 1, None);
        let mut thief = ThreadClock::start(1, 1, None);
        let mut other = ThreadClock::start(2, 1, None);
        let mut bottom = VectorClock::new();
        let mut seqs = ReleaseSequences::default();
        let job_written = owner.now();
        owner.release_store_atomic(&mut bottom, &mut seqs);
        let other_ev = other.now();
        other.release_rmw(&mut bottom, &mut seqs);
        owner.relaxed_store(&mut bottom, &mut seqs);
        thief.acquire(&bottom);
        assert!(thief.clock.knows(job_written));
        assert!(
            !thief.clock.knows(other_ev),
            "the owner's store ends the other thread's sequence"
        );
    }

    #[test]
    fn many_rmw_threads_stay_bounded_and_keep_their_edges() {
        let mut x = VectorClock::new();
        let mut seqs = ReleaseSequences::default();
        let mut evs = Vec::new();
        for sid in 0..10u16 {
            let mut t = ThreadClock::start(sid, 1, None);
            evs.push(t.now());
            t.release_rmw(&mut x, &mut seqs);
        }
        assert!(seqs.live.len() <= MAX_LIVE);
        let owner = ThreadClock::start(3, 5, None);
        owner.relaxed_store(&mut x, &mut seqs);
        let mut reader = ThreadClock::start(20, 1, None);
        reader.acquire(&x);
        // Overflowed: the store keeps every part (conservative), then tracking is exact again.
        assert!(evs.iter().all(|&e| reader.clock.knows(e)));
        let other = ThreadClock::start(11, 1, None);
        other.relaxed_store(&mut x, &mut seqs);
        let mut reader2 = ThreadClock::start(21, 1, None);
        reader2.acquire(&x);
        assert!(evs.iter().all(|&e| !reader2.clock.knows(e)));
    }
}
