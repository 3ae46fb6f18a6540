//! The data of one report (a race, a thread leak, a mutex misuse, a signal
//! report), as the runtime collects it: raw return addresses and
//! ids only. Symbolization and wording happen when it is formatted (`text`, `json`).
//!
//! Thread ids follow TSan: 0 is the main thread, `n` is printed `thread Tn`. Mutex
//! ids are the report-local `Mk` numbers. Every stack is a list of return addresses,
//! innermost first; formatting symbolizes `pc - 1` of each.

use alloc::string::String;
use alloc::vec::Vec;

/// The kind of a memory access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessKind {
    Read,
    Write,
    AtomicRead,
    AtomicWrite,
}

impl AccessKind {
    /// The plain or atomic kind of a read (`write == false`) or write.
    #[inline(always)]
    pub const fn new(write: bool, atomic: bool) -> AccessKind {
        match (write, atomic) {
            (false, false) => AccessKind::Read,
            (true, false) => AccessKind::Write,
            (false, true) => AccessKind::AtomicRead,
            (true, true) => AccessKind::AtomicWrite,
        }
    }

    #[inline(always)]
    pub const fn is_write(self) -> bool {
        matches!(self, AccessKind::Write | AccessKind::AtomicWrite)
    }

    #[inline(always)]
    pub const fn is_atomic(self) -> bool {
        matches!(self, AccessKind::AtomicRead | AccessKind::AtomicWrite)
    }
}

/// One of the two conflicting accesses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    pub kind: AccessKind,
    pub size: u64,
    pub addr: u64,
    /// 0 = main thread, n = "thread Tn".
    pub thread: u32,
    /// Mutexes held: (report mutex id Mk, held for write).
    pub mutexes: Vec<(u32, bool)>,
    /// Return addresses, innermost first; `None` prints "[failed to restore the stack]".
    pub stack: Option<Vec<u64>>,
}

/// What the raced-on memory is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    None,
    /// A global; resolved through `Symbolizer::global_symbol` when formatting (no
    /// symbol, no location line).
    Global {
        addr: u64,
    },
    Heap {
        block: u64,
        size: u64,
        thread: u32,
        stack: Vec<u64>,
    },
    Stack {
        thread: u32,
    },
    Tls {
        thread: u32,
    },
    Fd {
        fd: i32,
        thread: u32,
        stack: Vec<u64>,
        destroyed: bool,
    },
}

/// A mutex mentioned by an access's mutex set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MutexDesc {
    pub id: u32,
    pub addr: u64,
    /// Where it was created (first seen); empty = unknown.
    pub stack: Vec<u64>,
}

/// A (non-main) thread involved in the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadDesc {
    pub id: u32,
    pub os_tid: u64,
    pub running: bool,
    pub name: Option<String>,
    /// Creating thread's id (0 = main thread).
    pub parent: u32,
    /// Where it was created; empty = unknown.
    pub stack: Vec<u64>,
}

/// The report types umbra prints (TSan's `ReportType`, with its strings).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReportKind {
    DataRace,
    HeapUseAfterFree,
    ThreadLeak,
    MutexDestroyLocked,
    MutexDoubleLock,
    MutexBadUnlock,
    MutexBadReadLock,
    MutexBadReadUnlock,
    MutexInvalidAccess,
    Deadlock,
    SignalUnsafe,
    ErrnoInSignal,
}

impl ReportKind {
    /// TSan's report type string ("data race", "thread leak", ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::DataRace => "data race",
            ReportKind::HeapUseAfterFree => "heap-use-after-free",
            ReportKind::ThreadLeak => "thread leak",
            ReportKind::MutexDestroyLocked => "destroy of a locked mutex",
            ReportKind::MutexDoubleLock => "double lock of a mutex",
            ReportKind::MutexBadUnlock => "unlock of an unlocked mutex (or by a wrong thread)",
            ReportKind::MutexBadReadLock => "read lock of a write locked mutex",
            ReportKind::MutexBadReadUnlock => "read unlock of a write locked mutex",
            ReportKind::MutexInvalidAccess => {
                "use of an invalid mutex (e.g. uninitialized or destroyed)"
            }
            ReportKind::Deadlock => "lock-order-inversion (potential deadlock)",
            ReportKind::SignalUnsafe => "signal-unsafe call inside of a signal",
            ReportKind::ErrnoInSignal => "signal handler spoils errno",
        }
    }

    /// Whether this is a lock-order inversion, printed as its cycle.
    pub fn is_deadlock(self) -> bool {
        self == ReportKind::Deadlock
    }

    /// Whether this is a race report (two accesses): `data race`, `heap-use-after-free`.
    pub fn is_race(self) -> bool {
        matches!(self, ReportKind::DataRace | ReportKind::HeapUseAfterFree)
    }
}

/// A complete report, of any kind (TSan's `ReportDesc`). Sections are printed in
/// this order: `signal` (the errno report's `Signal N handler invoked at:` line),
/// `stacks` (separated by `  and:`), the two `accesses` of a race, `sleep_stack`,
/// `location`, `mutexes`, `threads`, then for a thread leak `count`. A
/// `lock-order-inversion` prints its cycle instead of `stacks` and `mutexes` (see
/// [`Report::cycle_threads`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub kind: ReportKind,
    pub pid: u32,
    /// Stacks of a report that is not about accesses: the misused mutex operation
    /// (then the mutex's last lock), the signal-unsafe call, the handler.
    pub stacks: Vec<Vec<u64>>,
    /// A race's accesses: the current one, then the earlier one (for
    /// heap-use-after-free: the free). Empty for other kinds.
    pub accesses: Vec<Access>,
    pub location: Location,
    pub mutexes: Vec<MutexDesc>,
    /// Threads to describe (the main thread is never described).
    pub threads: Vec<ThreadDesc>,
    /// "As if synchronized via sleep:" stack, if a sleep hid the race.
    pub sleep_stack: Option<Vec<u64>>,
    /// `signal handler spoils errno`: the signal.
    pub signal: Option<u32>,
    /// `thread leak`: how many leaked threads share the creation stack (1 = just this one).
    pub count: u32,
    /// `lock-order-inversion`: the cycle is `mutexes` in order (edge `i` goes from
    /// mutex `i` to mutex `i + 1`, the last one back to the first), and this is the
    /// thread that took each edge. `stacks` holds, per edge, where the second mutex
    /// was acquired, followed (with `second_deadlock_stack`, when `stacks` has two
    /// per edge) by where that thread had acquired the first one.
    pub cycle_threads: Vec<u32>,
}

impl Report {
    /// An empty report of `kind` (no sections).
    pub fn new(kind: ReportKind, pid: u32) -> Report {
        Report {
            kind,
            pid,
            stacks: Vec::new(),
            accesses: Vec::new(),
            location: Location::None,
            mutexes: Vec::new(),
            threads: Vec::new(),
            sleep_stack: None,
            signal: None,
            count: 1,
            cycle_threads: Vec::new(),
        }
    }

    /// A race report from its two accesses.
    pub fn race(kind: ReportKind, pid: u32, current: Access, previous: Access) -> Report {
        let mut r = Report::new(kind, pid);
        r.accesses = alloc::vec![current, previous];
        r
    }

    /// The stack TSan's SUMMARY line is taken from (`ChooseSummaryStack`): the first
    /// access's, else the first stack, else the first mutex's, else the first thread's.
    pub fn summary_stack(&self) -> Option<&[u64]> {
        if let Some(a) = self.accesses.first() {
            return a.stack.as_deref();
        }
        if let Some(s) = self.stacks.first() {
            return Some(s);
        }
        if let Some(m) = self.mutexes.first() {
            return Some(&m.stack);
        }
        self.threads.first().map(|t| t.stack.as_slice())
    }
}
