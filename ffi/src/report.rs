//! Turning what the runtime detected into reports, as compiler-rt's
//! `tsan_rtl_report.cpp` does: a [`ReportBuilder`] (its `ScopedReport`) collects a
//! report of any kind (accesses, stacks, location, mutexes, threads) as raw pcs and
//! ids, and [`ReportBuilder::output`] is the one path every kind leaves through:
//! the suppression type of the kind, `suppress_equal_stacks`, the text in
//! ThreadSanitizer's format (`log_path`), `json_path`, the `REPORTS` count and
//! `halt_on_error` (`report_bugs` and a kind's own flag are checked before anything
//! is collected, and every report counts as in flight for the exit paths from its
//! start). Reports are serialized by one lock.
//!
//! The kinds: races and heap-use-after-free ([`report_race`]: the previous access
//! is found in its thread's history; the same pair of racing source lines is
//! reported once per run), thread leaks ([`report_thread_leaks`], at exit), mutex
//! misuse ([`report_mutex_misuse`]) and the signal reports ([`report_stack`]).

use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use umbra_report::options::OutputTarget;
use umbra_report::suppress::SuppressionKind;
use umbra_report::{
    format_json, format_text, hide_runtime_frames, Access, AccessKind, FormatOptions, Frame,
    Location, MutexDesc, Report, ReportKind, Symbolizer, ThreadDesc,
};
use umbra_shadow::cell::ShadowCell;
use umbra_sys::{SpinGuard, SpinMutex};

use crate::depot::DEPOT;
use crate::rt::{OPTIONS, REPORTS, SUPPRESSIONS};
use crate::thread::{
    current_stack, in_runtime, with_known_thread, ThreadArea, ThreadCtx, REGISTRY,
};

struct ReportState {
    symbolizer: Symbolizer,
    /// Racing pc pairs already handled (cheap first filter for racy loops).
    seen_pcs: BTreeSet<(u64, u64)>,
    /// Racing source-location pairs already reported (`suppress_equal_stacks`).
    seen_lines: BTreeSet<(String, String)>,
    /// (word, previous access) pairs already reported: once a recorded access has
    /// been reported racing, the next access of the same racy sequence (the write
    /// of a `x += 1` after its read) is not reported again, as in TSan, which stops
    /// watching a word after reporting on it.
    seen_prev: BTreeSet<(usize, u64)>,
    /// Stack reports already made: (kind, stacks) (`suppress_equal_stacks`).
    seen_stacks: BTreeSet<(ReportKind, Vec<u64>)>,
}

static STATE: SpinMutex<ReportState> = SpinMutex::new(ReportState {
    symbolizer: Symbolizer::new(),
    seen_pcs: BTreeSet::new(),
    seen_lines: BTreeSet::new(),
    seen_prev: BTreeSet::new(),
    seen_stacks: BTreeSet::new(),
});

/// The data symbol (global variable) holding `addr`, if the symbol tables know it.
pub fn global_symbol(addr: usize) -> Option<umbra_report::GlobalSymbol> {
    STATE.lock().symbolizer.global_symbol(addr as u64)
}

/// The frames of `stack` a report shows (the runtime's own, libc's thread start
/// and `main`'s callers dropped), as return addresses, innermost first.
pub fn visible_stack(stack: &[u64]) -> Vec<u64> {
    let mut st = STATE.lock();
    let opts = FormatOptions {
        hide_frame: hide_runtime_frames,
        ..FormatOptions::new()
    };
    stack
        .iter()
        .copied()
        .take_while(|&pc| pc != 0)
        .filter(|&pc| {
            !umbra_report::text::resolve_stack(&[pc], &mut st.symbolizer, &opts).is_empty()
        })
        .collect()
}

/// `file:line` (or `module+offset`) of the innermost frame of return address `pc`.
fn source_line(sym: &mut Symbolizer, pc: u64) -> String {
    if pc == 0 {
        return String::new();
    }
    let frames = sym.symbolize(pc - 1);
    match frames.first() {
        Some(f) if f.file.is_some() => {
            alloc::format!("{}:{}", f.file.as_deref().unwrap_or(""), f.line)
        }
        Some(f) => alloc::format!("{}+{:#x}", f.module, f.module_offset),
        None => alloc::format!("{:#x}", pc),
    }
}

/// Where report text goes (`log_path`): fd 2, fd 1, or a file opened on first use.
fn log_fd() -> usize {
    static FD: AtomicUsize = AtomicUsize::new(usize::MAX);
    let fd = FD.load(Ordering::Relaxed);
    if fd != usize::MAX {
        return fd;
    }
    let target = crate::rt::OPTIONS.lock().log_target(umbra_sys::getpid());
    let fd = open_target(&target, false);
    FD.store(fd, Ordering::Relaxed);
    fd
}

fn open_target(target: &OutputTarget, append: bool) -> usize {
    match target {
        OutputTarget::Stderr => 2,
        OutputTarget::Stdout => 1,
        OutputTarget::File(path) => {
            umbra_sys::open_write(path.as_bytes(), append).unwrap_or_else(|| {
                umbra_sys::eprint_fmt(format_args!(
                    "umbra: cannot open '{}' for writing; reporting to stderr\n",
                    path
                ));
                2
            })
        }
    }
}

/// Writes report text to the log (`log_path`, stderr by default).
pub fn write_text(text: &str) {
    umbra_sys::write_all(log_fd(), text.as_bytes());
}

pub fn write_out(args: core::fmt::Arguments) {
    let mut s = String::new();
    let _ = core::fmt::write(&mut s, args);
    write_text(&s);
}

/// Appends one JSON object per line to `json_path`, if set.
fn write_json(r: &Report, sym: &mut Symbolizer, opts: &FormatOptions) {
    static FD: AtomicUsize = AtomicUsize::new(usize::MAX);
    let mut fd = FD.load(Ordering::Relaxed);
    if fd == usize::MAX {
        let target = crate::rt::OPTIONS.lock().json_target(umbra_sys::getpid());
        fd = match target {
            Some(t) => open_target(&t, true),
            None => 0, // no JSON output
        };
        FD.store(fd, Ordering::Relaxed);
    }
    if fd == 0 {
        return;
    }
    let mut line = format_json(r, sym, opts);
    line.push('\n');
    umbra_sys::write_all(fd, line.as_bytes());
}

/// The previous access `prev` to `word`: its thread and, if its history still has
/// it, its stack and the mutexes it held.
fn find_previous(word: usize, prev: ShadowCell) -> (u32, Option<(Vec<u64>, u32)>) {
    let reg = REGISTRY.lock();
    let Some(tid) = reg.slots.thread_at(prev.sid(), prev.epoch()) else {
        return (0, None);
    };
    let trace = reg.threads[tid as usize].trace;
    if trace.is_null() {
        return (tid, None);
    }
    let p = prev.effective();
    let m = p.mask() as u64;
    let lo = word as u64 + m.trailing_zeros() as u64;
    let hi = word as u64 + 8 - (m.leading_zeros() as u64 - 56);
    // SAFETY: traces are released only under the registry lock, which we hold.
    let ev = unsafe { &*trace }.find(prev.epoch(), lo, hi, |e| {
        prev.is_freed() || (e.is_read() == p.is_read() && e.is_atomic() == p.is_atomic())
    });
    drop(reg);
    (
        tid,
        ev.map(|e| {
            let mut v = Vec::with_capacity(16);
            v.push(e.pc);
            v.extend(DEPOT.unwind(e.stack));
            (v, e.mutexes)
        }),
    )
}

fn describe_thread(tid: u32) -> Option<ThreadDesc> {
    if tid == 0 {
        return None;
    }
    let reg = REGISTRY.lock();
    let t = reg.threads.get(tid as usize)?;
    let mut stack = Vec::new();
    if t.creation_pc != 0 {
        stack.push(t.creation_pc);
    }
    let (running, os_tid, parent, cs) = (t.running, t.os_tid, t.parent, t.creation_stack);
    let name = t.name.clone();
    drop(reg);
    stack.extend(DEPOT.unwind(cs));
    Some(ThreadDesc {
        id: tid,
        os_tid: os_tid as u64,
        running,
        name,
        parent,
        stack,
    })
}

/// The suppression type of a report kind (TSan's `conv` in `tsan_suppressions.cpp`).
fn suppression_kind(kind: ReportKind) -> SuppressionKind {
    match kind {
        ReportKind::DataRace | ReportKind::HeapUseAfterFree => SuppressionKind::Race,
        ReportKind::ThreadLeak => SuppressionKind::Thread,
        ReportKind::MutexDestroyLocked
        | ReportKind::MutexDoubleLock
        | ReportKind::MutexBadUnlock
        | ReportKind::MutexBadReadLock
        | ReportKind::MutexBadReadUnlock
        | ReportKind::MutexInvalidAccess => SuppressionKind::Mutex,
        ReportKind::Deadlock => SuppressionKind::Deadlock,
        ReportKind::SignalUnsafe | ReportKind::ErrnoInSignal => SuppressionKind::Signal,
    }
}

/// Whether a suppression of the report's type matches it: any frame of the
/// accesses' stacks, then of the other stacks, then of the threads' creation
/// stacks (TSan's order); for a race also the global it is about. (A race is
/// matched against its accesses and global only, as umbra always has: TSan also
/// looks at the creation stacks of the threads a race names.)
fn suppressed(r: &Report, sym: &mut Symbolizer) -> bool {
    let sup = SUPPRESSIONS.lock();
    if sup.is_empty() {
        return false;
    }
    let symbolize = |sym: &mut Symbolizer, stack: &[u64]| -> Vec<Frame> {
        let mut frames = Vec::new();
        for &pc in stack {
            frames.extend(
                sym.symbolize(pc.saturating_sub(1))
                    .into_iter()
                    .filter(|f| !hide_runtime_frames(f)),
            );
        }
        frames
    };
    let mut stacks: Vec<Vec<Frame>> = Vec::new();
    for a in &r.accesses {
        stacks.push(symbolize(sym, a.stack.as_deref().unwrap_or(&[])));
    }
    for s in &r.stacks {
        stacks.push(symbolize(sym, s));
    }
    if !r.kind.is_race() {
        for t in &r.threads {
            stacks.push(symbolize(sym, &t.stack));
        }
    }
    let global = match r.location {
        Location::Global { addr } if r.kind.is_race() => sym.global_symbol(addr),
        _ => None,
    };
    let mut location: Vec<&str> = Vec::new();
    if let Some(g) = &global {
        location.push(&g.name);
        location.push(&g.module);
    }
    let stacks: Vec<&[Frame]> = stacks.iter().map(|s| s.as_slice()).collect();
    sup.match_report(suppression_kind(r.kind), &stacks, &location)
        .is_some()
}

/// Reports begun and not yet finished (written out, counted, or dropped as
/// duplicate or suppressed). The exit paths wait for it to drop to zero, so a
/// thread that exits while another is still symbolizing its report does not end
/// the process under it.
static IN_FLIGHT: AtomicU32 = AtomicU32::new(0);
/// Reports finished so far: what the exit paths watch to tell a slow report (one
/// that still finishes now and then) from a stuck one.
static FINISHED: AtomicU32 = AtomicU32::new(0);

/// Whether this thread is inside a report: an exit from a signal handler
/// that interrupted its own report must not wait for that report.
#[thread_local]
static mut REPORTING: bool = false;

/// Marks one report in flight for as long as it lives.
struct InFlight;

impl InFlight {
    fn enter() -> InFlight {
        // Relaxed: only the decrement publishes anything (see `drop`).
        IN_FLIGHT.fetch_add(1, Ordering::Relaxed);
        // SAFETY: a thread-local only this thread touches (a signal handler on it
        // only reads it).
        unsafe { REPORTING = true };
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        // SAFETY: as in `enter`.
        unsafe { REPORTING = false };
        // Release: a waiter that sees the count go down (Acquire in
        // `wait_for_reports`) also sees the report's writes and its `REPORTS`
        // increment.
        FINISHED.fetch_add(1, Ordering::Release);
        IN_FLIGHT.fetch_sub(1, Ordering::Release);
    }
}

/// How long the exit paths wait for reports in flight while none of them finishes.
/// A report normally takes milliseconds (the first one symbolizes, loading DWARF:
/// up to a second or two for a large binary); only a reporter that is itself stuck
/// (a deadlock, a stopped thread) takes this long, and it must not hang the exit.
const STUCK_NS: u64 = 20_000_000_000;

/// Waits until no other thread is in the middle of a report, so that everything
/// reported is written out (stderr, `log_path`, `json_path`) and counted in
/// [`REPORTS`] before the process ends. Bounded: when no report finishes for
/// [`STUCK_NS`], it says so and returns.
pub fn wait_for_reports() {
    // SAFETY: this thread's own flag (see `InFlight`).
    let own = unsafe { REPORTING } as u32;
    // Acquire: pairs with the Release decrement in `InFlight::drop`.
    if IN_FLIGHT.load(Ordering::Acquire) <= own {
        return;
    }
    let mut finished = FINISHED.load(Ordering::Relaxed);
    let mut deadline = umbra_sys::monotonic_ns() + STUCK_NS;
    // Acquire: as above.
    while IN_FLIGHT.load(Ordering::Acquire) > own {
        // Relaxed: only a progress signal; what it counts is published by IN_FLIGHT.
        let now_finished = FINISHED.load(Ordering::Relaxed);
        let now = umbra_sys::monotonic_ns();
        if now_finished != finished {
            finished = now_finished;
            deadline = now + STUCK_NS;
        } else if now > deadline {
            umbra_sys::eprint_fmt(format_args!(
                "umbra: exiting while {} report(s) made no progress for {} s; they are lost\n",
                IN_FLIGHT.load(Ordering::Relaxed) - own,
                STUCK_NS / 1_000_000_000
            ));
            return;
        }
        umbra_sys::sleep_ns(200_000);
    }
}

/// How a report is deduplicated on its way out.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dedup {
    /// Nothing more to check: races are deduplicated while they are collected (pc
    /// and source-line pairs), thread leaks are collected once, and a misused mutex
    /// is marked broken after its first report.
    Done,
    /// Once per kind and stacks while `suppress_equal_stacks` is on (signal reports).
    EqualStacks,
}

/// A report being collected (compiler-rt's `ScopedReport`): raw pcs and ids. Mutexes
/// get report-local ids `M0, M1, ...` in the order the report names them.
pub struct ReportBuilder {
    report: Report,
    /// Address of each mutex named so far, by id.
    named: Vec<usize>,
}

impl ReportBuilder {
    pub fn new(kind: ReportKind) -> ReportBuilder {
        ReportBuilder {
            report: Report::new(kind, umbra_sys::getpid()),
            named: Vec::new(),
        }
    }

    /// Adds a stack (printed before the accesses; several are joined by `  and:`).
    pub fn add_stack(&mut self, stack: Vec<u64>) {
        self.report.stacks.push(stack);
    }

    /// Adds an access of a race, the current one first.
    pub fn add_access(&mut self, access: Access) {
        self.report.accesses.push(access);
    }

    /// The report id of the mutex at `addr`, described (with where it was created)
    /// the first time it is named.
    pub fn add_mutex(&mut self, addr: usize) -> u32 {
        if let Some(i) = self.named.iter().position(|&a| a == addr) {
            return i as u32;
        }
        self.named.push(addr);
        let id = self.named.len() as u32 - 1;
        let (pc, created) = match crate::sync::find(addr) {
            Some(sv) => {
                let g = sv.lock();
                (g.created_pc, g.created_stack)
            }
            None => (0, 0),
        };
        let mut stack = Vec::new();
        if pc != 0 {
            stack.push(pc);
        }
        // A Java monitor is noted with no pc of its own (see `java::JAVA_PC`).
        if pc != 0 || created != 0 {
            stack.extend(DEPOT.unwind(created));
        }
        self.report.mutexes.push(MutexDesc {
            id,
            addr: addr as u64,
            stack,
        });
        id
    }

    /// Names the mutexes of a held set: (report id, held for writing) each.
    pub fn add_mutex_set(&mut self, held: &[crate::mutexset::Held]) -> Vec<(u32, bool)> {
        held.iter()
            .map(|h| {
                let write = h.mode == crate::mutexset::LockMode::Write;
                (self.add_mutex(h.addr), write)
            })
            .collect()
    }

    /// Describes thread `tid` once (the main thread never).
    pub fn add_thread(&mut self, tid: u32) {
        if !self.report.threads.iter().any(|d| d.id == tid) {
            self.report.threads.extend(describe_thread(tid));
        }
    }

    pub fn set_location(&mut self, location: Location) {
        self.report.location = location;
    }

    pub fn set_sleep(&mut self, stack: Option<Vec<u64>>) {
        self.report.sleep_stack = stack;
    }

    pub fn set_signal(&mut self, sig: u32) {
        self.report.signal = Some(sig);
    }

    /// A lock-order inversion's cycle: the thread of each edge (its mutexes and
    /// stacks are added in the same order).
    pub fn set_cycle_threads(&mut self, threads: Vec<u32>) {
        self.report.cycle_threads = threads;
    }

    /// Leaked threads sharing the described thread's creation stack.
    pub fn set_count(&mut self, count: u32) {
        self.report.count = count;
    }

    /// The one way out of every report (compiler-rt's `OutputReport`), under the
    /// report lock `st`: deduplication, the suppression type of the kind, the text
    /// (`log_path`) and `json_path` forms, the `REPORTS` count, `halt_on_error`.
    /// `report_bugs` and the kind's own flag are checked by the caller, before any
    /// collecting.
    fn output(self, mut st: SpinGuard<'_, ReportState>, dedup: Dedup) {
        let (halt_on_error, exitcode, equal_stacks, strip, fold_std_frames) = {
            let o = OPTIONS.lock();
            (
                o.halt_on_error,
                o.exitcode,
                o.suppress_equal_stacks,
                o.strip_path_prefix.clone(),
                o.fold_std_frames,
            )
        };
        let r = self.report;
        if dedup == Dedup::EqualStacks && equal_stacks {
            // The stacks, each ended by a 0 (never a return address).
            let key = r
                .stacks
                .iter()
                .flat_map(|s| s.iter().copied().chain([0]))
                .collect();
            if !st.seen_stacks.insert((r.kind, key)) {
                return;
            }
        }
        if suppressed(&r, &mut st.symbolizer) {
            return;
        }
        let opts = FormatOptions {
            strip_path_prefix: strip,
            hide_frame: hide_runtime_frames,
            fold_std_frames,
        };
        let text = format_text(&r, &mut st.symbolizer, &opts);
        write_text(&text);
        write_json(&r, &mut st.symbolizer, &opts);
        crate::profile::note_report(&r);
        // Relaxed: read at exit only after `wait_for_reports`, whose Acquire pairs
        // with this report's Release in `InFlight::drop`.
        REPORTS.fetch_add(1, Ordering::Relaxed);
        drop(st);
        crate::report_api::on_report(&r);
        if halt_on_error {
            // Relaxed: this thread's own increment, just made.
            write_out(format_args!(
                "ThreadSanitizer: reported {} warnings\n",
                REPORTS.load(Ordering::Relaxed)
            ));
            crate::profile::write();
            umbra_sys::exit_group(exitcode);
        }
    }
}

/// `report_bugs`: whether anything is reported at all.
fn reporting_on() -> bool {
    OPTIONS.lock().report_bugs
}

/// What the memory at `addr` is: a file descriptor's word (see `crate::fdtable`), a
/// live Java object, a live heap block (or, for `freed`, or when no live block holds
/// it, a freed one), a thread's stack or TLS, else a global.
pub fn describe_location(addr: usize, freed: bool) -> Location {
    if let Some((fd, thread, stack, destroyed)) = crate::fdtable::location_of(addr) {
        return Location::Fd {
            fd,
            thread,
            stack,
            destroyed,
        };
    }
    let java = if freed {
        None
    } else {
        crate::java::block_of(addr)
    };
    let block = if java.is_some() {
        java
    } else if freed {
        crate::intercept::app_heap::freed_block_of(addr)
    } else {
        crate::intercept::app_heap::block_of(addr)
            .or_else(|| crate::intercept::app_heap::freed_block_of(addr))
    };
    match block {
        Some((b, blk)) => {
            let mut s = Vec::new();
            if blk.pc != 0 {
                s.push(blk.pc);
            }
            s.extend(DEPOT.unwind(blk.stack));
            Location::Heap {
                block: b as u64,
                size: blk.size as u64,
                thread: blk.tid,
                stack: s,
            }
        }
        None => match crate::thread::stack_or_tls_of(addr) {
            Some((t, ThreadArea::Tls)) => Location::Tls { thread: t },
            Some((t, ThreadArea::Stack)) => Location::Stack { thread: t },
            None => Location::Global { addr: addr as u64 },
        },
    }
}

/// Reports a race of the current access with `prev`.
#[cold]
#[inline(never)]
pub fn report_race(
    thr: &mut ThreadCtx,
    addr: usize,
    size: usize,
    kind: AccessKind,
    pc: u64,
    word: usize,
    prev: ShadowCell,
) {
    let _in_flight = InFlight::enter();
    let (report_bugs, equal_stacks) = {
        let o = OPTIONS.lock();
        (o.report_bugs, o.suppress_equal_stacks)
    };
    if !report_bugs {
        return;
    }
    in_runtime(|| {
        let cur_tid = thr.tid;
        let cur_stack = current_stack(pc);
        let (prev_tid, prev_found) = find_previous(word, prev);
        let (prev_stack, prev_mutexes) = match prev_found {
            Some((s, m)) => (Some(s), crate::mutexset::get(m)),
            None => (None, Vec::new()),
        };
        let prev_pc = prev_stack
            .as_ref()
            .and_then(|s| s.first().copied())
            .unwrap_or(0);
        let mut st = STATE.lock();
        // One report per unordered pair of racing source lines (TSan's
        // suppress_equal_stacks); the pc pair check keeps racy loops cheap.
        if !st.seen_prev.insert((word, prev.0)) {
            return;
        }
        if !st.seen_pcs.insert((pc.min(prev_pc), pc.max(prev_pc))) && equal_stacks {
            return;
        }
        let (a, b) = (
            source_line(&mut st.symbolizer, pc),
            source_line(&mut st.symbolizer, prev_pc),
        );
        if !st.seen_lines.insert(if a <= b { (a, b) } else { (b, a) }) && equal_stacks {
            return;
        }
        let p = prev.effective();
        let (psize, poff) = p.size_and_offset();
        let mut b = ReportBuilder::new(if prev.is_freed() {
            ReportKind::HeapUseAfterFree
        } else {
            ReportKind::DataRace
        });
        b.set_location(describe_location(addr, prev.is_freed()));
        b.set_sleep(crate::intercept::sleep::synchronized_by_sleep(thr, prev));
        // Mutexes are numbered M0, M1, ... in the order the report names them.
        let cur_m = b.add_mutex_set(&thr.held);
        let prev_m = b.add_mutex_set(&prev_mutexes);
        b.add_access(Access {
            kind,
            size: size as u64,
            addr: addr as u64,
            thread: cur_tid,
            mutexes: cur_m,
            stack: Some(cur_stack),
        });
        b.add_access(Access {
            kind: AccessKind::new(!p.is_read(), p.is_atomic()),
            size: psize as u64,
            addr: (word + poff as usize) as u64,
            thread: prev_tid,
            mutexes: prev_m,
            stack: prev_stack,
        });
        b.add_thread(cur_tid);
        b.add_thread(prev_tid);
        b.output(st, Dedup::Done);
    });
}

/// Reports a one-stack warning of `kind` (the signal reports), with `signal` for
/// `signal handler spoils errno`. Honours `signal:` suppressions and
/// `suppress_equal_stacks` (same kind and stack: once); the caller checks
/// `report_signal_unsafe`.
pub fn report_stack(kind: ReportKind, signal: Option<u32>, stack: Vec<u64>) {
    let _in_flight = InFlight::enter();
    if !reporting_on() {
        return;
    }
    in_runtime(|| {
        let mut b = ReportBuilder::new(kind);
        if let Some(sig) = signal {
            b.set_signal(sig);
        }
        b.add_stack(stack);
        b.output(STATE.lock(), Dedup::EqualStacks);
    });
}

/// At exit (once): reports every thread that finished and was neither joined nor
/// detached (`report_thread_leaks`), one report per creation stack, as TSan's
/// `ThreadFinalize`: threads still running are not leaks, nor is anything in the
/// child of a multi-threaded fork (its other threads cannot be joined there).
pub fn report_thread_leaks() {
    static DONE: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
    // Relaxed: the exit paths of one process do not race in practice (see
    // `rt::summarize`); at worst the leaks are reported twice.
    if DONE.swap(true, Ordering::Relaxed) {
        return;
    }
    let _in_flight = InFlight::enter();
    if !reporting_on()
        || !OPTIONS.lock().report_thread_leaks
        || crate::thread::after_multithreaded_fork()
    {
        return;
    }
    in_runtime(|| {
        // The thread running the exit is no leak, even when it has finished: after
        // `pthread_exit` from main, glibc calls `exit` from the last thread, after
        // its TLS destructors.
        let me = with_known_thread(|thr| thr.tid).unwrap_or(u32::MAX);
        // (creation pc, creation stack, first thread, threads).
        let mut leaks: Vec<(u64, u32, u32, u32)> = Vec::new();
        {
            let reg = REGISTRY.lock();
            for (tid, t) in reg.threads.iter().enumerate().skip(1) {
                if t.running || t.pthread == 0 || tid as u32 == me {
                    continue;
                }
                match leaks
                    .iter_mut()
                    .find(|l| l.0 == t.creation_pc && l.1 == t.creation_stack)
                {
                    Some(l) => l.3 += 1,
                    None => leaks.push((t.creation_pc, t.creation_stack, tid as u32, 1)),
                }
            }
        }
        for (_, _, tid, count) in leaks {
            let mut b = ReportBuilder::new(ReportKind::ThreadLeak);
            b.add_thread(tid);
            b.set_count(count);
            b.output(STATE.lock(), Dedup::Done);
        }
    });
}

/// Reports a misuse of the mutex at `addr` (`report_mutex_bugs`, or for a destroy
/// `report_destroy_locked`, checked by the caller) by the current thread at `pc`:
/// its stack, for a destroy also `last_lock` (where the mutex was last locked),
/// then where the mutex is and where it was created, as TSan's
/// `ReportMutexMisuse` and `ReportDestroyLocked` do.
#[cold]
#[inline(never)]
pub fn report_mutex_misuse(kind: ReportKind, addr: usize, pc: u64, last_lock: Option<Vec<u64>>) {
    let _in_flight = InFlight::enter();
    if !reporting_on() {
        return;
    }
    let _in_flight = InFlight::enter();
    in_runtime(|| {
        let mut b = ReportBuilder::new(kind);
        b.add_stack(current_stack(pc));
        if let Some(s) = last_lock.filter(|s| !s.is_empty()) {
            b.add_stack(s);
        }
        b.set_location(describe_location(addr, false));
        b.add_mutex(addr);
        b.output(STATE.lock(), Dedup::Done);
    });
}

/// Reports a lock-order inversion, the cycle `edges` (TSan's `ReportDeadlock`):
/// the cycle's mutexes in order (`M0` is the one the current thread is about to
/// wait for), per edge its thread and stacks (a stack that cannot be restored
/// prints as such), and the threads. Honours `deadlock:` suppressions.
#[cold]
#[inline(never)]
pub fn report_deadlock(edges: &[crate::deadlock::CycleEdge]) {
    let _in_flight = InFlight::enter();
    if !reporting_on() {
        return;
    }
    in_runtime(|| {
        let mut b = ReportBuilder::new(ReportKind::Deadlock);
        for e in edges {
            b.add_mutex(e.addr);
            b.add_thread(e.tid);
        }
        for e in edges {
            b.add_stack(e.acquired.clone());
            if let Some(s) = &e.held_since {
                b.add_stack(s.clone());
            }
        }
        b.set_cycle_threads(edges.iter().map(|e| e.tid).collect());
        b.output(STATE.lock(), Dedup::Done);
    });
}

/// Prints TSan's message for a thread that ends with ignore regions open (`None`:
/// the main thread; else its id and creation stack), with the stacks where they
/// began. Not a report: the caller ends the process.
pub fn report_ignores_enabled(thread: Option<(u32, Vec<u64>)>, begun_at: &[Vec<u64>]) {
    let mut st = STATE.lock();
    let opts = FormatOptions {
        strip_path_prefix: OPTIONS.lock().strip_path_prefix.clone(),
        hide_frame: hide_runtime_frames,
        fold_std_frames: false,
    };
    let text = umbra_report::format_ignores_enabled(
        thread.as_ref().map(|(tid, s)| (*tid, s.as_slice())),
        begun_at,
        &mut st.symbolizer,
        &opts,
    );
    drop(st);
    write_text(&text);
}

/// Runs `f` with the report symbolizer (its parsed modules are kept across
/// reports), under the report lock.
pub fn with_symbolizer<R>(f: impl FnOnce(&mut Symbolizer) -> R) -> R {
    f(&mut STATE.lock().symbolizer)
}

pub fn fork_lock() {
    STATE.lock_raw();
}

/// # Safety
/// After [`fork_lock`], in parent or child.
pub unsafe fn fork_unlock() {
    // SAFETY: taken by fork_lock.
    unsafe { STATE.force_unlock() };
}
