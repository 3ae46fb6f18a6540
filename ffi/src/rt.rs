//! Process-wide runtime state: one-time initialization, options, the report
//! counter and the exit path that turns reports into ThreadSanitizer's exit code.

use core::sync::atomic::{AtomicU32, AtomicU8, AtomicUsize, Ordering};

use umbra_shadow::SpillTable;

/// Words whose records overflowed their pair.
pub static SPILL: SpillTable = SpillTable::new();

static INIT: AtomicU8 = AtomicU8::new(0); // 0 = no, 1 = running, 2 = done
pub static REPORTS: AtomicU32 = AtomicU32::new(0);

pub struct Options {
    pub exitcode: AtomicU32,
    pub halt_on_error: AtomicU8,
    pub report_bugs: AtomicU8,
    pub history_events: AtomicUsize,
    pub verbosity: AtomicU8,
}

pub static OPTIONS: Options = Options {
    exitcode: AtomicU32::new(66),
    halt_on_error: AtomicU8::new(0),
    report_bugs: AtomicU8::new(1),
    history_events: AtomicUsize::new(1 << 15),
    verbosity: AtomicU8::new(0),
};

pub fn history_events() -> usize {
    OPTIONS.history_events.load(Ordering::Relaxed)
}

/// Initializes the runtime once; later calls return at once. Reentrant calls from
/// the initializing thread (through an interceptor it reaches) return early too.
pub fn ensure_init() {
    // Acquire: pairs with the Release below, so a thread that sees 2 sees the
    // whole initialized state.
    if INIT.load(Ordering::Acquire) == 2 {
        return;
    }
    if INIT.compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire).is_err() {
        // Another thread (or this one, re-entering) is initializing.
        return;
    }
    check_cpu();
    parse_options();
    // The main thread: T0, knowing nothing.
    if crate::thread::thr().ctx.is_null() {
        let (tid, grant) = crate::thread::register(0, 0, 0, None);
        crate::thread::attach(tid, grant, None);
    }
    INIT.store(2, Ordering::Release);
}

/// The part of initialization that calls into libc, which must wait until libc
/// itself is initialized: `__tsan_init` may run from the program's `.preinit_array`,
/// before any library constructor. Runs from umbra's own constructor.
pub fn late_init() {
    static LATE: AtomicU8 = AtomicU8::new(0);
    ensure_init();
    if LATE.swap(1, Ordering::AcqRel) != 0 {
        return;
    }
    crate::thread::note_stack_and_tls();
    crate::thread::in_runtime(|| {
        // SAFETY: `finalize` has the signature __cxa_atexit expects and lives
        // forever; registered before the program's constructors and main, it runs
        // after the program's own exit handlers.
        unsafe { crate::real::cxa_atexit(finalize, core::ptr::null_mut(), core::ptr::null_mut()) };
    });
}

fn check_cpu() {
    // SAFETY: cpuid leaf 1 exists on every x86_64 CPU.
    let r = unsafe { core::arch::x86_64::__cpuid(1) };
    if r.ecx & (1 << 13) == 0 {
        umbra_sys::eprint_fmt(format_args!("umbra: this CPU lacks cmpxchg16b, which umbra requires\n"));
        umbra_sys::exit_group(1);
    }
}

extern "C" {
    static environ: *const *const u8;
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
            let mut n = 0;
            while *s.add(n) != 0 {
                n += 1;
            }
            let kv = core::slice::from_raw_parts(s, n);
            if kv.len() > name.len() && kv.starts_with(name) && kv[name.len()] == b'=' {
                return Some(&kv[name.len() + 1..]);
            }
            p = p.add(1);
        }
    }
    None
}

fn parse_options() {
    for var in [&b"TSAN_OPTIONS"[..], b"UMBRA_OPTIONS"] {
        if let Some(v) = env(var) {
            for item in v.split(|&c| c == b':' || c == b' ' || c == b',') {
                if item.is_empty() {
                    continue;
                }
                apply_option(var, item);
            }
        }
    }
}

fn apply_option(var: &[u8], item: &[u8]) {
    let (k, v) = match item.iter().position(|&c| c == b'=') {
        Some(i) => (&item[..i], &item[i + 1..]),
        None => (item, &b""[..]),
    };
    let num = core::str::from_utf8(v).ok().and_then(|s| s.parse::<u64>().ok());
    let name = core::str::from_utf8(var).unwrap_or("?");
    let key = core::str::from_utf8(k).unwrap_or("?");
    let bad = |what: &str| {
        umbra_sys::eprint_fmt(format_args!(
            "umbra: {}: {} '{}'\n",
            name,
            what,
            core::str::from_utf8(item).unwrap_or("?")
        ));
        umbra_sys::exit_group(1);
    };
    match key {
        "exitcode" => match num {
            Some(n) if n < 256 => OPTIONS.exitcode.store(n as u32, Ordering::Relaxed),
            _ => bad("exitcode needs a number 0-255 in"),
        },
        "halt_on_error" | "report_bugs" | "verbosity" => {
            let Some(n) = num else { return bad("needs a number in") };
            let f = match key {
                "halt_on_error" => &OPTIONS.halt_on_error,
                "report_bugs" => &OPTIONS.report_bugs,
                _ => &OPTIONS.verbosity,
            };
            f.store(n.min(255) as u8, Ordering::Relaxed);
        }
        "history_size" => match num {
            // Like TSan's history_size: each step doubles the history kept.
            Some(n) if n <= 7 => OPTIONS.history_events.store(1 << (15 + n), Ordering::Relaxed),
            _ => bad("history_size needs 0-7 in"),
        },
        // TSan options umbra accepts and has no use for (atexit_sleep_ms: umbra never
        // sleeps at exit).
        "atexit_sleep_ms" | "detect_deadlocks" | "second_deadlock_stack" | "symbolize" | "io_sync"
        | "report_signal_unsafe" | "report_thread_leaks" | "die_after_fork" | "suppress_equal_stacks"
        | "strip_path_prefix" | "log_path" | "suppressions" | "print_suppressions" | "force_seq_cst_atomics"
        | "flush_memory_ms" | "memory_limit_mb" | "ignore_noninstrumented_modules" | "external_symbolizer_path" => {}
        _ => {
            umbra_sys::eprint_fmt(format_args!("umbra: {}: unknown flag '{}'\n", name, key));
            umbra_sys::exit_group(1);
        }
    }
}

/// Runs at exit (registered first with `__cxa_atexit`, so last): prints the
/// report count and exits with `exitcode` if anything was reported.
extern "C" fn finalize(_: *mut core::ffi::c_void) {
    let n = REPORTS.load(Ordering::Relaxed);
    if n > 0 {
        crate::report::write_out(format_args!("ThreadSanitizer: reported {} warnings\n", n));
        let code = OPTIONS.exitcode.load(Ordering::Relaxed);
        if code != 0 {
            crate::thread::in_runtime(|| {
                // SAFETY: fflush(NULL) flushes all stdio streams; safe at exit.
                unsafe { crate::real::fflush_all() };
            });
            umbra_sys::exit_group(code as i32);
        }
    }
}
