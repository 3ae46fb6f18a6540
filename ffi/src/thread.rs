//! Threads: the per-thread state the fast path reads from initial-exec TLS, the
//! per-thread runtime context behind it, and the registry that names threads `T<n>`
//! for reports, hands out slots, and carries the clocks of thread creation and exit.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::cell::Cell;
use core::sync::atomic::{compiler_fence, Ordering};

use umbra_clocks::{SlotGrant, SlotTable, ThreadClock, VectorClock};
use umbra_shadow::cell::{ShadowCell, IGNORE};
use umbra_sys::SpinMutex;

use crate::depot::DEPOT;
use crate::history::Trace;

/// What the access fast path needs, in static TLS (one `fs:`-relative load).
///
/// Every field is a `Cell`: the fast path, the runtime and this thread's signal
/// handlers (which may interrupt either) all reach it through shared references
/// from [`cur`], and no `&mut` to it ever exists, so a handler reading it while the
/// interrupted code is between two of its stores aliases nothing. The slower
/// per-thread state, [`ThreadCtx`], is reached only through a [`Rt`] scope.
#[repr(C)]
pub struct ThreadState {
    /// `ShadowCell::fast_state(sid, epoch)`, plus `IGNORE` while accesses are
    /// ignored; 0 before the thread is known to the runtime.
    pub fast_state: Cell<u64>,
    /// Shadow call stack: return addresses pushed by `__tsan_func_entry`.
    pub stack: Cell<*mut u64>,
    pub depth: Cell<usize>,
    /// Capacity of `stack`; 0 until initialized, which sends the first
    /// `__tsan_func_entry` to the slow path.
    pub stack_cap: Cell<usize>,
    /// Frames `[0, interned)` have valid depot nodes in `ctx.nodes`.
    pub interned: Cell<usize>,
    /// Nesting depth of runtime code on this thread (interceptors use the real
    /// functions when it is non-zero).
    pub in_rt: Cell<u32>,
    /// The thread's context; null until the thread is attached.
    ctx: Cell<*mut ThreadCtx>,
    /// Whether a [`Rt`] scope holds the context's `&mut` now.
    ctx_borrowed: Cell<bool>,
}

#[thread_local]
static THR: ThreadState = ThreadState {
    fast_state: Cell::new(0),
    stack: Cell::new(core::ptr::null_mut()),
    depth: Cell::new(0),
    stack_cap: Cell::new(0),
    interned: Cell::new(0),
    in_rt: Cell::new(0),
    ctx: Cell::new(core::ptr::null_mut()),
    ctx_borrowed: Cell::new(false),
};

/// The calling thread's fast state. The reference must not leave the thread
/// (nothing stores it): it is `'static` only so that callers need not name a
/// lifetime for a value that lives as long as their thread.
#[inline(always)]
pub fn cur() -> &'static ThreadState {
    // SAFETY: THR is thread-local and made of `Cell`s: shared references to it are
    // all anyone takes, and they are used only on this thread, during its life.
    unsafe { &*core::ptr::addr_of!(THR) }
}

impl ThreadState {
    /// Whether the thread is known to the runtime (has a context).
    #[inline(always)]
    pub fn attached(&self) -> bool {
        !self.ctx.get().is_null()
    }

    /// Whether runtime code is running on this thread (so a call reaching an
    /// interceptor comes from the runtime, or from libc on its behalf).
    #[inline(always)]
    pub fn in_runtime(&self) -> bool {
        self.in_rt.get() != 0
    }

    /// Pushes `pc` on the shadow stack if there is room; returns whether it did.
    #[inline(always)]
    pub fn push_frame(&self, pc: u64) -> bool {
        let d = self.depth.get();
        if d < self.stack_cap.get() {
            // SAFETY: depth < stack_cap, inside the shadow stack mapping.
            unsafe { *self.stack.get().add(d) = pc };
            self.depth.set(d + 1);
            true
        } else {
            false
        }
    }

    /// Pops the innermost shadow stack frame (nothing when empty).
    #[inline(always)]
    pub fn pop_frame(&self) {
        let d = self.depth.get().saturating_sub(1);
        self.depth.set(d);
        if self.interned.get() > d {
            self.interned.set(d);
        }
    }

    /// Cuts the shadow stack back to `depth` frames (longjmp, signal return).
    #[inline]
    pub fn truncate_frames(&self, depth: usize) {
        self.depth.set(depth);
        if self.interned.get() > depth {
            self.interned.set(depth);
        }
    }
}

pub const STACK_CAP: usize = 1 << 16;

/// The slower-changing per-thread state.
pub struct ThreadCtx {
    pub tid: u32,
    pub clock: ThreadClock,
    pub ignore_depth: u32,
    /// Synchronization is ignored while non-zero (compiler-rt's `ignore_sync`).
    pub ignore_sync: u32,
    /// Set while a Rust thread runs std's start-up code (see `crate::rust_startup`).
    pub startup: Option<&'static crate::rust_startup::StdStartup>,
    pub scratch: Vec<ShadowCell>,
    /// Depot node of each shadow stack frame (valid below `THR.interned`).
    pub nodes: Vec<u32>,
    /// The depot generation `nodes` were interned in.
    pub nodes_gen: u32,
    pub trace: *mut Trace,
    /// Mutexes held now, and their interned set (see `crate::mutexset`).
    pub held: Vec<crate::mutexset::Held>,
    pub mutexes: u32,
    /// The last sleep (see `crate::intercept::sleep`).
    pub sleep: Option<crate::intercept::sleep::LastSleep>,
    /// Per-thread caches of the slow paths (dropped when the thread finishes).
    pub caches: Option<Box<Caches>>,
    /// Counts changes of this thread's clock and its own heap operations; a
    /// `Caches::spilled_seen` entry is valid only in the generation that made it.
    pub generation: u64,
    /// The fiber handle of this context (`crate::fiber`), made on first use: a
    /// fiber is a context of its own, switched into an OS thread's `THR`.
    pub fiber: *mut crate::fiber::Fiber,
}

pub struct Caches {
    /// Sync objects whose clock this thread has taken, direct-mapped by address.
    pub acquired: [AcquiredSync; ACQ_CACHE],
    /// Accesses recently recorded in spilled words, direct-mapped by word: the
    /// fast path cannot see a spilled word's records, so repeats are caught here
    /// instead (see `entry::record_and_check`).
    pub spilled_seen: [SpilledAccess; SPILLED_SEEN],
    /// Call-tree nodes this thread interned, hashed by `(parent, pc)`: a stack
    /// popped and pushed again is re-interned without the depot's global lock.
    /// Cleared when the depot's generation turns.
    pub interned: [InternedFrame; INTERN_CACHE],
}

/// A sync object's clock this thread has taken (see `atomics::load_without_lock`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AcquiredSync {
    pub addr: usize,
    /// The object's `version` when taken.
    pub version: u64,
    /// Into the thread's clock `C_T`, rather than only its acquire-fence clock.
    pub into_clock: bool,
}

impl AcquiredSync {
    pub const EMPTY: AcquiredSync = AcquiredSync {
        addr: 0,
        version: 0,
        into_clock: false,
    };
}

/// An access recorded in a spilled word: the cell stored, in the thread's
/// `generation` then.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SpilledAccess {
    pub word: usize,
    pub cell: u64,
    pub generation: u64,
}

impl SpilledAccess {
    pub const EMPTY: SpilledAccess = SpilledAccess {
        word: 0,
        cell: 0,
        generation: 0,
    };
}

/// A call-tree node interned by this thread: `pc` under `parent` is `id`.
#[derive(Clone, Copy)]
pub struct InternedFrame {
    pub pc: u64,
    pub parent: u32,
    /// 0 = empty entry.
    pub id: u32,
}

impl InternedFrame {
    pub const EMPTY: InternedFrame = InternedFrame {
        pc: 0,
        parent: 0,
        id: 0,
    };
}

/// The direct-mapped slot of `word` in [`Caches::spilled_seen`].
#[inline]
pub fn spilled_slot(word: usize) -> usize {
    (word >> 3) % SPILLED_SEEN
}

pub const INTERN_CACHE: usize = 256;
const _: () = assert!(INTERN_CACHE.is_power_of_two());

pub const ACQ_CACHE: usize = 8;
pub const SPILLED_SEEN: usize = 64;

/// Registry entry of a thread, kept after it finishes (for reports and joins).
pub struct ThreadInfo {
    pub os_tid: u32,
    pub parent: u32,
    pub running: bool,
    pub creation_stack: u32,
    pub creation_pc: u64,
    pub exit_clock: VectorClock,
    pub trace: *mut Trace,
    pub pthread: usize,
    /// The thread's stack and static TLS block (empty = unknown).
    pub stack: AddrRange,
    pub tls: AddrRange,
    /// The name reports show (`Thread T1 'name'`), if one was set.
    pub name: Option<alloc::string::String>,
}

/// An address range `[lo, hi)`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AddrRange {
    pub lo: usize,
    pub hi: usize,
}

impl AddrRange {
    pub const EMPTY: AddrRange = AddrRange { lo: 0, hi: 0 };

    pub fn contains(&self, addr: usize) -> bool {
        addr >= self.lo && addr < self.hi
    }
}

/// Where a thread keeps an address (for "Location is stack/TLS of thread T1").
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ThreadArea {
    Stack,
    Tls,
}

pub struct Registry {
    pub threads: Vec<ThreadInfo>,
    /// pthread handle → thread id, for threads not yet joined or detached.
    pub by_handle: BTreeMap<usize, u32>,
    pub slots: SlotTable,
    /// Finished threads whose traces are still kept, oldest first.
    pub finished: Vec<u32>,
}

// SAFETY: the raw trace pointers are owned by the registry and only dereferenced
// under its lock or by their own thread.
unsafe impl Send for Registry {}

pub static REGISTRY: SpinMutex<Registry> = SpinMutex::new(Registry {
    threads: Vec::new(),
    by_handle: BTreeMap::new(),
    slots: SlotTable::new(),
    finished: Vec::new(),
});

/// Thread counts for `verbosity` statistics.
pub struct SlotStats {
    pub slots_opened: usize,
    /// Slots reused without the previous owner ordered before the new thread.
    pub unordered_reuses: u64,
    pub threads: usize,
}

pub fn slot_stats() -> SlotStats {
    let r = REGISTRY.lock();
    SlotStats {
        slots_opened: r.slots.opened(),
        unordered_reuses: r.slots.unsafe_reuses,
        threads: r.threads.len(),
    }
}

/// Set in the child of a fork made while other threads ran: their registry entries
/// stay behind, running forever, and threads they left unjoined can never be
/// joined here, so the child reports no thread leaks (as TSan).
static AFTER_MT_FORK: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// In a fork child: notes whether the parent had other threads running.
pub fn forked_child(me: u32) {
    let multi = REGISTRY
        .lock()
        .threads
        .iter()
        .enumerate()
        .any(|(tid, t)| t.running && tid as u32 != me);
    if multi {
        // Relaxed: read by this process's later threads only through their creation.
        AFTER_MT_FORK.store(true, Ordering::Relaxed);
    }
}

pub fn after_multithreaded_fork() -> bool {
    // Relaxed: see `forked_child`.
    AFTER_MT_FORK.load(Ordering::Relaxed)
}

/// Traces of at most this many finished threads are kept.
const KEEP_FINISHED: usize = 128;

/// What leaving the outermost runtime scope does about signals that arrived
/// inside it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum OnLeave {
    /// Run their handlers now (every scope but the signal delivery's own).
    DeliverPending,
    /// Leave them pending: the signal delivery code, which runs with every signal
    /// blocked and delivers them itself.
    KeepPending,
}

/// Raises the thread's `in_rt` for its lifetime: interceptors reached meanwhile
/// (the runtime's own calls into libc) go straight to the real functions, and a
/// signal arriving meanwhile waits in the pending table (see `crate::signals`).
pub struct RuntimeScope {
    on_leave: OnLeave,
    /// Not `Send`: the scope is the calling thread's.
    _thread: core::marker::PhantomData<*mut ()>,
}

impl RuntimeScope {
    #[inline]
    pub fn enter(on_leave: OnLeave) -> RuntimeScope {
        let t = cur();
        t.in_rt.set(t.in_rt.get() + 1);
        // SeqCst compiler fence: this thread's signal handler reads `in_rt` (see
        // crate::signals); the raise must stay before the scope's work.
        compiler_fence(Ordering::SeqCst);
        RuntimeScope {
            on_leave,
            _thread: core::marker::PhantomData,
        }
    }
}

impl Drop for RuntimeScope {
    #[inline]
    fn drop(&mut self) {
        // SeqCst compiler fences: the scope's work stays before the drop, and the
        // pending check after it (a signal arriving after the drop runs at once).
        compiler_fence(Ordering::SeqCst);
        let t = cur();
        let depth = t.in_rt.get() - 1;
        t.in_rt.set(depth);
        compiler_fence(Ordering::SeqCst);
        if depth == 0 && self.on_leave == OnLeave::DeliverPending {
            crate::signals::leave_runtime();
        }
    }
}

/// What entering the runtime does on a thread the runtime does not know yet.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    /// Register and attach it (the main thread before `__tsan_init`, threads not
    /// started through `pthread_create`).
    Attach,
    /// Give no thread state (the caller does without).
    Skip,
}

/// The runtime scope with the calling thread's context: compiler-rt's
/// `ThreadState *thr`. An entry point or interceptor opens one and passes the
/// `&mut ThreadCtx` down; at most one exists per thread at a time (a second
/// `enter` while one is open gets `None`), so no two `&mut` to the context are
/// ever live. The only way a second one could be asked for is a synchronous
/// signal (a fault) whose handler interrupted runtime work on this thread: the
/// handler's accesses and calls then go unchecked, as runtime callers' do.
pub struct Rt {
    thr: &'static mut ThreadCtx,
    // Dropped after the context is given back (fields drop in order).
    _scope: RuntimeScope,
}

impl Rt {
    /// Enters the runtime with the thread's context; `None` when the thread is
    /// unknown and `unknown` is `Skip`, or a scope already holds the context.
    #[inline]
    pub fn enter(on_leave: OnLeave, unknown: Unknown) -> Option<Rt> {
        let scope = RuntimeScope::enter(on_leave);
        let t = cur();
        if t.ctx_borrowed.get() {
            return None;
        }
        if !t.attached() {
            if unknown == Unknown::Skip {
                return None;
            }
            attach_unknown_thread();
        }
        t.ctx_borrowed.set(true);
        // SAFETY: set by `attach`, freed never (contexts of finished threads leak
        // deliberately: late destructors may still run instrumented code). The
        // borrow flag, set until this Rt drops, keeps any other `&mut` away.
        let thr = unsafe { &mut *t.ctx.get() };
        Some(Rt { thr, _scope: scope })
    }
}

impl Drop for Rt {
    #[inline]
    fn drop(&mut self) {
        cur().ctx_borrowed.set(false);
    }
}

impl core::ops::Deref for Rt {
    type Target = ThreadCtx;
    fn deref(&self) -> &ThreadCtx {
        self.thr
    }
}

impl core::ops::DerefMut for Rt {
    fn deref_mut(&mut self) -> &mut ThreadCtx {
        self.thr
    }
}

/// Runs `f` inside the runtime with the calling thread's context (attaching an
/// unknown thread first). `None` only when a scope already holds the context
/// (see [`Rt`]).
#[inline]
pub fn with_thread<R>(f: impl FnOnce(&mut ThreadCtx) -> R) -> Option<R> {
    let mut rt = Rt::enter(OnLeave::DeliverPending, Unknown::Attach)?;
    Some(f(&mut rt))
}

/// [`with_thread`] for a thread the runtime knows already: `None` otherwise.
#[inline]
pub fn with_known_thread<R>(f: impl FnOnce(&mut ThreadCtx) -> R) -> Option<R> {
    let mut rt = Rt::enter(OnLeave::DeliverPending, Unknown::Skip)?;
    Some(f(&mut rt))
}

/// Runs `f` inside the runtime without the thread's context (process-wide state
/// only, under its own locks).
#[inline]
pub fn in_runtime<R>(f: impl FnOnce() -> R) -> R {
    let _scope = RuntimeScope::enter(OnLeave::DeliverPending);
    f()
}

#[cold]
fn attach_unknown_thread() {
    crate::rt::ensure_init();
    if cur().attached() {
        return; // ensure_init attached the main thread
    }
    let (tid, grant) = register(0, 0, 0, None);
    attach(tid, grant, None);
}

/// Registers a new thread created by `parent` at `stack`; returns its id and slot.
pub fn register(
    parent: u32,
    creation_stack: u32,
    creation_pc: u64,
    inherited: Option<&VectorClock>,
) -> (u32, SlotGrant) {
    let mut r = REGISTRY.lock();
    let tid = r.threads.len() as u32;
    r.threads.push(ThreadInfo {
        os_tid: 0,
        parent,
        running: true,
        creation_stack,
        creation_pc,
        exit_clock: VectorClock::new(),
        trace: core::ptr::null_mut(),
        pthread: 0,
        stack: AddrRange::EMPTY,
        tls: AddrRange::EMPTY,
        name: None,
    });
    let g = r.slots.acquire(tid, inherited);
    drop(r);
    if crate::rt::verbosity() >= 2 {
        umbra_sys::eprint_fmt(format_args!(
            "umbra: thread T{} (parent T{}) gets slot {} at epoch {}\n",
            tid, parent, g.sid, g.epoch
        ));
    }
    (tid, g)
}

/// Makes the calling thread `tid`, holding `grant`, knowing `inherited`.
pub fn attach(tid: u32, grant: SlotGrant, inherited: Option<&VectorClock>) {
    let ctx = new_context(tid, grant, inherited);
    let t = cur();
    // Keep frames pushed before attaching (none normally).
    t.stack.set(map_shadow_stack());
    t.depth.set(0);
    t.interned.set(0);
    t.stack_cap.set(STACK_CAP);
    t.ctx.set(ctx);
    // SAFETY: just made; no scope can hold it yet.
    unsafe { (*ctx).refresh_fast_state() };
}

/// The context of thread `tid` (its clock, trace and caches), not yet installed
/// in any OS thread's `THR`: `attach` installs it in the calling thread,
/// `crate::fiber` keeps it in a fiber until a switch installs it.
pub fn new_context(tid: u32, grant: SlotGrant, inherited: Option<&VectorClock>) -> *mut ThreadCtx {
    let trace = Box::into_raw(Box::new(Trace::new(crate::rt::history_events())));
    let ctx = Box::new(ThreadCtx {
        tid,
        clock: ThreadClock::start(grant.sid, grant.epoch, inherited),
        ignore_depth: 0,
        ignore_sync: 0,
        startup: None,
        scratch: Vec::with_capacity(8),
        nodes: Vec::new(),
        nodes_gen: 0,
        trace,
        held: Vec::new(),
        mutexes: 0,
        sleep: None,
        caches: Some(Box::new(Caches {
            acquired: [AcquiredSync::EMPTY; ACQ_CACHE],
            spilled_seen: [SpilledAccess::EMPTY; SPILLED_SEEN],
            interned: [InternedFrame::EMPTY; INTERN_CACHE],
        })),
        generation: 1,
        fiber: core::ptr::null_mut(),
    });
    {
        let mut r = REGISTRY.lock();
        let info = &mut r.threads[tid as usize];
        info.os_tid = umbra_sys::gettid();
        info.trace = trace;
    }
    Box::into_raw(ctx)
}

/// A fresh shadow call stack of `STACK_CAP` frames (unmapped by `ThreadCtx::finish`).
pub fn map_shadow_stack() -> *mut u64 {
    umbra_sys::mmap_anon(STACK_CAP * 8, true)
        .unwrap_or_else(|| umbra_sys::internal_error(format_args!("cannot map a shadow stack")))
        as *mut u64
}

/// Installs `ctx` (a fiber's context, see `crate::fiber`) as the calling thread's,
/// the fiber's saved shadow stack having been put into [`cur`] already. No [`Rt`]
/// scope may be open: one would hold the `&mut` of the context it replaces.
pub fn install_context(ctx: *mut ThreadCtx) {
    let t = cur();
    if t.ctx_borrowed.get() {
        umbra_sys::internal_error(format_args!(
            "fiber switch while the thread context is in use"
        ));
    }
    t.ctx.set(ctx);
    // SAFETY: a live context (made by `new_context`, freed only when its fiber is
    // destroyed, never while installed); no scope holds it (checked above) and
    // nothing else refers to it while it is installed on this thread.
    unsafe { (*ctx).refresh_fast_state() };
}

/// Records the calling thread's stack and static TLS ranges, for "Location is
/// stack of thread T1" / "Location is TLS of thread T1" in reports. Calls libc, so
/// it runs once libc is initialized (thread start, or umbra's constructor for the
/// main thread).
pub fn note_stack_and_tls() {
    let Some(tid) = with_known_thread(|thr| thr.tid) else {
        return;
    };
    let (stack, tls) = in_runtime(|| {
        let mut attr = [0u64; 8]; // pthread_attr_t is 56 bytes
        let mut addr: *mut core::ffi::c_void = core::ptr::null_mut();
        let mut size = 0usize;
        // SAFETY: pthread_getattr_np fills the attr object we pass and allocates
        // nothing we must free but through pthread_attr_destroy.
        let stack = unsafe {
            let a = attr.as_mut_ptr() as crate::real::Ptr;
            if crate::real::pthread_getattr_np(crate::real::pthread_self(), a) == 0 {
                crate::real::pthread_attr_getstack(a, &mut addr, &mut size);
                crate::real::pthread_attr_destroy(a);
                AddrRange {
                    lo: addr as usize,
                    hi: addr as usize + size,
                }
            } else {
                AddrRange::EMPTY
            }
        };
        // glibc on x86_64 places the static TLS blocks right below the thread
        // pointer (%fs:0 holds the thread pointer itself).
        let tp: usize;
        // SAFETY: reading the TCB's self pointer, always present on x86_64 glibc.
        unsafe {
            core::arch::asm!("mov {}, fs:0", out(reg) tp, options(nostack, readonly, preserves_flags))
        };
        let (mut tls_size, mut align) = (0usize, 0usize);
        // SAFETY: a GLIBC_PRIVATE function of ld.so filling two size_t.
        unsafe { crate::real::_dl_get_tls_static_info(&mut tls_size, &mut align) };
        let tls = AddrRange {
            lo: tp.saturating_sub(tls_size),
            hi: tp,
        };
        (stack, tls)
    });
    // glibc reuses the stacks (and static TLS blocks, which sit at their top) of
    // exited threads: a new thread starts with fresh shadow there, or it would
    // race with the accesses of the previous owner. The part of the stack below
    // the current frame is reset; what is above it (this thread's own frames
    // so far) is left alone.
    if tid != 0 {
        let here = &stack as *const _ as usize;
        if stack.lo != 0 && here > stack.lo && here < stack.hi {
            crate::rt::reset_shadow(stack.lo, here - 256 - stack.lo, 0);
        }
        if tls.lo != 0 {
            crate::rt::reset_shadow(tls.lo, tls.hi - tls.lo, 0);
        }
    }
    // Inside the runtime: a signal handler must not find the registry locked.
    in_runtime(|| {
        let mut r = REGISTRY.lock();
        let info = &mut r.threads[tid as usize];
        info.stack = stack;
        info.tls = tls;
    });
}

/// Which thread's stack or TLS holds `addr`.
pub fn stack_or_tls_of(addr: usize) -> Option<(u32, ThreadArea)> {
    let r = REGISTRY.lock();
    for (i, t) in r.threads.iter().enumerate() {
        if t.running && t.tls.contains(addr) {
            return Some((i as u32, ThreadArea::Tls));
        }
    }
    for (i, t) in r.threads.iter().enumerate() {
        if t.running && t.stack.contains(addr) {
            return Some((i as u32, ThreadArea::Stack));
        }
    }
    None
}

impl ThreadCtx {
    /// Re-derives the fast state after the thread's clock (epoch or acquired
    /// knowledge) or ignore state changed.
    #[inline]
    pub fn refresh_fast_state(&mut self) {
        self.generation += 1;
        let ignore = if self.ignore_depth > 0 { IGNORE } else { 0 };
        cur()
            .fast_state
            .set(ShadowCell::fast_state(self.clock.sid, self.clock.epoch()) | ignore);
        crate::intercept::sleep::publish_epoch(self.clock.sid, self.clock.epoch());
    }

    /// Starts ignoring the calling thread's accesses and synchronization until it
    /// enters the user's closure (see `crate::rust_startup`): the shadow stack's
    /// capacity is hidden so that every function entry takes the slow path, which
    /// looks for the end.
    pub fn begin_std_startup(&mut self, startup: &'static crate::rust_startup::StdStartup) {
        self.startup = Some(startup);
        self.ignore_depth += 1;
        self.ignore_sync += 1;
        cur().stack_cap.set(0);
        self.refresh_fast_state();
    }

    /// Called from the function-entry slow path of a starting Rust thread, after
    /// `pc` was pushed, with `site` an address inside the function being entered.
    pub fn std_startup_entry(&mut self, site: u64) {
        let Some(startup) = self.startup else { return };
        // The first function std's start routine enters is itself; any other first
        // entry means std is not instrumented (its start-up is invisible anyway).
        let first = cur().depth.get() == 1;
        if startup.enters_user_code(site) || (first && !startup.in_thread_start(site)) {
            self.startup = None;
            self.ignore_depth -= 1;
            self.ignore_sync -= 1;
            cur().stack_cap.set(STACK_CAP);
            self.refresh_fast_state();
        }
    }

    /// Called when the thread is about to end (after TLS destructors): publishes its
    /// clock for joiners, frees its slot, and ignores anything it still does.
    pub fn finish(&mut self) {
        crate::ignores::check_at_thread_end(self);
        crate::deadlock::thread_finished();
        let tid = self.tid;
        let mut r = REGISTRY.lock();
        let info = &mut r.threads[tid as usize];
        // The slot's last epoch is the one published to joiners (the tick after the
        // release is never used), so a joiner knows it and may reuse the slot.
        let (sid, epoch) = (self.clock.sid, self.clock.epoch());
        self.clock.release_store(&mut info.exit_clock);
        info.running = false;
        r.slots.release(sid, epoch);
        if crate::rt::verbosity() >= 2 {
            umbra_sys::eprint_fmt(format_args!(
                "umbra: thread T{} leaves slot {} at epoch {}\n",
                tid, sid, epoch
            ));
        }
        r.finished.push(tid);
        if r.finished.len() > KEEP_FINISHED {
            let old = r.finished.remove(0);
            let tr = core::mem::replace(&mut r.threads[old as usize].trace, core::ptr::null_mut());
            if !tr.is_null() {
                // SAFETY: the finished thread no longer writes its trace; reporters read
                // traces only under the registry lock, which we hold.
                unsafe { (*tr).release() };
            }
        }
        drop(r);
        self.ignore_depth += 1;
        self.refresh_fast_state();
        // The shadow stack goes back to the kernel (a run may create any number of
        // threads; leaving one mapping each behind would exhaust vm.max_map_count).
        let t = cur();
        let stack = t.stack.get();
        if !stack.is_null() {
            t.stack_cap.set(0);
            t.depth.set(0);
            t.interned.set(0);
            t.stack.set(core::ptr::null_mut());
            // SAFETY: the mapping made in `attach`; nothing pushes after stack_cap = 0.
            unsafe { umbra_sys::munmap(stack as *mut u8, STACK_CAP * 8) };
        }
        // What a finished thread no longer needs (its context itself stays: late
        // destructors may still run instrumented code, which is then ignored).
        self.nodes = Vec::new();
        self.scratch = Vec::new();
        self.held = Vec::new();
        self.sleep = None;
        self.caches = None;
        // SAFETY: the thread's own trace; reporters read only the ring, not the cache.
        unsafe { (*self.trace).close() };
    }

    /// The depot id of the current call stack (interning frames pushed since the
    /// last call).
    pub fn stack_id(&mut self) -> u32 {
        let t = cur();
        let depth = t.depth.get();
        if self.nodes.len() < depth {
            self.nodes.resize(depth, 0);
        }
        let gen = DEPOT.generation();
        if gen != self.nodes_gen {
            self.nodes_gen = gen;
            t.interned.set(0);
            if let Some(caches) = self.caches.as_deref_mut() {
                caches.interned = [InternedFrame::EMPTY; INTERN_CACHE];
            }
        }
        let mut interned = t.interned.get();
        while interned < depth {
            let parent = if interned == 0 {
                0
            } else {
                self.nodes[interned - 1]
            };
            // SAFETY: interned < depth <= stack_cap, inside the shadow stack mapping.
            let pc = unsafe { *t.stack.get().add(interned) };
            let slot = crate::hash::slot(pc ^ (parent as u64) << 7, INTERN_CACHE);
            let id = match self.caches.as_deref_mut() {
                Some(caches) => {
                    let e = &mut caches.interned[slot];
                    if e.id != 0 && e.pc == pc && e.parent == parent {
                        e.id
                    } else {
                        let id = DEPOT.intern(parent, pc);
                        *e = InternedFrame { pc, parent, id };
                        id
                    }
                }
                None => DEPOT.intern(parent, pc),
            };
            self.nodes[interned] = id;
            interned += 1;
            t.interned.set(interned);
        }
        if depth == 0 {
            0
        } else {
            self.nodes[depth - 1]
        }
    }
}

/// The current call stack as return addresses, innermost first, starting with `pc`.
pub fn current_stack(pc: u64) -> Vec<u64> {
    let t = cur();
    let depth = t.depth.get();
    let mut v = Vec::with_capacity(depth + 1);
    if pc != 0 {
        v.push(pc);
    }
    for i in (0..depth).rev() {
        // SAFETY: i < depth <= stack_cap.
        v.push(unsafe { *t.stack.get().add(i) });
    }
    v
}
