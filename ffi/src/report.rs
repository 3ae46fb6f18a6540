//! Turning a detected race into a report: the previous access is found in its
//! thread's history, stacks are unwound from the depot, the location described, and
//! the text printed in ThreadSanitizer's format. Reports are serialized by one lock;
//! the same pair of racing pcs is reported once per run.

use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use umbra_report::options::OutputTarget;
use umbra_report::{format_json, Frame};

use umbra_report::{
    format_text, hide_runtime_frames, Access, AccessKind, FormatOptions, Location, MutexDesc, RaceReport, ReportKind, Symbolizer,
    ThreadDesc,
};
use umbra_shadow::cell::ShadowCell;
use umbra_sys::SpinMutex;

use crate::rt::{OPTIONS, REPORTS, SUPPRESSIONS};
use crate::thread::{ctx, current_stack, in_runtime, REGISTRY};
use crate::trace::DEPOT;

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
    /// One-stack reports already made: (kind, stack) (`suppress_equal_stacks`).
    seen_stacks: BTreeSet<(&'static str, Vec<u64>)>,
}

static STATE: SpinMutex<ReportState> =
    SpinMutex::new(ReportState {
        symbolizer: Symbolizer::new(),
        seen_pcs: BTreeSet::new(),
        seen_lines: BTreeSet::new(),
        seen_prev: BTreeSet::new(),
        seen_stacks: BTreeSet::new(),
    });

/// `file:line` (or `module+offset`) of the innermost frame of return address `pc`.
fn source_line(sym: &mut Symbolizer, pc: u64) -> String {
    if pc == 0 {
        return String::new();
    }
    let frames = sym.symbolize(pc - 1);
    match frames.first() {
        Some(f) if f.file.is_some() => alloc::format!("{}:{}", f.file.as_deref().unwrap_or(""), f.line),
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
        OutputTarget::File(path) => umbra_sys::open_write(path.as_bytes(), append).unwrap_or_else(|| {
            umbra_sys::eprint_fmt(format_args!("umbra: cannot open '{}' for writing; reporting to stderr\n", path));
            2
        }),
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
fn write_json(r: &RaceReport, sym: &mut Symbolizer, opts: &FormatOptions) {
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

fn kind(is_write: bool, is_atomic: bool) -> AccessKind {
    match (is_write, is_atomic) {
        (true, false) => AccessKind::Write,
        (false, false) => AccessKind::Read,
        (true, true) => AccessKind::AtomicWrite,
        (false, true) => AccessKind::AtomicRead,
    }
}

/// The previous access `prev` to `word`: its thread and, if its history still has
/// it, its stack and the mutexes it held.
fn find_previous(word: usize, prev: ShadowCell) -> (u32, Option<(Vec<u64>, u32)>) {
    let reg = REGISTRY.lock();
    let Some(tid) = reg.slots.thread_at(prev.sid(), prev.epoch()) else { return (0, None) };
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
    (tid, ev.map(|e| {
        let mut v = Vec::with_capacity(16);
        v.push(e.pc);
        v.extend(DEPOT.unwind(e.stack));
        (v, e.mutexes)
    }))
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
    drop(reg);
    stack.extend(DEPOT.unwind(cs));
    Some(ThreadDesc { id: tid, os_tid: os_tid as u64, running, name: None, parent, stack })
}

/// Whether a `race:`/`race_top:` suppression matches the report: any frame of the
/// two access stacks, or the global it is about.
fn suppressed(r: &RaceReport, sym: &mut Symbolizer) -> bool {
    let sup = SUPPRESSIONS.lock();
    if sup.is_empty() {
        return false;
    }
    let symbolize = |sym: &mut Symbolizer, stack: &Option<Vec<u64>>| -> Vec<Frame> {
        let mut frames = Vec::new();
        for &pc in stack.iter().flatten() {
            frames.extend(sym.symbolize(pc.saturating_sub(1)).into_iter().filter(|f| !hide_runtime_frames(f)));
        }
        frames
    };
    let cur = symbolize(sym, &r.current.stack);
    let prev = symbolize(sym, &r.previous.stack);
    let global = match r.location {
        Location::Global { addr } => sym.global_symbol(addr),
        _ => None,
    };
    let mut location: Vec<&str> = Vec::new();
    if let Some(g) = &global {
        location.push(&g.name);
        location.push(&g.module);
    }
    sup.match_report(umbra_report::suppress::SuppressionKind::Race, &[&cur, &prev], &location).is_some()
}

/// Reports begun and not yet finished (written out, counted, or dropped as
/// duplicate or suppressed). The exit paths wait for it to drop to zero, so a
/// thread that exits while another is still symbolizing its report does not end
/// the process under it.
static IN_FLIGHT: AtomicU32 = AtomicU32::new(0);
/// Reports finished so far: what the exit paths watch to tell a slow report (one
/// that still finishes now and then) from a stuck one.
static FINISHED: AtomicU32 = AtomicU32::new(0);

/// Whether this thread is inside [`report_race`]: an exit from a signal handler
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

/// Reports a race of the current access with `prev`.
#[cold]
#[inline(never)]
pub fn report_race(addr: usize, size: usize, is_write: bool, is_atomic: bool, pc: u64, word: usize, prev: ShadowCell) {
    let _in_flight = InFlight::enter();
    let (report_bugs, halt_on_error, exitcode, equal_stacks, strip, fold_std_frames) = {
        let o = OPTIONS.lock();
        let strip = o.strip_path_prefix.clone();
        (o.report_bugs, o.halt_on_error, o.exitcode, o.suppress_equal_stacks, strip, o.fold_std_frames)
    };
    if !report_bugs {
        return;
    }
    in_runtime(|| {
        let cur_tid = ctx().tid;
        let cur_stack = current_stack(pc);
        let (prev_tid, prev_found) = find_previous(word, prev);
        let (prev_stack, prev_mutexes) = match prev_found {
            Some((s, m)) => (Some(s), crate::mutexset::get(m)),
            None => (None, Vec::new()),
        };
        let prev_pc = prev_stack.as_ref().and_then(|s| s.first().copied()).unwrap_or(0);
        let mut st = STATE.lock();
        // One report per unordered pair of racing source lines (TSan's
        // suppress_equal_stacks); the pc pair check keeps racy loops cheap.
        if !st.seen_prev.insert((word, prev.0)) {
            return;
        }
        if !st.seen_pcs.insert((pc.min(prev_pc), pc.max(prev_pc))) && equal_stacks {
            return;
        }
        let (a, b) = (source_line(&mut st.symbolizer, pc), source_line(&mut st.symbolizer, prev_pc));
        if !st.seen_lines.insert(if a <= b { (a, b) } else { (b, a) }) && equal_stacks {
            return;
        }
        let p = prev.effective();
        let (psize, poff) = p.size_and_offset();
        let block = if prev.is_freed() {
            crate::intercept::heap::freed_block_of(addr)
        } else {
            crate::intercept::heap::block_of(addr).or_else(|| crate::intercept::heap::freed_block_of(addr))
        };
        let location = match block {
            Some((b, blk)) => {
                let mut s = Vec::new();
                if blk.pc != 0 {
                    s.push(blk.pc);
                }
                s.extend(DEPOT.unwind(blk.stack));
                Location::Heap { block: b as u64, size: blk.size as u64, thread: blk.tid, stack: s }
            }
            None => match crate::thread::stack_or_tls_of(addr) {
                Some((t, true)) => Location::Tls { thread: t },
                Some((t, false)) => Location::Stack { thread: t },
                None => Location::Global { addr: addr as u64 },
            },
        };
        let sleep_stack = crate::intercept::sleep::synchronized_by_sleep(prev);
        // Mutexes are numbered M0, M1, ... in the order the report names them.
        let cur_mutexes = ctx().held.clone();
        let mut named: Vec<usize> = Vec::new();
        let mut name = |held: &[crate::mutexset::Held]| -> Vec<(u32, bool)> {
            held.iter()
                .map(|&(a, w)| {
                    let i = named.iter().position(|&x| x == a).unwrap_or_else(|| {
                        named.push(a);
                        named.len() - 1
                    });
                    (i as u32, w)
                })
                .collect()
        };
        let cur_m = name(&cur_mutexes);
        let prev_m = name(&prev_mutexes);
        let mutexes = named
            .iter()
            .enumerate()
            .map(|(i, &a)| {
                let mut stack = Vec::new();
                if let Some(sv) = crate::sync::find(a) {
                    let g = sv.lock();
                    if g.created_pc != 0 {
                        stack.push(g.created_pc);
                        stack.extend(DEPOT.unwind(g.created_stack));
                    }
                }
                MutexDesc { id: i as u32, addr: a as u64, stack }
            })
            .collect();
        let mut threads = Vec::new();
        for t in [cur_tid, prev_tid] {
            if !threads.iter().any(|d: &ThreadDesc| d.id == t) {
                threads.extend(describe_thread(t));
            }
        }
        let r = RaceReport {
            kind: if prev.is_freed() { ReportKind::HeapUseAfterFree } else { ReportKind::DataRace },
            pid: umbra_sys::getpid(),
            current: Access { kind: kind(is_write, is_atomic), size: size as u64, addr: addr as u64, thread: cur_tid, mutexes: cur_m, stack: Some(cur_stack) },
            previous: Access {
                kind: kind(!p.is_read(), p.is_atomic()),
                size: psize as u64,
                addr: (word + poff as usize) as u64,
                thread: prev_tid,
                mutexes: prev_m,
                stack: prev_stack,
            },
            location,
            mutexes,
            threads,
            sleep_stack,
        };
        if suppressed(&r, &mut st.symbolizer) {
            return;
        }
        let opts = FormatOptions { strip_path_prefix: strip, hide_frame: hide_runtime_frames, fold_std_frames };
        let text = format_text(&r, &mut st.symbolizer, &opts);
        write_text(&text);
        write_json(&r, &mut st.symbolizer, &opts);
        // Relaxed: read at exit only after `wait_for_reports`, whose Acquire pairs
        // with this report's Release in `InFlight::drop`.
        REPORTS.fetch_add(1, Ordering::Relaxed);
        drop(st);
        if halt_on_error {
            write_out(format_args!("ThreadSanitizer: reported {} warnings\n", REPORTS.load(Ordering::Relaxed)));
            umbra_sys::exit_group(exitcode);
        }
    });
}

/// Reports a one-stack warning of `kind` (the signal reports): `preface` goes
/// between the header and the stack. Honours `report_bugs`, `signal:`
/// suppressions, `suppress_equal_stacks` (same kind and stack: once) and
/// `halt_on_error`.
pub fn report_stack(kind: &'static str, preface: Option<String>, stack: Vec<u64>) {
    let (report_bugs, halt_on_error, exitcode, equal_stacks, strip, fold_std_frames) = {
        let o = OPTIONS.lock();
        (o.report_bugs, o.halt_on_error, o.exitcode, o.suppress_equal_stacks, o.strip_path_prefix.clone(), o.fold_std_frames)
    };
    if !report_bugs {
        return;
    }
    let _in_flight = InFlight::enter();
    in_runtime(|| {
        let mut st = STATE.lock();
        if !st.seen_stacks.insert((kind, stack.clone())) && equal_stacks {
            return;
        }
        let opts = FormatOptions { strip_path_prefix: strip, hide_frame: hide_runtime_frames, fold_std_frames };
        {
            let sup = SUPPRESSIONS.lock();
            if !sup.is_empty() {
                let frames = umbra_report::text::resolve_stack(&stack, &mut st.symbolizer, &opts);
                if sup.match_report(umbra_report::suppress::SuppressionKind::Signal, &[&frames], &[]).is_some() {
                    return;
                }
            }
        }
        let text = umbra_report::format_stack_report(kind, umbra_sys::getpid(), preface.as_deref(), &stack, &mut st.symbolizer, &opts);
        write_text(&text);
        // Relaxed: a count, read at exit (as for races).
        REPORTS.fetch_add(1, Ordering::Relaxed);
        drop(st);
        if halt_on_error {
            // Relaxed: as above.
            write_out(format_args!("ThreadSanitizer: reported {} warnings\n", REPORTS.load(Ordering::Relaxed)));
            umbra_sys::exit_group(exitcode);
        }
    });
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
