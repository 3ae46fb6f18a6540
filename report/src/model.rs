//! The data of one race report, as the runtime collects it: raw return addresses and
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportKind {
    DataRace,
    HeapUseAfterFree,
}

impl ReportKind {
    /// TSan's report type string ("data race", "heap-use-after-free").
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::DataRace => "data race",
            ReportKind::HeapUseAfterFree => "heap-use-after-free",
        }
    }
}

/// A complete report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaceReport {
    pub kind: ReportKind,
    pub pid: u32,
    pub current: Access,
    /// The earlier access (for heap-use-after-free: the free).
    pub previous: Access,
    pub location: Location,
    pub mutexes: Vec<MutexDesc>,
    /// Threads to describe (the main thread is never described).
    pub threads: Vec<ThreadDesc>,
    /// "As if synchronized via sleep:" stack, if a sleep hid the race.
    pub sleep_stack: Option<Vec<u64>>,
}
