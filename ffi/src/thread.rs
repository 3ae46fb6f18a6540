//! Threads: the per-thread state the fast path reads from initial-exec TLS, the
//! per-thread runtime context behind it, and the registry that names threads `T<n>`
//! for reports, hands out slots, and carries the clocks of thread creation and exit.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::sync::atomic::{compiler_fence, Ordering};

use umbra_clocks::{SlotGrant, SlotTable, ThreadClock, VectorClock};
use umbra_shadow::cell::{ShadowCell, IGNORE};
use umbra_sys::SpinMutex;

use crate::trace::{Trace, DEPOT};

/// What the access fast path needs, in static TLS (one `fs:`-relative load).
#[repr(C)]
pub struct ThreadState {
    /// `ShadowCell::fast_state(sid, epoch)`, plus `IGNORE` while accesses are
    /// ignored; 0 before the thread is known to the runtime.
    pub fast_state: u64,
    /// Shadow call stack: return addresses pushed by `__tsan_func_entry`.
    pub stack: *mut u64,
    pub depth: usize,
    /// Capacity of `stack`; 0 until initialized, which sends the first
    /// `__tsan_func_entry` to the slow path.
    pub stack_cap: usize,
    /// Frames `[0, interned)` have valid depot nodes in `ctx.nodes`.
    pub interned: usize,
    /// Nesting depth of runtime code on this thread (interceptors use the real
    /// functions when it is non-zero).
    pub in_rt: u32,
    pub ctx: *mut ThreadCtx,
}

#[thread_local]
pub static mut THR: ThreadState = ThreadState {
    fast_state: 0,
    stack: core::ptr::null_mut(),
    depth: 0,
    stack_cap: 0,
    interned: 0,
    in_rt: 0,
    ctx: core::ptr::null_mut(),
};

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
    /// The last sleep: pc, stack, and every slot's epoch at that moment.
    pub sleep: Option<(u64, u32, Vec<u64>)>,
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
    /// Sync objects whose clock this thread has taken: (address, version, into
    /// `C_T` rather than only `F_T^acq`), direct-mapped by address.
    pub acquired: [(usize, u64, bool); ACQ_CACHE],
    /// Accesses recently recorded in spilled words, `(word, cell, generation)`,
    /// direct-mapped by word: the fast path cannot see a spilled word's records,
    /// so repeats are caught here instead (see `entry::record_and_check`).
    pub spilled_seen: [(usize, u64, u64); SPILLED_SEEN],
    /// Call-tree nodes this thread interned, `(pc, parent, id)`, direct-mapped by
    /// `(parent, pc)`: a stack popped and pushed again is re-interned without the
    /// depot's global lock. Cleared when the depot's generation turns.
    pub interned: [(u64, u32, u32); INTERN_CACHE],
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
    /// The thread's stack and static TLS block, `[lo, hi)` (0,0 = unknown).
    pub stack: (usize, usize),
    pub tls: (usize, usize),
    /// The name reports show (`Thread T1 'name'`), if one was set.
    pub name: Option<alloc::string::String>,
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

/// (thread slots opened, slots reused without ordering, threads created).
pub fn slot_stats() -> (usize, u64, usize) {
    let r = REGISTRY.lock();
    (r.slots.opened(), r.slots.unsafe_reuses, r.threads.len())
}

/// Set in the child of a fork made while other threads ran: their registry entries
/// stay behind, running forever, and threads they left unjoined can never be
/// joined here, so the child reports no thread leaks (as TSan).
static AFTER_MT_FORK: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// In a fork child: notes whether the parent had other threads running.
pub fn forked_child() {
    let me = ctx().tid;
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

/// The current thread's state.
#[inline(always)]
pub fn thr() -> &'static mut ThreadState {
    // SAFETY: THR is thread-local; each thread only ever touches its own, and the
    // runtime never holds two live mutable references to it across calls that could
    // re-enter (interceptors and entry points take it fresh).
    unsafe { &mut *core::ptr::addr_of_mut!(THR) }
}

/// The current thread's context, registering the thread first if it is unknown
/// (the main thread before `__tsan_init`, threads not started through
/// `pthread_create`).
pub fn ctx() -> &'static mut ThreadCtx {
    let t = thr();
    if t.ctx.is_null() {
        attach_unknown_thread();
    }
    // SAFETY: set by `attach`, freed never (contexts of finished threads leak
    // deliberately: late destructors may still run instrumented code).
    unsafe { &mut *thr().ctx }
}

#[cold]
fn attach_unknown_thread() {
    crate::rt::ensure_init();
    if !thr().ctx.is_null() {
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
        stack: (0, 0),
        tls: (0, 0),
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
    let t = thr();
    // Keep frames pushed before attaching (none normally).
    t.stack = map_shadow_stack();
    t.depth = 0;
    t.interned = 0;
    t.stack_cap = STACK_CAP;
    t.ctx = ctx;
    refresh_fast_state();
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
            acquired: [(0, 0, false); ACQ_CACHE],
            spilled_seen: [(0, 0, 0); SPILLED_SEEN],
            interned: [(0, 0, 0); INTERN_CACHE],
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

/// A fresh shadow call stack of `STACK_CAP` frames (unmapped by `finish_current`).
pub fn map_shadow_stack() -> *mut u64 {
    umbra_sys::mmap_anon(STACK_CAP * 8, true)
        .unwrap_or_else(|| umbra_sys::internal_error(format_args!("cannot map a shadow stack")))
        as *mut u64
}

/// Records the calling thread's stack and static TLS ranges, for "Location is
/// stack of thread T1" / "Location is TLS of thread T1" in reports. Calls libc, so
/// it runs once libc is initialized (thread start, or umbra's constructor for the
/// main thread).
pub fn note_stack_and_tls() {
    let t = thr();
    if t.ctx.is_null() {
        return;
    }
    let tid = ctx().tid;
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
                (addr as usize, addr as usize + size)
            } else {
                (0, 0)
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
        (stack, (tp.saturating_sub(tls_size), tp))
    });
    // glibc reuses the stacks (and static TLS blocks, which sit at their top) of
    // exited threads: a new thread starts with fresh shadow there, or it would
    // race with the accesses of the previous owner. The part of the stack below
    // the current frame is reset; what is above it (this thread's own frames
    // so far) is left alone.
    if tid != 0 {
        let here = &stack as *const _ as usize;
        if stack.0 != 0 && here > stack.0 && here < stack.1 {
            crate::rt::reset_shadow(stack.0, here - 256 - stack.0, 0);
        }
        if tls.0 != 0 {
            crate::rt::reset_shadow(tls.0, tls.1 - tls.0, 0);
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

/// Which thread's stack or TLS holds `addr`: `(tid, is_tls)`.
pub fn stack_or_tls_of(addr: usize) -> Option<(u32, bool)> {
    let r = REGISTRY.lock();
    for (i, t) in r.threads.iter().enumerate() {
        if t.running && addr >= t.tls.0 && addr < t.tls.1 {
            return Some((i as u32, true));
        }
    }
    for (i, t) in r.threads.iter().enumerate() {
        if t.running && addr >= t.stack.0 && addr < t.stack.1 {
            return Some((i as u32, false));
        }
    }
    None
}

/// Re-derives the fast state after the thread's clock (epoch or acquired
/// knowledge) or ignore state changed.
#[inline]
pub fn refresh_fast_state() {
    let t = thr();
    // SAFETY: ctx is non-null once attached; callers only call this after attach.
    let c = unsafe { &mut *t.ctx };
    c.generation += 1;
    let ignore = if c.ignore_depth > 0 { IGNORE } else { 0 };
    t.fast_state = ShadowCell::fast_state(c.clock.sid, c.clock.epoch()) | ignore;
    crate::intercept::sleep::publish_epoch(c.clock.sid, c.clock.epoch());
}

/// Starts ignoring the calling thread's accesses and synchronization until it
/// enters the user's closure (see `crate::rust_startup`): the shadow stack's
/// capacity is hidden so that every function entry takes the slow path, which
/// looks for the end.
pub fn begin_std_startup(startup: &'static crate::rust_startup::StdStartup) {
    let c = ctx();
    c.startup = Some(startup);
    c.ignore_depth += 1;
    c.ignore_sync += 1;
    thr().stack_cap = 0;
    refresh_fast_state();
}

/// Called from the function-entry slow path of a starting Rust thread, after
/// `pc` was pushed, with `site` an address inside the function being entered.
pub fn std_startup_entry(site: u64) {
    let c = ctx();
    let Some(startup) = c.startup else { return };
    // The first function std's start routine enters is itself; any other first
    // entry means std is not instrumented (its start-up is invisible anyway).
    let first = thr().depth == 1;
    if startup.enters_user_code(site) || (first && !startup.in_thread_start(site)) {
        c.startup = None;
        c.ignore_depth -= 1;
        c.ignore_sync -= 1;
        thr().stack_cap = STACK_CAP;
        refresh_fast_state();
    }
}

/// Called when the thread is about to end (after TLS destructors): publishes its
/// clock for joiners, frees its slot, and ignores anything it still does.
pub fn finish_current() {
    let t = thr();
    if t.ctx.is_null() {
        return;
    }
    let c = ctx();
    let tid = c.tid;
    let mut r = REGISTRY.lock();
    let info = &mut r.threads[tid as usize];
    // The slot's last epoch is the one published to joiners (the tick after the
    // release is never used), so a joiner knows it and may reuse the slot.
    let (sid, epoch) = (c.clock.sid, c.clock.epoch());
    c.clock.release_store(&mut info.exit_clock);
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
    c.ignore_depth += 1;
    refresh_fast_state();
    // The shadow stack goes back to the kernel (a run may create any number of
    // threads; leaving one mapping each behind would exhaust vm.max_map_count).
    let t = thr();
    if !t.stack.is_null() {
        // SAFETY: the mapping made in `attach`; nothing pushes after stack_cap = 0.
        unsafe { umbra_sys::munmap(t.stack as *mut u8, STACK_CAP * 8) };
        t.stack = core::ptr::null_mut();
        t.stack_cap = 0;
        t.depth = 0;
        t.interned = 0;
    }
    // What a finished thread no longer needs (its context itself stays: late
    // destructors may still run instrumented code, which is then ignored).
    c.nodes = Vec::new();
    c.scratch = Vec::new();
    c.held = Vec::new();
    c.sleep = None;
    c.caches = None;
    // SAFETY: the thread's own trace; reporters read only the ring, not the cache.
    unsafe { (*c.trace).close() };
}

/// The depot id of the current call stack (interning frames pushed since the last
/// call).
pub fn current_stack_id() -> u32 {
    let t = thr();
    let c = ctx();
    if c.nodes.len() < t.depth {
        c.nodes.resize(t.depth, 0);
    }
    let gen = DEPOT.generation();
    if gen != c.nodes_gen {
        c.nodes_gen = gen;
        t.interned = 0;
        if let Some(caches) = c.caches.as_deref_mut() {
            caches.interned = [(0, 0, 0); INTERN_CACHE];
        }
    }
    while t.interned < t.depth {
        let parent = if t.interned == 0 {
            0
        } else {
            c.nodes[t.interned - 1]
        };
        // SAFETY: interned < depth <= stack_cap, inside the shadow stack mapping.
        let pc = unsafe { *t.stack.add(t.interned) };
        // Fibonacci hashing into INTERN_CACHE (a power of two) slots.
        let slot = ((pc ^ (parent as u64) << 7).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            >> (64 - INTERN_CACHE.trailing_zeros())) as usize;
        let id = match c.caches.as_deref_mut() {
            Some(caches) => {
                let e = &mut caches.interned[slot];
                if e.2 != 0 && e.0 == pc && e.1 == parent {
                    e.2
                } else {
                    let id = DEPOT.intern(parent, pc);
                    *e = (pc, parent, id);
                    id
                }
            }
            None => DEPOT.intern(parent, pc),
        };
        c.nodes[t.interned] = id;
        t.interned += 1;
    }
    if t.depth == 0 {
        0
    } else {
        c.nodes[t.depth - 1]
    }
}

/// The current call stack as return addresses, innermost first, starting with `pc`.
pub fn current_stack(pc: u64) -> Vec<u64> {
    let t = thr();
    let mut v = Vec::with_capacity(t.depth + 1);
    if pc != 0 {
        v.push(pc);
    }
    for i in (0..t.depth).rev() {
        // SAFETY: i < depth <= stack_cap.
        v.push(unsafe { *t.stack.add(i) });
    }
    v
}

/// Runs `f` with the runtime guard raised: interceptors reached from inside (the
/// runtime's own memcpy, say) go straight to the real functions, and signals that
/// arrive meanwhile wait: their handlers run on the outermost exit.
#[inline]
pub fn in_runtime<R>(f: impl FnOnce() -> R) -> R {
    let t = thr();
    t.in_rt += 1;
    // SeqCst compiler fences: this thread's signal handler reads `in_rt` (see
    // crate::signals); the raise must stay before `f`'s work, the drop after it,
    // and the pending check after the drop.
    compiler_fence(Ordering::SeqCst);
    let r = f();
    compiler_fence(Ordering::SeqCst);
    let t = thr();
    t.in_rt -= 1;
    compiler_fence(Ordering::SeqCst);
    if t.in_rt == 0 {
        crate::signals::leave_runtime();
    }
    r
}
