//! Rust's thread start-up, treated as the runtime code it is. A thread spawned by
//! Rust's std starts in std's `thread_start`, which sets up the stack-overflow
//! handler, the thread's `Thread` handle and the key of its thread-local
//! destructors before it calls the user's closure through
//! `__rust_begin_short_backtrace`. Built with `-Zbuild-std`, that code is
//! instrumented, and its process-wide state (the lazily created destructor key,
//! written with a release CAS by the first thread to start and read with an
//! acquire load by every later one; the stack-overflow handler's lock) links the
//! start-up of every thread to the start-up of whichever threads the scheduler
//! happened to start before it. Those links are real happens-before edges of the
//! execution, but they come from the order in which threads start, not from the
//! program: a thread that starts late acquires the clocks of threads created after
//! it and so "knows" everything their creator did before creating them, hiding a
//! race in about half the runs of issue 13's program. For a C or C++ thread, the
//! same start-up code lives in glibc and libstdc++, which are not instrumented.
//!
//! umbra gives Rust threads the same treatment: from the thread's start until it
//! enters `__rust_begin_short_backtrace` (an `#[inline(never)]` function std keeps
//! as the marker of the user's frames), its accesses and its synchronization are
//! ignored. The thread's creation (the creator's clock) and its end (the clock its
//! joiner takes) are unaffected. The end is found on the thread's own function
//! entries: while the thread is starting up, `__tsan_func_entry` takes its slow
//! path (the fast path's capacity is hidden), which compares the address inside
//! the entered function with the marker's instances.

use alloc::boxed::Box;
use alloc::vec::Vec;

use umbra_sys::SpinMutex;

/// The std start-up code of one module (the executable, or a shared library with
/// its own copy of std), as runtime addresses.
pub struct StdStartup {
    /// Instances of std's `thread_start` (the start routine std passes to
    /// `pthread_create`).
    thread_start: Vec<(u64, u64)>,
    /// Instances of `__rust_begin_short_backtrace`, sorted by start.
    begin: Vec<(u64, u64)>,
}

const THREAD_START: u8 = 0;
const BEGIN: u8 = 1;

/// Sorted `(lo, hi)` ranges; whether `addr` is in one of them.
fn in_ranges(ranges: &[(u64, u64)], addr: u64) -> bool {
    let i = ranges.partition_point(|r| r.0 <= addr);
    i > 0 && addr < ranges[i - 1].1
}

impl StdStartup {
    /// Whether `site`, an address inside a function being entered, is inside the
    /// marker around the user's closure.
    pub fn enters_user_code(&self, site: u64) -> bool {
        in_ranges(&self.begin, site)
    }

    /// Whether `site` is inside std's `thread_start`.
    pub fn in_thread_start(&self, site: u64) -> bool {
        in_ranges(&self.thread_start, site)
    }
}

/// Which symbol names matter: std's `thread_start` (legacy mangling
/// `_ZN3std3sys...12thread_start17h...E`, v0 `_RNv...3std...12thread_start`) and
/// every instance of `__rust_begin_short_backtrace`.
fn classify(name: &str) -> Option<u8> {
    if name.contains("__rust_begin_short_backtrace") {
        Some(BEGIN)
    } else if name.contains("12thread_start") && name.contains("3std") {
        Some(THREAD_START)
    } else {
        None
    }
}

/// Modules looked at so far: `(lo, hi, start-up code)`, `None` for modules
/// without std's start-up (C code, or symbols stripped). Entries live forever.
static MODULES: SpinMutex<Vec<(u64, u64, Option<&'static StdStartup>)>> =
    SpinMutex::new(Vec::new());

/// The std start-up code that `start`, a routine passed to `pthread_create`,
/// belongs to, if `start` is std's `thread_start`. Reads the module's symbol
/// table the first time a thread is created with a routine from that module.
/// Runs inside the runtime (it maps files and reads `/proc/self/maps`).
pub fn for_start_routine(start: usize) -> Option<&'static StdStartup> {
    let start = start as u64;
    let known = MODULES
        .lock()
        .iter()
        .find(|m| m.0 <= start && start < m.1)
        .map(|m| m.2);
    let startup = match known {
        Some(s) => s,
        None => {
            let modules = umbra_report::maps::current_modules();
            let module = modules.iter().find(|m| m.contains(start))?;
            let loaded = load(&module.path, module.bias);
            let mut cache = MODULES.lock();
            // Another thread may have loaded it meanwhile: keep the first copy.
            match cache.iter().find(|m| m.0 <= start && start < m.1) {
                Some(m) => m.2,
                None => {
                    let s = loaded.map(|s| &*Box::leak(Box::new(s)));
                    cache.push((module.lo, module.hi, s));
                    s
                }
            }
        }
    }?;
    startup.in_thread_start(start).then_some(startup)
}

fn load(path: &str, bias: u64) -> Option<StdStartup> {
    let ranges = umbra_report::function_ranges(path, classify)?;
    let pick = |class: u8| -> Vec<(u64, u64)> {
        ranges
            .iter()
            .filter(|r| r.0 == class)
            .map(|r| (r.1.wrapping_add(bias), r.2.wrapping_add(bias)))
            .collect()
    };
    let s = StdStartup {
        thread_start: pick(THREAD_START),
        begin: pick(BEGIN),
    };
    (!s.thread_start.is_empty() && !s.begin.is_empty()).then_some(s)
}
