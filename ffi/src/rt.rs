//! Process-wide runtime state: one-time initialization, options, suppressions, the
//! report counter and the exit path that turns reports into ThreadSanitizer's exit
//! code.
//!
//! Options come, in order, from the program's `__tsan_default_options()`,
//! `TSAN_OPTIONS` and `UMBRA_OPTIONS` (later wins); suppressions from the file named
//! by `suppressions=`, the program's `__tsan_default_suppressions()` and TSan's
//! built-in list. A bad option or suppression is a one-line message and exit code 1.

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
    // `environ` may not have been set up yet when `__tsan_init` ran from
    // `.preinit_array`: read the options again now that it is.
    parse_options();
    crate::thread::note_stack_and_tls();
    crate::thread::in_runtime(|| {
        load_suppressions();
        crate::intercept::signals::install();
        // SAFETY: `finalize` has the signature __cxa_atexit expects and lives
        // forever; registered before the program's constructors and main, it runs
        // after the program's own exit handlers.
        unsafe { crate::real::cxa_atexit(finalize, core::ptr::null_mut(), core::ptr::null_mut()) };
    });
}

fn check_cpu() {
    let r = core::arch::x86_64::__cpuid(1);
    if r.ecx & (1 << 13) == 0 {
        umbra_sys::eprint_fmt(format_args!("umbra: this CPU lacks cmpxchg16b, which umbra requires\n"));
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

fn parse_options() {
    let mut o = Options::new();
    // SAFETY: reading a weak symbol's address (null when the program defines none).
    let defaults = hook_string(unsafe { __tsan_default_options });
    let sources = [
        ("__tsan_default_options", defaults.map(str::as_bytes)),
        ("TSAN_OPTIONS", env(b"TSAN_OPTIONS")),
        ("UMBRA_OPTIONS", env(b"UMBRA_OPTIONS")),
    ];
    for (name, text) in sources {
        let Some(text) = text else { continue };
        let text = core::str::from_utf8(text).unwrap_or("");
        if let Err(e) = options::parse_into(&mut o, name, text) {
            umbra_sys::eprint_fmt(format_args!("umbra: {}\n", e));
            umbra_sys::exit_group(1);
        }
    }
    if o.help {
        crate::report::write_text(&options::help_text());
    }
    VERBOSITY.store(o.verbosity, Ordering::Relaxed);
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

/// Runs at exit (registered first with `__cxa_atexit`, so last): prints the
/// suppression hits and the report count, and exits with `exitcode` if anything
/// was reported. Inside the runtime: a signal handler must not find the option,
/// suppression or registry lock held.
extern "C" fn finalize(_: *mut core::ffi::c_void) {
    crate::thread::in_runtime(finalize_in_rt);
}

fn finalize_in_rt() {
    let (print_suppressions, code) = {
        let o = OPTIONS.lock();
        (o.print_suppressions, o.exitcode)
    };
    if print_suppressions {
        let text = SUPPRESSIONS.lock().hits_report(umbra_sys::getpid());
        crate::report::write_text(&text);
    }
    if verbosity() >= 1 {
        let (slots, unsafe_reuses, threads) = crate::thread::slot_stats();
        crate::report::write_out(format_args!(
            "umbra: {} threads, {} thread slots ({} reused unordered), {} sync objects, {} call-tree nodes, {} spilled words, {} MiB runtime memory\n",
            threads,
            slots,
            unsafe_reuses,
            crate::sync::created(),
            crate::trace::DEPOT.len(),
            SPILL.len(),
            crate::heap::MAPPED.load(Ordering::Relaxed) >> 20
        ));
    }
    let n = REPORTS.load(Ordering::Relaxed);
    if n > 0 {
        crate::report::write_out(format_args!("ThreadSanitizer: reported {} warnings\n", n));
        if code != 0 {
            crate::thread::in_runtime(|| {
                // SAFETY: fflush(NULL) flushes all stdio streams; safe at exit.
                unsafe { crate::real::fflush_all() };
            });
            umbra_sys::exit_group(code);
        }
    }
}
