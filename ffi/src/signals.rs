//! Signal delivery, done the way ThreadSanitizer does it. The kernel runs umbra's
//! handler (`on_signal`) for every signal the program handles; the program's own
//! handler, flags and mask live in `ACTIONS`. A signal that arrives while its thread
//! is inside the runtime (`ThreadState::in_rt > 0`: holding a runtime lock, or
//! halfway through changing its history, clock or shadow) is put in the thread's
//! pending table. Its handler runs when the thread leaves the runtime
//! (`leave_runtime`, called at the outermost exit of `in_runtime`). Anywhere else
//! the handler runs at once: in program code, and in every blocking call, because
//! the interceptors make blocking calls outside the runtime. Synchronous faults
//! also run at once. Around the program's handler umbra sets the mask its
//! sigaction asked for. The handler gets the happens-before edge from the sender:
//! `kill`, `pthread_kill` and `raise` release into the signal's sync clock, and the
//! handler acquires it. The handler's accesses are checked even if the
//! interrupted code was ignoring accesses. errno is saved and restored, and the
//! two signal reports are made here: `signal-unsafe call inside of a signal` and
//! `signal handler spoils errno`. Nothing on the arrival path allocates or takes
//! a lock: the pending table is a per-thread mapping made with a raw mmap, and
//! the action table is a seqlock.

use core::ffi::{c_int, c_void};
use core::sync::atomic::{
    compiler_fence, fence, AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};

use umbra_sys::SpinMutex;

use crate::thread::{cur, OnLeave, Rt, Unknown};

/// Signals 1..=64; index 0 is unused.
pub const NSIG: usize = 65;
pub const SIGILL: c_int = 4;
pub const SIGTRAP: c_int = 5;
pub const SIGBUS: c_int = 7;
pub const SIGFPE: c_int = 8;
pub const SIGKILL: c_int = 9;
pub const SIGSEGV: c_int = 11;
pub const SIGTERM: c_int = 15;
pub const SIGSTOP: c_int = 19;
pub const SIGSYS: c_int = 31;
pub const SA_SIGINFO: c_int = 4;
pub const SA_NODEFER: c_int = 0x4000_0000;
pub const SA_RESETHAND: c_int = 0x8000_0000_u32 as c_int;
pub const SIG_DFL: usize = 0;
pub const SIG_IGN: usize = 1;
/// Every signal, as a kernel signal set.
pub const ALL: u64 = u64::MAX;

const NR_RT_SIGACTION: usize = 13;
const NR_RT_SIGPROCMASK: usize = 14;
const SIG_SETMASK: usize = 2;
/// The kernel's signal set is 64 bits (glibc's `sigset_t` is 1024 bits, the rest unused).
const KERNEL_SIGSET: usize = 8;
/// Offset of `uc_sigmask` in the ucontext the kernel passes (glibc's `ucontext_t`
/// has it at the same place: after flags, link, stack and the 256-byte mcontext).
const UC_SIGMASK: usize = 296;
/// Offset of the interrupted RIP: `uc_mcontext.gregs[REG_RIP]` (40 + 16 * 8).
const UC_RIP: usize = 168;
/// `sizeof(siginfo_t)` and glibc's `sizeof(ucontext_t)` on x86_64, in words.
const INFO_WORDS: usize = 16;
const UCTX_WORDS: usize = 121;

/// glibc's `struct sigaction` on x86_64: the layout the interceptors receive (the
/// kernel's differs: flags before restorer, a 64-bit mask last; glibc translates).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SigAction {
    pub handler: usize,
    pub mask: [u64; 16],
    pub flags: c_int,
    pub restorer: usize,
}

impl SigAction {
    pub const fn new(handler: usize, mask: u64, flags: c_int) -> SigAction {
        let mut m = [0u64; 16];
        m[0] = mask;
        SigAction {
            handler,
            mask: m,
            flags,
            restorer: 0,
        }
    }
}

/// The kernel's `struct sigaction` (for the raw `rt_sigaction` of `reset_to_default`).
#[repr(C)]
struct KernelSigAction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

/// The bit of `sig` in a kernel signal set.
pub const fn bit(sig: c_int) -> u64 {
    1u64 << (sig - 1)
}

/// One signal's action as the program set it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Handler {
    pub handler: usize,
    pub flags: c_int,
    pub mask: u64,
}

struct Action {
    handler: AtomicUsize,
    flags: AtomicU32,
    mask: AtomicU64,
}

/// The program's actions, indexed by signal. Read by `on_signal` on any thread,
/// written by the `sigaction` interceptor under `ACTIONS_SEQ`.
static ACTIONS: [Action; NSIG] = [const {
    Action {
        handler: AtomicUsize::new(SIG_DFL),
        flags: AtomicU32::new(0),
        mask: AtomicU64::new(0),
    }
}; NSIG];
/// Seqlock count of `ACTIONS`: odd while a writer changes an entry.
static ACTIONS_SEQ: AtomicU64 = AtomicU64::new(0);
/// Serializes writers (sigaction calls, never signal handlers).
static ACTIONS_WRITER: SpinMutex<()> = SpinMutex::new(());

/// The program's current action for `sig` (1..NSIG). Lock-free; async-signal-safe.
pub fn user_action(sig: c_int) -> Handler {
    let a = &ACTIONS[sig as usize];
    loop {
        // Acquire: pairs with the writer's final Release increment, so the fields
        // read below are at least as new as the count read here.
        let s1 = ACTIONS_SEQ.load(Ordering::Acquire);
        if s1 & 1 != 0 {
            core::hint::spin_loop();
            continue;
        }
        // Relaxed: validated by the count check below.
        let h = Handler {
            handler: a.handler.load(Ordering::Relaxed),
            flags: a.flags.load(Ordering::Relaxed) as c_int,
            mask: a.mask.load(Ordering::Relaxed),
        };
        // Acquire fence: the field loads above happen before the re-check of the
        // count (the seqlock reader's closing fence).
        fence(Ordering::Acquire);
        // Relaxed: ordered by the fence above.
        if ACTIONS_SEQ.load(Ordering::Relaxed) == s1 {
            return h;
        }
    }
}

/// Records the program's action for `sig`. Signals are blocked on this thread
/// meanwhile, so its own handler never spins on a half-written entry.
pub fn store_action(sig: c_int, h: Handler) {
    let old_mask = set_mask(ALL);
    {
        let _w = ACTIONS_WRITER.lock();
        // Relaxed increment + Release fence: the count turns odd before any field
        // changes (seqlock writer's opening).
        ACTIONS_SEQ.fetch_add(1, Ordering::Relaxed);
        fence(Ordering::Release);
        let a = &ACTIONS[sig as usize];
        // Relaxed: published by the Release increment below.
        a.handler.store(h.handler, Ordering::Relaxed);
        a.flags.store(h.flags as u32, Ordering::Relaxed);
        a.mask.store(h.mask, Ordering::Relaxed);
        // Release: the fields are written before the count turns even.
        ACTIONS_SEQ.fetch_add(1, Ordering::Release);
    }
    set_mask(old_mask);
}

/// SA_RESETHAND: the first delivery of `handler` turns the action back to SIG_DFL,
/// in the table and in the kernel. Returns whether this delivery won the reset
/// (another thread's delivery may have taken it first).
fn reset_to_default(sig: c_int, handler: usize) -> bool {
    // Relaxed: only atomicity matters (one winner among concurrent deliveries);
    // no other data is published with it. A lone handler field change keeps the
    // entry consistent for seqlock readers (SIG_DFL ignores flags and mask).
    let won = ACTIONS[sig as usize]
        .handler
        .compare_exchange(handler, SIG_DFL, Ordering::Relaxed, Ordering::Relaxed)
        .is_ok();
    if won {
        kernel_default(sig);
    }
    won
}

/// Sets the kernel's action for `sig` to SIG_DFL (raw system call: async-signal-safe).
pub fn kernel_default(sig: c_int) {
    let k = KernelSigAction {
        handler: SIG_DFL,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    umbra_sys::syscall6(
        NR_RT_SIGACTION,
        sig as usize,
        &k as *const _ as usize,
        0,
        KERNEL_SIGSET,
        0,
        0,
    );
}

/// Sets this thread's signal mask, returning the previous one (raw system call).
pub fn set_mask(mask: u64) -> u64 {
    let mut old = 0u64;
    umbra_sys::syscall6(
        NR_RT_SIGPROCMASK,
        SIG_SETMASK,
        &mask as *const u64 as usize,
        &mut old as *mut u64 as usize,
        KERNEL_SIGSET,
        0,
        0,
    );
    old
}

/// The address whose sync object carries the happens-before edge from senders of
/// `sig` (and from `sigaction` calls installing its handler) to its handlers.
pub fn sync_addr(sig: c_int) -> usize {
    &ACTIONS[sig as usize] as *const Action as usize
}

extern "C" {
    fn __errno_location() -> *mut c_int;
}

pub fn errno() -> c_int {
    // SAFETY: glibc's errno location for the current thread, always valid.
    unsafe { *__errno_location() }
}

pub fn set_errno(e: c_int) {
    // SAFETY: as in `errno`.
    unsafe { *__errno_location() = e };
}

/// A signal waiting for its thread to leave the runtime, with its arguments.
#[repr(C)]
struct Pending {
    armed: bool,
    action: Handler,
    info: [u64; INFO_WORDS],
    uctx: [u64; UCTX_WORDS],
}

#[repr(C)]
struct PendingTable {
    slots: [Pending; NSIG],
}

/// `TABLE` of a thread that has finished: signals arriving inside the runtime
/// are dropped (as TSan does for dead threads).
const TABLE_GONE: usize = 1;

/// This thread's pending table (`*mut PendingTable`), mapped at the first deferral.
#[thread_local]
static TABLE: AtomicUsize = AtomicUsize::new(0);
/// Whether any slot of this thread's table is armed.
#[thread_local]
static PENDING_ANY: AtomicBool = AtomicBool::new(false);

/// One program handler running on this thread (for longjmps out of handlers).
#[derive(Clone, Copy)]
struct Delivery {
    /// Shadow stack depth when the handler was called.
    depth: usize,
    /// The interrupted code's ignore depth, when the runtime cleared it.
    ignore: Option<u32>,
    is_async: bool,
}

const MAX_NESTED: usize = 32;

struct Deliveries {
    n: usize,
    /// Handlers of asynchronous signals running now (for `signal-unsafe call`).
    async_running: u32,
    stack: [Delivery; MAX_NESTED],
}

#[thread_local]
static mut DELIVERIES: Deliveries = Deliveries {
    n: 0,
    async_running: 0,
    stack: [Delivery {
        depth: 0,
        ignore: None,
        is_async: false,
    }; MAX_NESTED],
};

fn deliveries() -> &'static mut Deliveries {
    // SAFETY: thread-local; touched by this thread only, with no reference held
    // across a call that could deliver a signal (each use takes it fresh).
    unsafe { &mut *core::ptr::addr_of_mut!(DELIVERIES) }
}

/// Whether the fault is the program's own instruction's (kernel-generated,
/// `si_code > 0`), which must be handled before the instruction can go on.
/// `kill`/`tgkill`/`sigqueue` codes are <= 0 (SI_USER, SI_TKILL, SI_QUEUE).
fn is_sync(sig: c_int, info: *const c_void) -> bool {
    if info.is_null() {
        return false;
    }
    // SAFETY: the kernel passes a valid siginfo_t; si_code is at offset 8.
    let code = unsafe { *((info as *const u8).add(8) as *const i32) };
    matches!(sig, SIGSEGV | SIGBUS | SIGFPE | SIGILL | SIGTRAP | SIGSYS) && code > 0
}

/// The handler the kernel runs for every signal the program handles (installed
/// with every signal blocked, so it never nests except on a fault).
pub extern "C" fn on_signal(sig: c_int, info: *mut c_void, uctx: *mut c_void) {
    if sig <= 0 || sig as usize >= NSIG {
        return;
    }
    let saved_errno = errno();
    let sync = is_sync(sig, info);
    let mut action = user_action(sig);
    if action.handler > SIG_IGN
        && action.flags & SA_RESETHAND != 0
        && !reset_to_default(sig, action.handler)
    {
        action.handler = SIG_DFL;
    }
    if action.handler <= SIG_IGN {
        // The program changed the action while this signal was on its way. A
        // fault with SIG_DFL now gets the default action when it re-executes.
        if sync && action.handler == SIG_DFL {
            kernel_default(sig);
        }
        set_errno(saved_errno);
        return;
    }
    let t = cur();
    if sync || (!t.in_runtime() && t.attached()) {
        let (mask, pc) = if uctx.is_null() {
            (0, 0)
        } else {
            // SAFETY: the kernel's ucontext, with the interrupted mask at
            // UC_SIGMASK and the interrupted instruction's address at UC_RIP.
            unsafe {
                let u = uctx as *const u8;
                (
                    *(u.add(UC_SIGMASK) as *const u64),
                    *(u.add(UC_RIP) as *const u64),
                )
            }
        };
        deliver(sig, info, uctx, action, mask, pc, sync);
    } else {
        defer(sig, info, uctx, action);
    }
    set_errno(saved_errno);
}

/// This thread's pending table, mapped on first use; null once the thread has
/// finished or if the kernel refuses memory.
fn pending_table() -> *mut PendingTable {
    // Relaxed: thread-local, read and written by this thread (and its handlers,
    // which run with every signal blocked while they touch it).
    let p = TABLE.load(Ordering::Relaxed);
    if p == TABLE_GONE {
        return core::ptr::null_mut();
    }
    if p != 0 {
        return p as *mut PendingTable;
    }
    match umbra_sys::mmap_anon(core::mem::size_of::<PendingTable>(), true) {
        Some(m) => {
            // Relaxed: as above.
            TABLE.store(m as usize, Ordering::Relaxed);
            m as *mut PendingTable
        }
        None => core::ptr::null_mut(),
    }
}

/// Records a signal that arrived inside the runtime (one per signal number, as
/// the kernel keeps standard signals: a second arrival before delivery merges).
fn defer(sig: c_int, info: *const c_void, uctx: *const c_void, action: Handler) {
    let table = pending_table();
    if table.is_null() {
        return;
    }
    // SAFETY: the table is this thread's; `on_signal` runs with every signal
    // blocked, so nothing else touches the slot meanwhile.
    let slot = unsafe { &mut (*table).slots[sig as usize] };
    if slot.armed {
        return;
    }
    slot.action = action;
    // The copy's uc_mcontext.fpregs still points into the kernel's signal frame,
    // gone by the time the handler runs (TSan's copy has the same limit).
    // SAFETY: siginfo_t is INFO_WORDS words; the kernel's signal frame holds the
    // ucontext followed by the siginfo and the FPU state, at least UCTX_WORDS
    // words readable from `uctx`.
    unsafe {
        if !info.is_null() {
            core::ptr::copy_nonoverlapping(info as *const u64, slot.info.as_mut_ptr(), INFO_WORDS);
        }
        if !uctx.is_null() {
            core::ptr::copy_nonoverlapping(uctx as *const u64, slot.uctx.as_mut_ptr(), UCTX_WORDS);
        }
    }
    slot.armed = true;
    // SeqCst compiler fence: the slot is complete before the flag says so, as seen
    // by this thread (the only reader).
    compiler_fence(Ordering::SeqCst);
    // Relaxed: a thread-local flag; see `leave_runtime`.
    PENDING_ANY.store(true, Ordering::Relaxed);
}

/// Called when the thread leaves the runtime (its `in_rt` just fell to 0): runs
/// the handlers of signals deferred meanwhile.
#[inline(always)]
pub fn leave_runtime() {
    // Relaxed: set only by this thread's own signal handler; `in_runtime` puts a
    // compiler fence between its `in_rt` decrement and this load, so a signal
    // arriving after the load sees `in_rt == 0` and runs its handler itself.
    if PENDING_ANY.load(Ordering::Relaxed) {
        deliver_pending();
    }
}

/// Runs the handlers of every pending signal of this thread (the thread is
/// outside the runtime). Signals are blocked while the table is scanned; each
/// handler runs with the mask its sigaction asked for on top of the current one.
#[cold]
#[inline(never)]
pub fn deliver_pending() {
    let t = cur();
    if t.in_runtime() || !t.attached() {
        return;
    }
    // Relaxed: thread-local (see pending_table).
    let table = TABLE.load(Ordering::Relaxed);
    if table == 0 || table == TABLE_GONE {
        return;
    }
    let table = table as *mut PendingTable;
    let base = set_mask(ALL);
    loop {
        // SAFETY: this thread's table; signals are blocked, so no handler of
        // ours writes it during the scan.
        let armed = |s: usize| unsafe { core::ptr::read_volatile(&(*table).slots[s].armed) };
        let next = (1..NSIG).find(|&s| armed(s) && base & bit(s as c_int) == 0);
        let Some(sig) = next else { break };
        // Copied out before disarming: a nested arrival may reuse the slot
        // while this handler runs.
        let mut info = [0u64; INFO_WORDS];
        let mut uctx = [0u64; UCTX_WORDS];
        // SAFETY: as above.
        let action = unsafe {
            let slot = &mut (*table).slots[sig];
            info.copy_from_slice(&slot.info);
            uctx.copy_from_slice(&slot.uctx);
            slot.armed = false;
            slot.action
        };
        deliver(
            sig as c_int,
            info.as_mut_ptr() as *mut c_void,
            uctx.as_mut_ptr() as *mut c_void,
            action,
            base,
            0,
            false,
        );
    }
    // Whatever stays armed is blocked in the mask the thread runs with; the
    // sigprocmask interceptors deliver it when it is unblocked.
    // Relaxed: thread-local flag; signals are still blocked.
    PENDING_ANY.store(false, Ordering::Relaxed);
    set_mask(base);
}

/// Whether this thread has a pending signal (armed slot) of any number.
pub fn has_pending() -> bool {
    // Relaxed: thread-local (see pending_table).
    let table = TABLE.load(Ordering::Relaxed);
    if table == 0 || table == TABLE_GONE {
        return false;
    }
    // SAFETY: this thread's table; a handler arming a slot meanwhile is found on
    // the next scan.
    (1..NSIG).any(|s| unsafe {
        core::ptr::read_volatile(&(*(table as *const PendingTable)).slots[s].armed)
    })
}

/// After the program changed its mask: delivers pending signals it unblocked.
pub fn after_mask_change() {
    if !cur().in_runtime() && has_pending() {
        deliver_pending();
    }
}

/// Calls the program's handler for `sig` with the mask `base` plus the action's,
/// the happens-before edge from its senders, accesses not ignored, errno kept,
/// and the shadow stack as the interrupted code left it. `interrupted_pc` (0 if
/// unknown) is where the signal stopped the thread: the handler's caller frame.
fn deliver(
    sig: c_int,
    info: *mut c_void,
    uctx: *mut c_void,
    action: Handler,
    base: u64,
    interrupted_pc: u64,
    sync: bool,
) {
    let t = cur();
    // The runtime's state is consistent outside the runtime (in_rt == 0) on a
    // thread that is attached and not finished (a finished thread has no shadow
    // stack): only then may the delivery acquire, report, and lift ignores.
    let safe = !t.in_runtime() && t.attached() && t.stack_cap.get() != 0;
    // A handler that interrupted `__tsan_func_entry` between its store and its
    // increment would overwrite the frame being pushed: keep it.
    let depth = t.depth.get();
    let top = if depth < t.stack_cap.get() {
        // SAFETY: depth < stack_cap is inside the shadow stack mapping.
        unsafe { *t.stack.get().add(depth) }
    } else {
        0
    };
    if t.interned.get() > depth {
        t.interned.set(depth);
    }
    // The delivery's own runtime scopes leave pending signals alone: this code
    // delivers them (with every signal blocked).
    let ignore = if safe {
        Rt::enter(OnLeave::KeepPending, Unknown::Skip).map(|mut thr| {
            crate::sync::acquire(&mut thr, sync_addr(sig));
            let ignore = thr.ignore_depth;
            thr.ignore_depth = 0;
            thr.refresh_fast_state();
            ignore
        })
    } else {
        None
    };
    if safe && interrupted_pc != 0 {
        // The interrupted instruction as a return address (symbolized at pc - 1),
        // so the handler's stacks show where the signal stopped the thread.
        t.push_frame(interrupted_pc + 1);
    }
    let d = deliveries();
    if d.n < MAX_NESTED {
        d.stack[d.n] = Delivery {
            depth,
            ignore,
            is_async: !sync,
        };
        d.n += 1;
        d.async_running += !sync as u32;
    }
    let nodefer = action.flags & SA_NODEFER != 0;
    let old = set_mask(base | action.mask | if nodefer { 0 } else { bit(sig) });
    let errno_before = errno();
    // SAFETY: the program installed this function as the handler of `sig`, with
    // SA_SIGINFO telling which of the two signatures it has.
    unsafe {
        if action.flags & SA_SIGINFO != 0 {
            let f: extern "C" fn(c_int, *mut c_void, *mut c_void) =
                core::mem::transmute(action.handler);
            f(sig, info, uctx);
        } else {
            let f: extern "C" fn(c_int) = core::mem::transmute(action.handler);
            f(sig);
        }
    }
    let errno_after = errno();
    set_mask(old);
    let d = deliveries();
    if d.n > 0 && d.stack[d.n - 1].depth == depth {
        d.n -= 1;
        d.async_running -= d.stack[d.n].is_async as u32;
    }
    if let Some(ignore) = ignore {
        if let Some(mut thr) = Rt::enter(OnLeave::KeepPending, Unknown::Skip) {
            // Not for SIGTERM, as in TSan: handlers that re-raise it often spoil
            // errno on purpose. Only a change the handler made counts, never the
            // EINTR the kernel gives the interrupted call afterwards.
            if !sync && sig != SIGTERM && errno_after != errno_before {
                report_errno_spoiled(sig, action.handler);
            }
            thr.ignore_depth = ignore;
            thr.refresh_fast_state();
        }
    }
    set_errno(errno_before);
    t.truncate_frames(depth);
    if depth < t.stack_cap.get() {
        // SAFETY: as above.
        unsafe { *t.stack.get().add(depth) = top };
    }
}

/// A `longjmp` back to shadow stack depth `depth`: handlers entered at or above
/// it are left for good.
pub fn longjmp_to(depth: usize) {
    let d = deliveries();
    while d.n > 0 && d.stack[d.n - 1].depth >= depth {
        d.n -= 1;
        let left = d.stack[d.n];
        d.async_running -= left.is_async as u32;
        if let Some(ignore) = left.ignore {
            if let Some(mut thr) = Rt::enter(OnLeave::KeepPending, Unknown::Skip) {
                thr.ignore_depth = ignore;
                thr.refresh_fast_state();
            }
        }
    }
}

/// The thread is finishing: its pending table goes back to the kernel.
pub fn thread_finished() {
    // Relaxed: thread-local. The swap is one instruction, so this thread's signal
    // handler sees either the table (before) or TABLE_GONE (after), never a
    // table being unmapped.
    let p = TABLE.swap(TABLE_GONE, Ordering::Relaxed);
    // Relaxed: thread-local flag.
    PENDING_ANY.store(false, Ordering::Relaxed);
    if p != 0 && p != TABLE_GONE {
        // SAFETY: the mapping made by pending_table, no longer reachable.
        unsafe { umbra_sys::munmap(p as *mut u8, core::mem::size_of::<PendingTable>()) };
    }
}

/// Called by the allocation interceptors: inside the handler of an asynchronous
/// signal, the program called a function that is not async-signal-safe.
#[inline]
pub fn unsafe_call(pc: u64) {
    if deliveries().async_running > 0 && !cur().in_runtime() && cur().attached() {
        report_signal_unsafe(pc);
    }
}

#[cold]
#[inline(never)]
fn report_signal_unsafe(pc: u64) {
    crate::thread::in_runtime(|| {
        if !crate::rt::OPTIONS.lock().report_signal_unsafe {
            return;
        }
        let stack = crate::thread::current_stack(pc);
        crate::report::report_stack(umbra_report::ReportKind::SignalUnsafe, None, stack);
    });
}

#[cold]
#[inline(never)]
fn report_errno_spoiled(sig: c_int, handler: usize) {
    // The handler's own address heads the stack (plus one: frames are return
    // addresses, symbolized at pc - 1), then the interrupted code's stack.
    let stack = crate::thread::current_stack(handler as u64 + 1);
    crate::report::report_stack(
        umbra_report::ReportKind::ErrnoInSignal,
        Some(sig as u32),
        stack,
    );
}
