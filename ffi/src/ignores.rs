//! Ignore regions the program opens through the API (`__tsan_ignore_thread_begin`,
//! `AnnotateIgnoreReads/Writes/SyncBegin`, and the regions the `__tsan_mutex_*`
//! annotations open around a mutex's own code): they raise the thread's ignore
//! counts, and the runtime keeps, per thread, how many of each kind the program
//! has open and where they began. A thread that ends (or a process that exits)
//! with one still open is a bug of the program that would hide every later
//! access or synchronization of the thread, so, as TSan's `ThreadCheckIgnore`,
//! the runtime prints `ThreadSanitizer: thread T1  finished with ignores enabled`
//! (`main thread` for T0) with the stacks where the open regions began, and ends
//! the process with `exitcode`. The runtime's own ignore regions (a Rust thread's
//! start-up, a finished thread) are not counted here.

use alloc::vec::Vec;

use crate::depot::DEPOT;
use crate::thread::ThreadCtx;

/// What an ignore region ignores.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IgnoreKind {
    /// Memory accesses (reads and writes).
    Accesses,
    /// Synchronization.
    Sync,
}

/// Where an ignore region began: return address and depot stack id (pc 0: a
/// region opened by a mutex annotation, whose stack TSan does not keep either).
type Begun = (u64, u32);

/// How many stacks of open regions are kept per kind (TSan's `IgnoreSet`).
const KEPT_STACKS: usize = 16;

struct OpenRegions {
    accesses: u32,
    sync: u32,
    accesses_begun: Vec<Begun>,
    sync_begun: Vec<Begun>,
}

#[thread_local]
static mut OPEN: OpenRegions = OpenRegions {
    accesses: 0,
    sync: 0,
    accesses_begun: Vec::new(),
    sync_begun: Vec::new(),
};

/// Runs `f` on the current thread's open regions.
fn with_open<R>(f: impl FnOnce(&mut OpenRegions) -> R) -> R {
    // SAFETY: thread-local, reached only from inside the runtime scope (no signal
    // handler runs meanwhile), and `f` does not call back into this module.
    f(unsafe { &mut *core::ptr::addr_of_mut!(OPEN) })
}

/// The program opens an ignore region of `kind` at `pc` (0: keep no stack). Call
/// inside the runtime scope.
pub fn begin(thr: &mut ThreadCtx, kind: IgnoreKind, pc: u64) {
    let begun = (pc != 0).then(|| (pc, thr.stack_id()));
    let c = &mut *thr;
    match kind {
        IgnoreKind::Accesses => c.ignore_depth += 1,
        IgnoreKind::Sync => c.ignore_sync += 1,
    }
    c.refresh_fast_state();
    with_open(|o| {
        let (count, stacks) = match kind {
            IgnoreKind::Accesses => (&mut o.accesses, &mut o.accesses_begun),
            IgnoreKind::Sync => (&mut o.sync, &mut o.sync_begun),
        };
        *count += 1;
        if let Some(b) = begun.filter(|_| stacks.len() < KEPT_STACKS) {
            stacks.push(b);
        }
    });
}

/// The program closes an ignore region of `kind`; one it never opened is
/// ignored with a warning. Call inside the runtime scope.
pub fn end(thr: &mut ThreadCtx, kind: IgnoreKind) {
    let open = with_open(|o| {
        let (count, stacks) = match kind {
            IgnoreKind::Accesses => (&mut o.accesses, &mut o.accesses_begun),
            IgnoreKind::Sync => (&mut o.sync, &mut o.sync_begun),
        };
        if *count == 0 {
            return false;
        }
        *count -= 1;
        if *count == 0 {
            stacks.clear();
        }
        true
    });
    if !open {
        umbra_sys::eprint_fmt(format_args!(
            "umbra: an ignore region ended that was never begun; ignored\n"
        ));
        return;
    }
    let c = thr;
    match kind {
        IgnoreKind::Accesses => c.ignore_depth = c.ignore_depth.saturating_sub(1),
        IgnoreKind::Sync => c.ignore_sync = c.ignore_sync.saturating_sub(1),
    }
    c.refresh_fast_state();
}

/// The current thread ends (or, for the thread running the exit, the process):
/// with an ignore region still open, says so and ends the process with
/// `exitcode`. Not in the child of a multi-threaded fork, whose threads TSan
/// never checks. Call inside the runtime scope.
pub fn check_at_thread_end(thr: &ThreadCtx) {
    let still_open = with_open(|o| {
        if o.accesses > 0 {
            Some(core::mem::take(&mut o.accesses_begun))
        } else if o.sync > 0 {
            Some(core::mem::take(&mut o.sync_begun))
        } else {
            None
        }
    });
    let Some(begun) = still_open else { return };
    if crate::thread::after_multithreaded_fork() {
        return;
    }
    let tid = thr.tid;
    let created = if tid == 0 {
        None
    } else {
        let reg = crate::thread::REGISTRY.lock();
        let t = &reg.threads[tid as usize];
        let (pc, stack) = (t.creation_pc, t.creation_stack);
        drop(reg);
        Some((tid, unwind((pc, stack))))
    };
    let stacks: Vec<Vec<u64>> = begun.into_iter().map(unwind).collect();
    crate::report::report_ignores_enabled(created, &stacks);
    umbra_sys::exit_group(crate::rt::OPTIONS.lock().exitcode);
}

fn unwind((pc, stack): Begun) -> Vec<u64> {
    if pc == 0 {
        return Vec::new();
    }
    let mut v = Vec::with_capacity(16);
    v.push(pc);
    v.extend(DEPOT.unwind(stack));
    v
}
