//! Turning a detected race into a report: the previous access is found in its
//! thread's history, stacks are unwound from the depot, the location described, and
//! the text printed in ThreadSanitizer's format. Reports are serialized by one lock;
//! the same pair of racing pcs is reported once per run.

use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use umbra_report::{
    format_text, hide_runtime_frames, Access, AccessKind, FormatOptions, Location, MutexDesc, RaceReport, ReportKind, Symbolizer,
    ThreadDesc,
};
use umbra_shadow::cell::ShadowCell;
use umbra_sys::SpinMutex;

use crate::rt::{OPTIONS, REPORTS};
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
}

static STATE: SpinMutex<ReportState> =
    SpinMutex::new(ReportState {
        symbolizer: Symbolizer::new(),
        seen_pcs: BTreeSet::new(),
        seen_lines: BTreeSet::new(),
        seen_prev: BTreeSet::new(),
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

pub fn write_out(args: core::fmt::Arguments) {
    let mut s = alloc::string::String::new();
    let _ = core::fmt::write(&mut s, args);
    umbra_sys::write_all(2, s.as_bytes());
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

/// Reports a race of the current access with `prev`.
#[cold]
#[inline(never)]
pub fn report_race(addr: usize, size: usize, is_write: bool, is_atomic: bool, pc: u64, word: usize, prev: ShadowCell) {
    if OPTIONS.report_bugs.load(Ordering::Relaxed) == 0 {
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
        if !st.seen_pcs.insert((pc.min(prev_pc), pc.max(prev_pc))) || !st.seen_prev.insert((word, prev.0)) {
            return;
        }
        let (a, b) = (source_line(&mut st.symbolizer, pc), source_line(&mut st.symbolizer, prev_pc));
        if !st.seen_lines.insert(if a <= b { (a, b) } else { (b, a) }) {
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
        let opts = FormatOptions { strip_path_prefix: alloc::string::String::new(), hide_frame: hide_runtime_frames };
        let text = format_text(&r, &mut st.symbolizer, &opts);
        umbra_sys::write_all(2, text.as_bytes());
        REPORTS.fetch_add(1, Ordering::Relaxed);
        drop(st);
        if OPTIONS.halt_on_error.load(Ordering::Relaxed) != 0 {
            write_out(format_args!("ThreadSanitizer: reported {} warnings\n", REPORTS.load(Ordering::Relaxed)));
            umbra_sys::exit_group(OPTIONS.exitcode.load(Ordering::Relaxed) as i32);
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
