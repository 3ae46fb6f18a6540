//! ThreadSanitizer-compatible runtime options (`TSAN_OPTIONS`, `UMBRA_OPTIONS`,
//! `__tsan_default_options()`).
//!
//! Syntax follows sanitizer_common's flag parser: `name=value` pairs separated by
//! any of `:` `,` space, tab, CR or LF; a value may be quoted with `'` or `"` (then it
//! may hold separators) and ends at the closing quote; an unquoted value ends at the
//! next separator and may itself contain `=`. Booleans are `0`/`1`/`true`/`false`/
//! `yes`/`no` (umbra also accepts them in any case). Integers are decimal and
//! range-checked.
//!
//! Unknown flag names: TSan runs on (it lists them, "found N unrecognized flag(s)",
//! only with `verbosity=1`). umbra runs on too for the strings shared with TSan
//! (`TSAN_OPTIONS`, `__tsan_default_options()`: CI configurations pass one
//! `TSAN_OPTIONS` to every runtime version, so a flag one version lacks must not stop
//! the program), with one warning per flag naming the closest known flag
//! ([`Unknown::Warn`]); in `UMBRA_OPTIONS`, umbra's own, an unknown flag is an
//! error ([`Unknown::Error`]).
//! Malformed syntax and bad values are errors in every source, and [`parse_into`] is
//! all-or-nothing: when one pair of a string is bad, nothing from that string is
//! applied. The TSan and sanitizer_common flags that a CI setup may plausibly pass
//! (`abort_on_error`, `handle_segv`, `enable_annotations`, ...) are known names:
//! accepted, type-checked, and ignored. [`flags`] lists every accepted flag and
//! whether umbra honours it; [`help_text`] renders that list for `help=1`.
//!
//! The runtime applies, in order: the program's `__tsan_default_options()`,
//! then `TSAN_OPTIONS`, then `UMBRA_OPTIONS`; a later value overrides an earlier one.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// The runtime's options, with TSan's names and defaults (and umbra's own
/// `json_path`, `profile_path` and `fold_std_frames`). Only these are acted upon by umbra: `exitcode`, `halt_on_error`,
/// `report_bugs`, `log_path`, `verbosity`, `suppressions`, `print_suppressions`,
/// `suppress_equal_stacks`, `history_size`, `strip_path_prefix`,
/// `atexit_sleep_ms`, `json_path`, `report_signal_unsafe`, `report_thread_leaks`,
/// `report_destroy_locked`, `report_mutex_bugs`, `detect_deadlocks`,
/// `second_deadlock_stack`, `fold_std_frames`, `profile_path`. The other fields are parsed and
/// stored with TSan's defaults so that existing `TSAN_OPTIONS` keep working, but
/// umbra does not act on them (yet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Exit code of a process that printed at least one report (TSan: 66). 0..=255.
    pub exitcode: i32,
    /// Exit (with `exitcode`) right after the first report.
    pub halt_on_error: bool,
    /// `false` turns off every report (benchmarking).
    pub report_bugs: bool,
    /// Where reports go. `None` (or empty) = stderr; `"stderr"` and `"stdout"` name
    /// those streams, like TSan; any other value `PATH` writes to `PATH.PID`.
    /// See [`Options::log_target`].
    pub log_path: Option<String>,
    /// Diagnostic chattiness of the runtime itself; 0 = silent.
    pub verbosity: u32,
    /// Path of a suppressions file (see `crate::suppress`). A relative path that
    /// does not exist is also looked up next to the executable, like TSan.
    pub suppressions: Option<String>,
    /// At exit, print `ThreadSanitizer: Matched N suppressions (pid=P):` and the
    /// hit count of every suppression that matched.
    pub print_suppressions: bool,
    /// Report a race only once per pair of stacks.
    pub suppress_equal_stacks: bool,
    /// Per-thread history depth, 0..=7: umbra keeps `32Ki << history_size` events
    /// per thread (like TSan v2's trace parts). Accesses older than that print
    /// `[failed to restore the stack]` as their previous stack.
    pub history_size: u32,
    /// Prefix removed from file paths in reports.
    pub strip_path_prefix: String,
    /// Milliseconds to sleep at exit before the final summary. TSan defaults to
    /// 1000: it sleeps only so that threads still running get a chance to hit and
    /// report "at exit" races, a second of wall time per process that test suites
    /// pay thousands of times. umbra reports synchronously, in the thread that
    /// finds the race, so nothing is pending at exit and its default is 0; set it
    /// to get TSan's behaviour of letting other threads run a while longer.
    pub atexit_sleep_ms: u32,
    /// umbra's own: also write every report as one JSON object per line.
    /// `"stderr"`/`"stdout"` name those streams; a path ending in `.jsonl` is used
    /// exactly as given (the runtime opens it for appending, so several processes
    /// can share it); any other `PATH` writes to `PATH.PID`, like `log_path`.
    /// See [`Options::json_target`].
    pub json_path: Option<String>,
    /// umbra's own: at exit, write a gzipped pprof profile of the race reports
    /// and of the time threads waited for locks to `PATH.PID`, or to `PATH` itself
    /// if it ends in `.pb.gz`. See [`Options::profile_target`].
    pub profile_path: Option<String>,
    /// umbra's own: write the reports as one SARIF 2.1.0 log to this path. Written
    /// by `umbra run` and `cargo umbra` (which have the runtime write JSON to a temp
    /// file and convert it); the runtime alone has no SARIF writer and warns once.
    pub sarif_path: Option<String>,
    /// umbra's own: in text reports, fold each run of consecutive Rust standard
    /// library frames (`std::`, `core::`, `alloc::`, libtest, `__rust_try`, the
    /// Rust runtime's `main`) into one `... N frames in std` line; the SUMMARY names
    /// the first other frame. Off by default (TSan's format); `cargo umbra` turns it
    /// on unless the user set it. JSON reports keep every frame.
    pub fold_std_frames: bool,
    /// Report threads that finished and were never joined nor detached, at exit.
    pub report_thread_leaks: bool,
    /// Report lock-order inversions (potential deadlocks).
    pub detect_deadlocks: bool,
    /// Report calls that are not async-signal-safe (the malloc family) made by
    /// the handler of an asynchronous signal.
    pub report_signal_unsafe: bool,
    /// Stop (with `exitcode`) the child of a multi-threaded fork when it creates a
    /// thread, as TSan does; 0 lets it go on.
    pub die_after_fork: bool,
    /// Synchronization implied by I/O on file descriptors: 0 none, 1 TSan's fd model
    /// (writes happen before the reads of the same pipe, socket, file...), 2 every
    /// write before every read.
    pub io_sync: u32,
    /// Accepted, ignored: treat every atomic as seq_cst.
    pub force_seq_cst_atomics: bool,
    /// Accepted, ignored: interceptors ignore calls from uninstrumented modules.
    pub ignore_noninstrumented_modules: bool,
    /// Accepted, ignored: symbolize stacks (umbra always does).
    pub symbolize: bool,
    /// Accepted, ignored: print creation stacks of all ancestor threads.
    pub print_full_thread_history: bool,
    /// Second stack (where the first mutex was taken) for each edge of a deadlock
    /// report.
    pub second_deadlock_stack: bool,
    /// Accepted, ignored: report races between atomic and plain accesses.
    pub report_atomic_races: bool,
    /// Report destruction of a locked mutex.
    pub report_destroy_locked: bool,
    /// Report mutex misuse (unlock of an unlocked mutex, double lock, read lock of
    /// a write-locked rwlock).
    pub report_mutex_bugs: bool,
    /// Accepted, ignored: flush shadow memory every N ms.
    pub flush_memory_ms: u32,
    /// Accepted, ignored: flush shadow memory above this resident size.
    pub memory_limit_mb: u32,
    /// Accepted, ignored: umbra symbolizes in-process from DWARF.
    pub external_symbolizer_path: Option<String>,
    /// Print every flag, its default and whether umbra honours it ([`help_text`]).
    pub help: bool,
}

impl Options {
    /// TSan's defaults, except `atexit_sleep_ms` (0, see its doc) and umbra's own
    /// `json_path` and `fold_std_frames` (off).
    pub const fn new() -> Options {
        Options {
            exitcode: 66,
            halt_on_error: false,
            report_bugs: true,
            log_path: None,
            verbosity: 0,
            suppressions: None,
            print_suppressions: false,
            suppress_equal_stacks: true,
            history_size: 0,
            strip_path_prefix: String::new(),
            atexit_sleep_ms: 0,
            json_path: None,
            profile_path: None,
            sarif_path: None,
            fold_std_frames: false,
            report_thread_leaks: true,
            detect_deadlocks: true,
            report_signal_unsafe: true,
            die_after_fork: true,
            io_sync: 1,
            force_seq_cst_atomics: false,
            ignore_noninstrumented_modules: false,
            symbolize: true,
            print_full_thread_history: false,
            second_deadlock_stack: false,
            report_atomic_races: true,
            report_destroy_locked: true,
            report_mutex_bugs: true,
            flush_memory_ms: 0,
            memory_limit_mb: 0,
            external_symbolizer_path: None,
            help: false,
        }
    }

    /// Where text reports go, for the process `pid`.
    pub fn log_target(&self, pid: u32) -> OutputTarget {
        match self.log_path.as_deref() {
            None => OutputTarget::Stderr,
            Some(p) => output_target(p, pid, false),
        }
    }

    /// Where JSON reports go, for the process `pid`; `None` when `json_path` is unset.
    pub fn json_target(&self, pid: u32) -> Option<OutputTarget> {
        self.json_path
            .as_deref()
            .map(|p| output_target(p, pid, true))
    }

    /// Where the pprof profile goes, for the process `pid`; `None` when
    /// `profile_path` is unset. Always a file (a binary profile on a terminal helps
    /// nobody): `PATH.PID`, or `PATH` as given when it ends in `.pb.gz` (each process
    /// then overwrites it).
    pub fn profile_target(&self, pid: u32) -> Option<String> {
        self.profile_path.as_deref().map(|p| {
            if p.ends_with(".pb.gz") {
                String::from(p)
            } else {
                format!("{}.{}", p, pid)
            }
        })
    }

    /// The current value of flag `name` as text (`"1"`/`"0"` for booleans, `""` for
    /// an unset path), or `None` for a name umbra does not store (an accepted but
    /// ignored extra flag, or an unknown one).
    pub fn get(&self, name: &str) -> Option<String> {
        fn b(v: bool) -> Option<String> {
            Some(String::from(if v { "1" } else { "0" }))
        }
        fn s(v: &Option<String>) -> Option<String> {
            Some(v.clone().unwrap_or_default())
        }
        match name {
            "exitcode" => Some(self.exitcode.to_string()),
            "halt_on_error" => b(self.halt_on_error),
            "report_bugs" => b(self.report_bugs),
            "log_path" => s(&self.log_path),
            "verbosity" => Some(self.verbosity.to_string()),
            "suppressions" => s(&self.suppressions),
            "print_suppressions" => b(self.print_suppressions),
            "suppress_equal_stacks" => b(self.suppress_equal_stacks),
            "history_size" => Some(self.history_size.to_string()),
            "strip_path_prefix" => Some(self.strip_path_prefix.clone()),
            "atexit_sleep_ms" => Some(self.atexit_sleep_ms.to_string()),
            "json_path" => s(&self.json_path),
            "profile_path" => s(&self.profile_path),
            "sarif_path" => s(&self.sarif_path),
            "fold_std_frames" => b(self.fold_std_frames),
            "report_thread_leaks" => b(self.report_thread_leaks),
            "detect_deadlocks" => b(self.detect_deadlocks),
            "report_signal_unsafe" => b(self.report_signal_unsafe),
            "die_after_fork" => b(self.die_after_fork),
            "io_sync" => Some(self.io_sync.to_string()),
            "force_seq_cst_atomics" => b(self.force_seq_cst_atomics),
            "ignore_noninstrumented_modules" => b(self.ignore_noninstrumented_modules),
            "symbolize" => b(self.symbolize),
            "print_full_thread_history" => b(self.print_full_thread_history),
            "second_deadlock_stack" => b(self.second_deadlock_stack),
            "report_atomic_races" => b(self.report_atomic_races),
            "report_destroy_locked" => b(self.report_destroy_locked),
            "report_mutex_bugs" => b(self.report_mutex_bugs),
            "flush_memory_ms" => Some(self.flush_memory_ms.to_string()),
            "memory_limit_mb" => Some(self.memory_limit_mb.to_string()),
            "external_symbolizer_path" => s(&self.external_symbolizer_path),
            "help" => b(self.help),
            _ => None,
        }
    }

    fn set_bool(&mut self, name: &str, v: bool) {
        match name {
            "halt_on_error" => self.halt_on_error = v,
            "report_bugs" => self.report_bugs = v,
            "print_suppressions" => self.print_suppressions = v,
            "suppress_equal_stacks" => self.suppress_equal_stacks = v,
            "report_thread_leaks" => self.report_thread_leaks = v,
            "detect_deadlocks" => self.detect_deadlocks = v,
            "report_signal_unsafe" => self.report_signal_unsafe = v,
            "die_after_fork" => self.die_after_fork = v,
            "force_seq_cst_atomics" => self.force_seq_cst_atomics = v,
            "ignore_noninstrumented_modules" => self.ignore_noninstrumented_modules = v,
            "symbolize" => self.symbolize = v,
            "print_full_thread_history" => self.print_full_thread_history = v,
            "second_deadlock_stack" => self.second_deadlock_stack = v,
            "report_atomic_races" => self.report_atomic_races = v,
            "report_destroy_locked" => self.report_destroy_locked = v,
            "report_mutex_bugs" => self.report_mutex_bugs = v,
            "fold_std_frames" => self.fold_std_frames = v,
            "help" => self.help = v,
            _ => {} // accepted, not stored
        }
    }

    /// `v` is already range-checked against the flag's [`FlagType::Int`] bounds.
    fn set_int(&mut self, name: &str, v: i64) {
        match name {
            "exitcode" => self.exitcode = v as i32,
            "verbosity" => self.verbosity = v as u32,
            "history_size" => self.history_size = v as u32,
            "atexit_sleep_ms" => self.atexit_sleep_ms = v as u32,
            "io_sync" => self.io_sync = v as u32,
            "flush_memory_ms" => self.flush_memory_ms = v as u32,
            "memory_limit_mb" => self.memory_limit_mb = v as u32,
            _ => {}
        }
    }

    fn set_str(&mut self, name: &str, v: &str) {
        let path = if v.is_empty() {
            None
        } else {
            Some(String::from(v))
        };
        match name {
            "log_path" => self.log_path = path,
            "suppressions" => self.suppressions = path,
            "json_path" => self.json_path = path,
            "profile_path" => self.profile_path = path,
            "sarif_path" => self.sarif_path = path,
            "external_symbolizer_path" => self.external_symbolizer_path = path,
            "strip_path_prefix" => self.strip_path_prefix = String::from(v),
            _ => {}
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options::new()
    }
}

/// A report destination resolved from `log_path` or `json_path`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputTarget {
    Stderr,
    Stdout,
    /// A file to create (or append to), already suffixed with `.PID` where the rule says so.
    File(String),
}

/// `"stderr"`/`"stdout"` (and an empty path: stderr) name the streams, like
/// sanitizer_common's `log_path`; otherwise the file is `PATH.PID`, except that
/// with `exact_jsonl` a path ending in `.jsonl` is taken as is.
pub fn output_target(path: &str, pid: u32, exact_jsonl: bool) -> OutputTarget {
    match path {
        "" | "stderr" => OutputTarget::Stderr,
        "stdout" => OutputTarget::Stdout,
        p if exact_jsonl && p.ends_with(".jsonl") => OutputTarget::File(String::from(p)),
        p => OutputTarget::File(format!("{}.{}", p, pid)),
    }
}

/// A bad options string: which source it came from and one line saying what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionError {
    /// `"TSAN_OPTIONS"`, `"UMBRA_OPTIONS"` or `"__tsan_default_options"`.
    pub source: String,
    pub message: String,
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.message)
    }
}

/// The type of a flag's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagType {
    /// `0`/`1`/`true`/`false`/`yes`/`no`, any case.
    Bool,
    /// Decimal integer (optional sign) within `min..=max`.
    Int { min: i64, max: i64 },
    /// Any text; empty means unset for paths.
    Str,
    /// sanitizer_common's `handle_*` signal modes: a boolean, or `2`/`exclusive`.
    SignalMode,
}

/// What umbra does with a flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// Acted upon.
    Honoured,
    /// Parsed and kept in [`Options`] with TSan's default, not acted upon.
    Stored,
    /// A TSan or sanitizer_common flag umbra has no use for: type-checked, then dropped.
    Ignored,
}

/// One accepted flag.
#[derive(Clone, Copy, Debug)]
pub struct FlagInfo {
    pub name: &'static str,
    pub ty: FlagType,
    /// Default as text, in the form [`Options::get`] prints (booleans as `1`/`0`).
    pub default: &'static str,
    pub support: Support,
    pub desc: &'static str,
}

const U32: FlagType = FlagType::Int {
    min: 0,
    max: u32::MAX as i64,
};
const I32: FlagType = FlagType::Int {
    min: i32::MIN as i64,
    max: i32::MAX as i64,
};

const fn flag(
    name: &'static str,
    ty: FlagType,
    default: &'static str,
    support: Support,
    desc: &'static str,
) -> FlagInfo {
    FlagInfo {
        name,
        ty,
        default,
        support,
        desc,
    }
}

use FlagType::{Bool, SignalMode, Str};
use Support::{Honoured, Ignored, Stored};

#[rustfmt::skip]
static FLAGS: &[FlagInfo] = &[
    // Honoured.
    flag("exitcode", FlagType::Int { min: 0, max: 255 }, "66", Honoured,
        "Exit code of a process that printed at least one report."),
    flag("halt_on_error", Bool, "0", Honoured, "Exit after the first report."),
    flag("report_bugs", Bool, "1", Honoured, "0 turns off all reports (for benchmarking)."),
    flag("log_path", Str, "", Honoured,
        "Write reports to PATH.PID instead of stderr; 'stderr' and 'stdout' name the streams."),
    flag("verbosity", U32, "0", Honoured, "Runtime diagnostics level; 0 is silent."),
    flag("suppressions", Str, "", Honoured, "Suppressions file (race:, race_top:, thread:, ...)."),
    flag("print_suppressions", Bool, "0", Honoured,
        "At exit, print how often each suppression matched."),
    flag("suppress_equal_stacks", Bool, "1", Honoured,
        "Report a race only once per pair of stacks."),
    flag("history_size", FlagType::Int { min: 0, max: 7 }, "0", Honoured,
        "Per-thread history: umbra keeps 32Ki << history_size events per thread."),
    flag("strip_path_prefix", Str, "", Honoured, "Prefix removed from file paths in reports."),
    flag("atexit_sleep_ms", U32, "0", Honoured,
        "Sleep this long at exit before the summary (TSan: 1000; umbra reports synchronously)."),
    flag("json_path", Str, "", Honoured,
        "umbra: also write reports as JSON lines to PATH.PID, or to PATH itself if it ends in .jsonl."),
    flag("profile_path", Str, "", Honoured,
        "umbra: at exit, write a gzipped pprof profile of races and lock waits to PATH.PID (PATH if it ends in .pb.gz)."),
    flag("sarif_path", Str, "", Honoured,
        "umbra: write reports as SARIF 2.1.0 to PATH (by 'umbra run' and 'cargo umbra'; the runtime alone warns)."),
    flag("fold_std_frames", Bool, "0", Honoured,
        "umbra: fold runs of Rust std/core/alloc frames into one '... N frames in std' line."),
    flag("help", Bool, "0", Honoured, "Print this list of flags."),
    flag("report_signal_unsafe", Bool, "1", Honoured,
        "Report async-signal-unsafe calls (malloc, free, ...) inside signal handlers."),
    flag("report_thread_leaks", Bool, "1", Honoured,
        "Report threads that finished and were never joined or detached, at exit."),
    flag("report_destroy_locked", Bool, "1", Honoured, "Report destruction of a locked mutex."),
    flag("report_mutex_bugs", Bool, "1", Honoured,
        "Report mutex misuse: unlock of an unlocked mutex, double lock, read lock of a write-locked rwlock."),
    flag("detect_deadlocks", Bool, "1", Honoured,
        "Report lock-order inversions (potential deadlocks) between mutexes."),
    flag("second_deadlock_stack", Bool, "0", Honoured,
        "Print a second stack for each edge of a deadlock report."),
    flag("die_after_fork", Bool, "1", Honoured,
        "Die if a child of a multi-threaded fork creates threads."),
    flag("io_sync", FlagType::Int { min: 0, max: 2 }, "1", Honoured,
        "Synchronization implied by I/O: 0 none, 1 write->read, 2 global."),
    // Stored with TSan's defaults, not acted upon.
    flag("force_seq_cst_atomics", Bool, "0", Stored, "Treat every atomic operation as seq_cst."),
    flag("ignore_noninstrumented_modules", Bool, "0", Stored,
        "Interceptors ignore calls from uninstrumented modules."),
    flag("symbolize", Bool, "1", Stored, "Symbolize stacks (umbra always does)."),
    flag("print_full_thread_history", Bool, "0", Stored,
        "Print creation stacks of all ancestor threads."),
    flag("report_atomic_races", Bool, "1", Stored,
        "Report races between atomic and plain accesses."),
    flag("flush_memory_ms", U32, "0", Stored, "Flush shadow memory every N ms."),
    flag("memory_limit_mb", U32, "0", Stored, "Flush shadow memory above this resident size."),
    flag("external_symbolizer_path", Str, "", Stored,
        "External symbolizer (umbra symbolizes in-process from DWARF)."),
    // Other TSan and sanitizer_common flags: accepted so TSAN_OPTIONS written for
    // TSan keep working, then dropped.
    flag("enable_annotations", Bool, "1", Ignored, "TSan: dynamic annotations."),
    flag("force_background_thread", Bool, "0", Ignored, "TSan: eager background thread."),
    flag("profile_memory", Str, "", Ignored, "TSan: memory profile file."),
    flag("flush_symbolizer_ms", I32, "5000", Ignored, "TSan: symbolizer cache flush period."),
    flag("stop_on_start", Bool, "0", Ignored, "TSan: wait for __tsan_resume() at start."),
    flag("running_on_valgrind", Bool, "0", Ignored, "TSan: RunningOnValgrind() result."),
    flag("ignore_interceptors_accesses", Bool, "0", Ignored,
        "TSan: ignore accesses from all interceptors."),
    flag("shared_ptr_interceptor", Bool, "1", Ignored, "TSan: libc++ shared_ptr refcounts."),
    flag("correct_race_detection", Bool, "0", Ignored, "TSan: fences and release sequences."),
    flag("abort_on_error", Bool, "0", Ignored, "Call abort() instead of _exit()."),
    flag("disable_coredump", Bool, "1", Ignored, "Disable core dumps."),
    flag("allow_addr2line", Bool, "0", Ignored, "Allow addr2line as symbolizer."),
    flag("print_module_map", FlagType::Int { min: 0, max: 2 }, "0", Ignored,
        "Print the module map."),
    flag("stack_trace_format", Str, "DEFAULT", Ignored, "Frame format string."),
    flag("fast_unwind_on_fatal", Bool, "0", Ignored, "Frame-pointer unwinding on fatal errors."),
    flag("fast_unwind_on_malloc", Bool, "1", Ignored, "Frame-pointer unwinding in malloc."),
    flag("malloc_context_size", I32, "1", Ignored, "Frames kept per malloc."),
    flag("color", Str, "auto", Ignored, "Colored reports: auto, always, never."),
    flag("handle_segv", SignalMode, "1", Ignored, "Install a SIGSEGV handler."),
    flag("handle_sigbus", SignalMode, "1", Ignored, "Install a SIGBUS handler."),
    flag("handle_abort", SignalMode, "0", Ignored, "Install a SIGABRT handler."),
    flag("handle_sigill", SignalMode, "0", Ignored, "Install a SIGILL handler."),
    flag("handle_sigfpe", SignalMode, "1", Ignored, "Install a SIGFPE handler."),
    flag("allow_user_segv_handler", Bool, "1", Ignored, "Let the program replace SEGV handlers."),
    flag("use_sigaltstack", Bool, "1", Ignored, "Run signal handlers on an alternate stack."),
    flag("log_exe_name", Bool, "0", Ignored, "Add the executable name to log file names."),
    flag("log_suffix", Str, "", Ignored, "Suffix for log file names."),
    flag("log_to_syslog", Bool, "0", Ignored, "Also write reports to syslog."),
    flag("intercept_tls_get_addr", Bool, "1", Ignored, "Intercept __tls_get_addr."),
    flag("allocator_may_return_null", Bool, "0", Ignored, "malloc returns NULL on failure."),
    flag("print_summary", Bool, "1", Ignored, "Print the SUMMARY line."),
    flag("demangle", Bool, "1", Ignored, "Demangle function names."),
    flag("symbolize_inline_frames", Bool, "1", Ignored, "Show inlined frames."),
    flag("print_cmdline", Bool, "0", Ignored, "Print the command line in reports."),
    flag("detect_leaks", Bool, "1", Ignored, "LeakSanitizer (not part of TSan)."),
];

/// Every flag umbra accepts, in [`help_text`] order.
pub fn flags() -> &'static [FlagInfo] {
    FLAGS
}

/// The [`FlagInfo`] of `name`, if umbra accepts that flag.
pub fn flag_info(name: &str) -> Option<&'static FlagInfo> {
    FLAGS.iter().find(|f| f.name == name)
}

/// What an unknown flag name is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unknown {
    /// An error, like a bad value (`UMBRA_OPTIONS`).
    Error,
    /// Skipped, with a warning returned to the caller (`TSAN_OPTIONS`,
    /// `__tsan_default_options()`).
    Warn,
}

/// Applies one options string (TSan syntax: `key=value` pairs separated by `:`,
/// `,` or whitespace; values may be quoted with `'` or `"`). Later pairs override
/// earlier ones. On error nothing from `text` is applied and the error names
/// `source` and the offending pair. An unknown flag name is an error.
pub fn parse_into(opts: &mut Options, source: &str, text: &str) -> Result<(), OptionError> {
    parse_into_with(opts, source, text, Unknown::Error).map(|_| ())
}

/// [`parse_into`], with unknown flag names handled as `unknown` says. Returns the
/// warnings (one per unknown flag, in order, each naming `source`, the flag and the
/// closest known flag) when the string applied; on error nothing is applied and
/// no warning is returned.
pub fn parse_into_with(
    opts: &mut Options,
    source: &str,
    text: &str,
    unknown: Unknown,
) -> Result<Vec<OptionError>, OptionError> {
    let mut new = opts.clone();
    let mut warnings = Vec::new();
    let err = |message: String| OptionError {
        source: String::from(source),
        message,
    };
    let b = text.as_bytes();
    let is_sep = |c: u8| matches!(c, b' ' | b',' | b':' | b'\n' | b'\t' | b'\r');
    let mut i = 0;
    loop {
        while i < b.len() && is_sep(b[i]) {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let name_start = i;
        while i < b.len() && b[i] != b'=' && !is_sep(b[i]) {
            i += 1;
        }
        let name = &text[name_start..i];
        if i >= b.len() || b[i] != b'=' {
            return Err(err(format!(
                "expected '=' after '{}' (flags are name=value)",
                name
            )));
        }
        if name.is_empty() {
            let end = b[i..]
                .iter()
                .position(|&c| is_sep(c))
                .map_or(b.len(), |p| i + p);
            return Err(err(format!(
                "expected a flag name before '=' in '{}'",
                &text[i..end]
            )));
        }
        i += 1; // '='
        let value;
        if i < b.len() && (b[i] == b'\'' || b[i] == b'"') {
            let quote = b[i];
            let start = i + 1;
            match b[start..].iter().position(|&c| c == quote) {
                Some(p) => {
                    value = &text[start..start + p];
                    i = start + p + 1;
                }
                None => {
                    return Err(err(format!(
                        "unterminated quoted value for '{}' (missing closing {})",
                        name, quote as char
                    )))
                }
            }
        } else {
            let start = i;
            while i < b.len() && !is_sep(b[i]) {
                i += 1;
            }
            value = &text[start..i];
        }
        if unknown == Unknown::Warn && flag_info(name).is_none() && !is_include(name) {
            warnings.push(err(unknown_flag(name)));
            continue;
        }
        apply(&mut new, name, value).map_err(err)?;
    }
    *opts = new;
    Ok(warnings)
}

/// sanitizer_common's `include=FILE` flags: known to TSan, not supported by umbra,
/// and an error everywhere (ignoring them would silently drop the file's flags).
fn is_include(name: &str) -> bool {
    name == "include" || name == "include_if_exists"
}

/// The message for an unknown flag name, with the closest known one if any.
fn unknown_flag(name: &str) -> String {
    match suggest(name) {
        Some(s) => format!("unknown flag '{}' (did you mean '{}'?)", name, s),
        None => format!("unknown flag '{}'", name),
    }
}

fn apply(opts: &mut Options, name: &str, value: &str) -> Result<(), String> {
    let Some(info) = flag_info(name) else {
        if is_include(name) {
            return Err(format!(
                "'{}' is not supported by umbra: put the flags in the variable itself",
                name
            ));
        }
        return Err(unknown_flag(name));
    };
    match info.ty {
        FlagType::Bool => match parse_bool(value) {
            Some(v) => opts.set_bool(name, v),
            None => {
                return Err(format!(
                    "{} expects a boolean (0/1/true/false/yes/no), got '{}'",
                    name, value
                ))
            }
        },
        FlagType::SignalMode => {
            if parse_bool(value).is_none()
                && value != "2"
                && !value.eq_ignore_ascii_case("exclusive")
            {
                return Err(format!(
                    "{} expects a boolean or 2/exclusive, got '{}'",
                    name, value
                ));
            }
        }
        FlagType::Int { min, max } => {
            let v = parse_int(value)
                .ok_or_else(|| format!("{} expects an integer, got '{}'", name, value))?;
            match v {
                Some(v) if v >= min && v <= max => opts.set_int(name, v),
                _ => {
                    return Err(format!(
                        "{} must be between {} and {}, got '{}'",
                        name, min, max, value
                    ))
                }
            }
        }
        FlagType::Str => opts.set_str(name, value),
    }
    Ok(())
}

/// sanitizer_common's `ParseBool`, case-insensitive.
fn parse_bool(v: &str) -> Option<bool> {
    const T: [&str; 3] = ["1", "true", "yes"];
    const F: [&str; 3] = ["0", "false", "no"];
    if T.iter().any(|t| v.eq_ignore_ascii_case(t)) {
        Some(true)
    } else if F.iter().any(|f| v.eq_ignore_ascii_case(f)) {
        Some(false)
    } else {
        None
    }
}

/// `None`: not an integer at all. `Some(None)`: digits, but beyond `i64`.
fn parse_int(v: &str) -> Option<Option<i64>> {
    let (neg, digits) = match v.as_bytes().first() {
        Some(b'-') => (true, &v[1..]),
        Some(b'+') => (false, &v[1..]),
        _ => (false, v),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut n: i64 = 0;
    for c in digits.bytes() {
        match n
            .checked_mul(10)
            .and_then(|n| n.checked_add((c - b'0') as i64))
        {
            Some(m) => n = m,
            None => return Some(None),
        }
    }
    Some(Some(if neg { -n } else { n }))
}

/// The closest accepted flag name within edit distance 2, for "did you mean".
fn suggest(name: &str) -> Option<&'static str> {
    let mut best: Option<(usize, &'static str)> = None;
    for f in FLAGS {
        let d = edit_distance(name.as_bytes(), f.name.as_bytes());
        if d <= 2 && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, f.name));
        }
    }
    best.map(|(_, n)| n)
}

fn edit_distance(a: &[u8], b: &[u8]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = alloc::vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let sub = prev[j - 1] + (a[i - 1] != b[j - 1]) as usize;
            cur[j] = sub.min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        core::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Text for `help=1`: every accepted flag, its default and whether umbra honours it.
pub fn help_text() -> String {
    let mut out = String::from(
        "Available flags for umbra (ThreadSanitizer-compatible), set as name=value in \
         __tsan_default_options(), TSAN_OPTIONS, then UMBRA_OPTIONS (later wins):\n",
    );
    let width = FLAGS
        .iter()
        .map(|f| f.name.len() + 1 + f.default.len().max(2))
        .max()
        .unwrap_or(0);
    for f in FLAGS {
        let default = if f.default.is_empty() {
            "\"\""
        } else {
            f.default
        };
        let pair = format!("{}={}", f.name, default);
        let support = match f.support {
            Support::Honoured => "honoured",
            Support::Stored | Support::Ignored => "accepted, ignored",
        };
        out.push_str(&format!(
            "  {:<w$}  [{}] {}\n",
            pair,
            support,
            f.desc,
            w = width
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_int_cases() {
        assert_eq!(parse_int("42"), Some(Some(42)));
        assert_eq!(parse_int("-3"), Some(Some(-3)));
        assert_eq!(parse_int("+7"), Some(Some(7)));
        assert_eq!(parse_int(""), None);
        assert_eq!(parse_int("-"), None);
        assert_eq!(parse_int("1x"), None);
        assert_eq!(parse_int("99999999999999999999"), Some(None));
    }

    #[test]
    fn edit_distance_cases() {
        assert_eq!(edit_distance(b"halt_on_eror", b"halt_on_error"), 1);
        assert_eq!(edit_distance(b"", b"abc"), 3);
        assert_eq!(edit_distance(b"abc", b"abc"), 0);
        assert_eq!(suggest("exitcod"), Some("exitcode"));
        assert_eq!(suggest("completely_unrelated"), None);
    }

    #[test]
    fn table_defaults_match_options_new() {
        let o = Options::new();
        for f in FLAGS {
            match f.support {
                Support::Honoured | Support::Stored => {
                    assert_eq!(
                        o.get(f.name).as_deref(),
                        Some(f.default),
                        "default of {}",
                        f.name
                    )
                }
                Support::Ignored => assert_eq!(o.get(f.name), None, "{} is stored", f.name),
            }
        }
    }

    #[test]
    fn unknown_flags_warn_or_fail() {
        let mut o = Options::new();
        let w = parse_into_with(
            &mut o,
            "TSAN_OPTIONS",
            "halt_on_eror=1:exitcode=9 bogus='a b'",
            Unknown::Warn,
        )
        .unwrap();
        let w: Vec<String> = w.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            w,
            [
                "TSAN_OPTIONS: unknown flag 'halt_on_eror' (did you mean 'halt_on_error'?)",
                "TSAN_OPTIONS: unknown flag 'bogus'"
            ]
        );
        assert_eq!(o.exitcode, 9);
        assert!(!o.halt_on_error);
        // Syntax and values stay errors, and then nothing applies.
        let mut o = Options::new();
        assert!(parse_into_with(
            &mut o,
            "TSAN_OPTIONS",
            "exitcode=9:bogus=1:halt_on_error",
            Unknown::Warn
        )
        .is_err());
        assert!(parse_into_with(
            &mut o,
            "TSAN_OPTIONS",
            "exitcode=9:bogus=1:verbosity=x",
            Unknown::Warn
        )
        .is_err());
        assert!(parse_into_with(&mut o, "TSAN_OPTIONS", "include=/x", Unknown::Warn).is_err());
        assert_eq!(o.exitcode, 66);
        let e =
            parse_into_with(&mut o, "UMBRA_OPTIONS", "halt_on_eror=1", Unknown::Error).unwrap_err();
        assert_eq!(
            e.to_string(),
            "UMBRA_OPTIONS: unknown flag 'halt_on_eror' (did you mean 'halt_on_error'?)"
        );
    }

    #[test]
    fn fold_std_frames_is_an_umbra_flag_off_by_default() {
        let mut o = Options::new();
        assert!(!o.fold_std_frames);
        parse_into(&mut o, "UMBRA_OPTIONS", "fold_std_frames=1").unwrap();
        assert!(o.fold_std_frames);
        assert_eq!(o.get("fold_std_frames").as_deref(), Some("1"));
        parse_into(&mut o, "TSAN_OPTIONS", "fold_std_frames=false").unwrap();
        assert!(!o.fold_std_frames);
        assert_eq!(
            flag_info("fold_std_frames").map(|f| f.support),
            Some(Support::Honoured)
        );
        assert!(help_text().contains("fold_std_frames=0"));
    }

    #[test]
    fn table_names_unique() {
        for (i, f) in FLAGS.iter().enumerate() {
            assert!(
                FLAGS[i + 1..].iter().all(|g| g.name != f.name),
                "duplicate {}",
                f.name
            );
        }
    }
}
