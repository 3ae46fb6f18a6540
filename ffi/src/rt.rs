//! Process-wide runtime state: one-time initialization, options, suppressions, the
//! report counter and the exit path that turns reports into ThreadSanitizer's exit
//! code.
//!
//! Options come, in order, from the program's `__tsan_default_options()`,
//! `TSAN_OPTIONS` and `UMBRA_OPTIONS` (later wins); suppressions from the file named
//! by `suppressions=`, the program's `__tsan_default_suppressions()` and TSan's
//! built-in list. A bad option or suppression is a one-line message and exit code 1,
//! except an unknown flag name in `TSAN_OPTIONS` or `__tsan_default_options()`: a
//! one-line warning, as in TSan.
//!
//! Every way out of the process ([`finish`]: `exit`, return from `main`,
//! `quick_exit`, `_exit`; `abort` and fatal signals wait only) first waits for the
//! reports other threads are still writing.

use core::ffi::c_char;
use core::sync::atomic::{AtomicU32, AtomicU8, Ordering};

use umbra_report::options::{self, Options};
use umbra_report::suppress::{self, Suppressions};
use umbra_shadow::SpillTable;
use umbra_sys::SpinMutex;

/// Words whose records overflowed their pair.
pub static SPILL: SpillTable = SpillTable::new();

static INIT: AtomicU8 = AtomicU8::new(0); // 0 = no, 1 = running, 2 = done
pub static REPORTS: AtomicU32 = AtomicU32::new(0);
/// The pid of the process the runtime state belongs to (updated in a fork child).
static PID: AtomicU32 = AtomicU32::new(0);

/// The options in force (set during initialization, read by reports and exit).
pub static OPTIONS: SpinMutex<Options> = SpinMutex::new(Options::new());
/// `verbosity`, readable without the lock.
pub static VERBOSITY: AtomicU32 = AtomicU32::new(0);
pub static SUPPRESSIONS: SpinMutex<Suppressions> = SpinMutex::new(Suppressions::new());

/// Resets the shadow of `[addr, addr+size)` to `first` in each word's first cell
/// (0: empty; or a freed marker), dropping spilled records of the range too.
pub fn reset_shadow(addr: usize, size: usize, first: u64) {
    umbra_shadow::reset_range_with(addr, size, first, |lo, hi| SPILL.forget_range(lo, hi));
}

/// Application bytes at the start of a freed block whose shadow holds freed markers
/// (so an access there after the free, unordered with it, is a use after free). The
/// shadow of the rest of a larger block goes back to the kernel instead: marking it
/// would commit twice the block's size in shadow for memory nobody may touch, and
/// keep it until the address is reused. compiler-rt marks only the first 1 KiB.
pub const FREED_MARKED: usize = 64 * 1024;

/// Resets the shadow of a freed block to freed markers `marker` (the first
/// [`FREED_MARKED`] bytes) and empty shadow handed back to the kernel (the rest).
pub fn reset_shadow_freed(addr: usize, size: usize, marker: u64) {
    umbra_shadow::reset_range_marking(addr, size, marker, FREED_MARKED, |lo, hi| {
        SPILL.forget_range(lo, hi)
    });
}

/// Forgets everything known about `[addr, addr+size)`, whose old contents are gone
/// (unmapped, mapped over, discarded): shadow and sync objects. Costs what exists in
/// the range, not its size.
pub fn forget_memory(addr: usize, size: usize) {
    reset_shadow(addr, size, 0);
    crate::sync::reset_range(addr, size);
}

/// History events kept per thread (`history_size` doubles it per step).
pub fn history_events() -> usize {
    (1 << 15) << OPTIONS.lock().history_size.min(7)
}

pub fn verbosity() -> u32 {
    VERBOSITY.load(Ordering::Relaxed)
}

/// Initializes the runtime once; later calls return at once. Reentrant calls from
/// the initializing thread (through an interceptor it reaches) return early too.
/// Calls nothing in libc: it may run from `.preinit_array`, before libc's own
/// initialization (see [`late_init`]).
pub fn ensure_init() {
    // Acquire: pairs with the Release below, so a thread that sees 2 sees the
    // whole initialized state.
    if INIT.load(Ordering::Acquire) == 2 {
        return;
    }
    if INIT
        .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        // Another thread (or this one, re-entering) is initializing.
        return;
    }
    check_cpu();
    parse_options(false);
    // The main thread: T0, knowing nothing.
    if !crate::thread::cur().attached() {
        let (tid, grant) = crate::thread::register(0, 0, 0, None);
        crate::thread::attach(tid, grant, None);
    }
    INIT.store(2, Ordering::Release);
}

/// The part of initialization that calls into libc or into the program, which
/// must wait until libc itself is initialized: `__tsan_init` may run from the
/// program's `.preinit_array`, before any library constructor. Runs from umbra's
/// own constructor.
pub fn late_init() {
    static LATE: AtomicU8 = AtomicU8::new(0);
    ensure_init();
    if LATE.swap(1, Ordering::AcqRel) != 0 {
        return;
    }
    note_pid();
    // `environ` may not have been set up yet when `__tsan_init` ran from
    // `.preinit_array`: read the options again now that it is.
    parse_options(true);
    crate::thread::note_stack_and_tls();
    crate::thread::in_runtime(|| {
        load_suppressions();
        crate::intercept::signals::install();
        crate::intercept::process::register_fork_handlers();
        // SAFETY: `finalize` has the signature __cxa_atexit expects and lives
        // forever; registered before the program's constructors and main, it runs
        // after the program's own exit handlers.
        unsafe { crate::real::cxa_atexit(finalize, core::ptr::null_mut(), core::ptr::null_mut()) };
        // SAFETY: the same for quick_exit's handlers, which exit() does not run.
        unsafe { crate::real::cxa_at_quick_exit(finalize_quick, core::ptr::null_mut()) };
    });
    crate::hooks::on_initialize();
}

/// Whether initialization has completed.
pub fn initialized() -> bool {
    // Acquire: as in `ensure_init`.
    INIT.load(Ordering::Acquire) == 2
}

/// Records the current pid as the runtime's own (at start, and in a fork child).
pub fn note_pid() {
    // Relaxed: read back only by this process's own threads after it, through
    // the thread creation or fork that orders them.
    PID.store(umbra_sys::getpid(), Ordering::Relaxed);
}

/// Whether the caller runs in the process the runtime state belongs to: false in
/// the child of a `vfork` (or a raw `clone`), which shares the parent's memory.
pub fn is_own_process() -> bool {
    // Relaxed: see `note_pid`.
    PID.load(Ordering::Relaxed) == umbra_sys::getpid()
}

fn check_cpu() {
    let r = core::arch::x86_64::__cpuid(1);
    if r.ecx & (1 << 13) == 0 {
        umbra_sys::eprint_fmt(format_args!(
            "umbra: this CPU lacks cmpxchg16b, which umbra requires\n"
        ));
        umbra_sys::exit_group(1);
    }
}

extern "C" {
    static environ: *const *const u8;
    /// Defined (weakly) by programs that want default options or suppressions.
    #[linkage = "extern_weak"]
    static __tsan_default_options: Option<unsafe extern "C" fn() -> *const c_char>;
    #[linkage = "extern_weak"]
    static __tsan_default_suppressions: Option<unsafe extern "C" fn() -> *const c_char>;
}

/// The value of environment variable `name`, read from `environ` directly (getenv
/// may be intercepted).
pub fn env(name: &[u8]) -> Option<&'static [u8]> {
    // SAFETY: `environ` is the NUL-terminated array of NUL-terminated strings libc
    // set up before any constructor ran; we only read it.
    unsafe {
        let mut p = environ;
        if p.is_null() {
            return None;
        }
        while !(*p).is_null() {
            let s = *p;
            let kv = core::ffi::CStr::from_ptr(s as *const c_char).to_bytes();
            if kv.len() > name.len() && kv.starts_with(name) && kv[name.len()] == b'=' {
                return Some(&kv[name.len() + 1..]);
            }
            p = p.add(1);
        }
    }
    None
}

/// The string a weak `const char *f(void)` hook of the program returns, if defined.
fn hook_string(f: Option<unsafe extern "C" fn() -> *const c_char>) -> Option<&'static str> {
    let f = f?;
    // SAFETY: the program's hook returns a NUL-terminated string that lives forever
    // (TSan's contract for these hooks).
    let p = unsafe { f() };
    if p.is_null() {
        return None;
    }
    // SAFETY: as above.
    core::str::from_utf8(unsafe { core::ffi::CStr::from_ptr(p) }.to_bytes()).ok()
}

/// Parses the option sources into [`OPTIONS`]; `warn`: print the warnings too.
fn parse_options(warn: bool) {
    let mut o = Options::new();
    // SAFETY: reading a weak symbol's address (null when the program defines none).
    let defaults = hook_string(unsafe { __tsan_default_options });
    let sources = [
        ("__tsan_default_options", defaults.map(str::as_bytes)),
        ("TSAN_OPTIONS", env(b"TSAN_OPTIONS")),
        ("UMBRA_OPTIONS", env(b"UMBRA_OPTIONS")),
    ];
    let mut warnings = alloc::vec::Vec::new();
    for (name, text) in sources {
        let Some(text) = text else { continue };
        let text = core::str::from_utf8(text).unwrap_or("");
        // The strings TSan also reads may hold flags this umbra does not know
        // (CI shares one TSAN_OPTIONS across runtimes): a warning, as in TSan.
        // umbra's own UMBRA_OPTIONS stays strict.
        let unknown = if name == "UMBRA_OPTIONS" {
            options::Unknown::Error
        } else {
            options::Unknown::Warn
        };
        match options::parse_into_with(&mut o, name, text, unknown) {
            Ok(w) => warnings.extend(w),
            Err(e) => {
                umbra_sys::eprint_fmt(format_args!("umbra: {}\n", e));
                umbra_sys::exit_group(1);
            }
        }
    }
    // Options are parsed twice (`ensure_init`, then `late_init` once `environ` is
    // certainly set up): warn once, from the last pass, after every source parsed,
    // so an error elsewhere stays the only line.
    if warn {
        for w in &warnings {
            umbra_sys::eprint_fmt(format_args!("umbra: {}, ignored\n", w));
        }
        // SARIF is one document for a whole run (every process of a test suite),
        // written by `umbra run` and `cargo umbra` from JSON they have the runtime
        // write; the runtime has no serializer for it. Say what works instead.
        if let Some(sarif) = &o.sarif_path {
            umbra_sys::eprint_fmt(format_args!(
                "umbra: sarif_path={} is written by `umbra run` and `cargo umbra`, not by \
                 the runtime alone: set json_path=reports.jsonl and run `umbra sarif \
                 reports.jsonl > {}`\n",
                sarif, sarif
            ));
        }
    }
    if o.help {
        crate::report::write_text(&options::help_text());
    }
    VERBOSITY.store(o.verbosity, Ordering::Relaxed);
    crate::profile::configure(o.profile_path.is_some());
    // Relaxed: a flag read on its own; counting what is released costs a `mincore`
    // per release, paid only when the statistics are printed.
    umbra_shadow::map::COUNT_RELEASED.store(o.verbosity >= 1, Ordering::Relaxed);
    crate::deadlock::configure(&o);
    *OPTIONS.lock() = o;
}

fn load_suppressions() {
    let path = OPTIONS.lock().suppressions.clone();
    let mut s = Suppressions::new();
    let mut result = Ok(());
    if let Some(p) = path.filter(|p| !p.is_empty()) {
        result = s.load_file(&p);
    }
    // SAFETY: reading a weak symbol's address (null when the program defines none).
    if let (Ok(()), Some(text)) = (&result, hook_string(unsafe { __tsan_default_suppressions })) {
        result = s.parse("__tsan_default_suppressions", text);
    }
    if result.is_ok() {
        result = s.parse(suppress::BUILTIN_NAME, suppress::builtin());
    }
    if let Err(e) = result {
        umbra_sys::eprint_fmt(format_args!("{}\n", e));
        umbra_sys::exit_group(1);
    }
    *SUPPRESSIONS.lock() = s;
}

/// The report count the last summary line gave (0: none printed), or `u32::MAX`
/// before the first [`finish`]: a second exit path (an `_exit` from a late
/// destructor) prints the count again only if it changed.
static SUMMARIZED: AtomicU32 = AtomicU32::new(u32::MAX);

/// The end of the process, whichever way the program leaves: waits for the reports
/// other threads are still writing (so none is lost), reports the thread leaks
/// (the first time), prints the suppression hits
/// and statistics (once), then `ThreadSanitizer: reported N warnings`, writes the
/// `profile_path` profile, and returns
/// `exitcode` when anything was reported (`None`: nothing reported, or
/// `exitcode=0`).
///
/// The wait runs outside the runtime scope (a signal may still be delivered while
/// it sleeps); the rest inside it: a signal handler must not find the option,
/// suppression or registry lock held.
pub fn finish() -> Option<i32> {
    crate::report::wait_for_reports();
    crate::thread::in_runtime(|| {
        crate::thread::with_thread(|thr| crate::ignores::check_at_thread_end(thr));
        crate::report::report_thread_leaks();
        summarize()
    })
}

fn summarize() -> Option<i32> {
    let (print_suppressions, code) = {
        let o = OPTIONS.lock();
        (o.print_suppressions, o.exitcode)
    };
    // Relaxed: the Acquire in `wait_for_reports` already made every finished
    // report's increment visible here.
    let n = REPORTS.load(Ordering::Relaxed);
    // Relaxed: the exit paths of one process do not race in practice (libc
    // serializes exit handlers); the worst a race could do is print the count twice.
    let before = SUMMARIZED.swap(n, Ordering::Relaxed);
    if before == u32::MAX {
        if print_suppressions {
            let text = SUPPRESSIONS.lock().hits_report(umbra_sys::getpid());
            crate::report::write_text(&text);
        }
        if verbosity() >= 1 {
            print_stats();
        }
    }
    if n > 0 && n != before {
        crate::report::write_out(format_args!("ThreadSanitizer: reported {} warnings\n", n));
    }
    crate::profile::write();
    // The program's `__tsan_on_finalize` has the last word, asked once (as stock
    // asks it once, in its `Finalize`).
    static ASKED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
    // Relaxed: as SUMMARIZED above.
    let failed = if ASKED.swap(true, Ordering::Relaxed) {
        n > 0
    } else {
        crate::hooks::on_finalize(n > 0)
    };
    (failed && code != 0).then_some(code)
}

fn print_stats() {
    let crate::thread::SlotStats {
        slots_opened: slots,
        unordered_reuses: unsafe_reuses,
        threads,
    } = crate::thread::slot_stats();
    crate::report::write_out(format_args!(
        "umbra: {} threads, {} thread slots ({} reused unordered), {} sync objects, {} call-tree nodes, {} spilled words, {} MiB runtime memory, {} MiB shadow released\n",
        threads,
        slots,
        unsafe_reuses,
        crate::sync::created(),
        crate::depot::DEPOT.len(),
        SPILL.len(),
        crate::rt_alloc::MAPPED.load(Ordering::Relaxed) >> 20,
        umbra_shadow::map::RELEASED.load(Ordering::Relaxed) >> 20
    ));
}

/// Runs at exit (registered first with `__cxa_atexit`, so last): [`finish`], and
/// if anything was reported, flushes stdio and ends the process with `exitcode`.
extern "C" fn finalize(_: *mut core::ffi::c_void) {
    if let Some(code) = finish() {
        crate::thread::in_runtime(|| {
            // SAFETY: fflush(NULL) flushes all stdio streams; safe at exit.
            unsafe { crate::real::fflush_all() };
        });
        umbra_sys::exit_group(code);
    }
}

/// Runs at `quick_exit` (registered first with `__cxa_at_quick_exit`, so last):
/// [`finish`], and `exitcode` if anything was reported. stdio is left unflushed,
/// as quick_exit leaves it.
extern "C" fn finalize_quick(_: *mut core::ffi::c_void) {
    if let Some(code) = finish() {
        umbra_sys::exit_group(code);
    }
}
