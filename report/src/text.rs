//! ThreadSanitizer's text report format.
//!
//! The wording, indentation and number formats follow compiler-rt's
//! `tsan_report.cpp` and sanitizer_common's stack printer with TSan's
//! `stack_trace_format="    #%n %f %S %M"`, so tools and tests written against TSan
//! output (FileCheck patterns, CI log scrapers) keep working: `%p` pointers are `0x`
//! plus at least 12 zero-padded hex digits, module offsets `+0x` plus plain hex,
//! unknown functions and files `<null>`, a missing stack
//! `    [failed to restore the stack]`, and every stack is followed by a blank line.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::model::{Access, AccessKind, Location, Report, ReportKind, ThreadDesc};
use crate::symbolize::{Frame, Symbolizer};

/// Whether the SUMMARY line prints the column (`file:line:col`), as LLVM's TSan does
/// with llvm-symbolizer (`%L` in sanitizer_common's `ReportErrorSummary`). GCC's
/// libtsan has no columns at all, so it prints `file:line` there.
pub const SUMMARY_WITH_COLUMN: bool = true;

/// How reports are rendered.
#[derive(Clone)]
pub struct FormatOptions {
    /// Removed from file paths as TSan's `strip_path_prefix` flag does: everything up
    /// to and including the first occurrence of the prefix, then a leading `./`.
    pub strip_path_prefix: String,
    /// Frames for which this returns true are dropped from printed stacks and skipped
    /// when choosing the SUMMARY frame (the runtime's own frames).
    pub hide_frame: fn(&Frame) -> bool,
    /// umbra's `fold_std_frames`: each run of two or more consecutive Rust standard
    /// library frames ([`is_std_frame`]) prints as one `    ... N frames in std` line
    /// (the other frames keep their numbers in the full stack), and the SUMMARY names
    /// the first other frame.
    pub fold_std_frames: bool,
}

fn hide_nothing(_: &Frame) -> bool {
    false
}

impl FormatOptions {
    /// No prefix stripping, no hidden frames.
    pub const fn new() -> FormatOptions {
        FormatOptions {
            strip_path_prefix: String::new(),
            hide_frame: hide_nothing,
            fold_std_frames: false,
        }
    }
}

impl Default for FormatOptions {
    fn default() -> Self {
        Self::new()
    }
}

/// The runtime's own crates, as they appear in demangled Rust names (a user crate
/// merely named `umbra_something` is not one of them).
const RUNTIME_CRATES: [&str; 5] = [
    "umbra_ffi::",
    "umbra_shadow::",
    "umbra_clocks::",
    "umbra_report::",
    "umbra_sys::",
];

fn is_runtime_function(name: &str) -> bool {
    // `<umbra_ffi::x::T>::f` and `<T as umbra_ffi::Trait>::f` too.
    let inner = name.trim_start_matches('<');
    let crate_at = |s: &str| RUNTIME_CRATES.iter().any(|c| s.starts_with(c));
    crate_at(inner)
        || name.split(" as ").skip(1).any(crate_at)
        || name.starts_with("__umbra_")
        || name.starts_with("umbra_export_")
}

/// A ready-made `hide_frame` predicate for the runtime's frames: anything in a module
/// named `libumbra*`, functions named `__tsan_*` or `__interceptor_*`, and the
/// functions of umbra's own crates.
pub fn hide_runtime_frames(f: &Frame) -> bool {
    if basename(&f.module).starts_with("libumbra") {
        return true;
    }
    match &f.function {
        Some(name) => {
            name.starts_with("__tsan_")
                || name.starts_with("__interceptor_")
                || is_runtime_function(name)
                // glibc's start code below `main`, which TSan does not show either.
                || name == "__libc_start_call_main"
                || name == "__libc_start_main_impl"
                || name == "__libc_start_main"
                || name == "_start"
        }
        None => false,
    }
}

/// How the functions of Rust's standard library (and libtest, which runs `cargo test`
/// binaries) demangle: `std::thread::...`, `<alloc::boxed::Box<F> as ...>::call_once`.
const STD_PREFIXES: [&str; 9] = [
    "std::",
    "core::",
    "alloc::",
    "test::",
    "<std::",
    "<core::",
    "<alloc::",
    "<test::",
    "__rust_try",
];

/// Whether `f` is a frame of Rust's standard library for `fold_std_frames`: a
/// function of std, core, alloc or libtest (by its demangled name), `__rust_try`, the
/// `main` that rustc generates to call `std::rt::lang_start` (a `main` without a
/// source file), or code in the standard library's sources (trait shims such as
/// `<fn() as core::ops::function::FnOnce<()>>::call_once`, which the name does not
/// give away).
pub fn is_std_frame(f: &Frame) -> bool {
    if f.file.as_deref().is_some_and(is_std_source) {
        return true;
    }
    match f.function.as_deref() {
        Some("main") => f.file.is_none(),
        Some(name) => STD_PREFIXES.iter().any(|p| name.starts_with(p)),
        None => false,
    }
}

/// A file of the standard library: from rust-src (`-Zbuild-std`), or as rustc's
/// prebuilt std records it (`/rustc/<commit>/library/...`).
fn is_std_source(path: &str) -> bool {
    path.contains("/lib/rustlib/src/rust/library/")
        || (path.starts_with("/rustc/") && path.contains("/library/"))
}

/// The last path component, as TSan's `StripModuleName`.
pub fn basename(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// TSan's `StripPathPrefix`: drop everything through the first occurrence of
/// `prefix` (an empty prefix matches at the start), then a leading `./`.
pub fn strip_path_prefix<'a>(path: &'a str, prefix: &str) -> &'a str {
    let res = match path.find(prefix) {
        Some(pos) => &path[pos + prefix.len()..],
        None => path,
    };
    res.strip_prefix("./").unwrap_or(res)
}

/// TSan's `StripFunctionName`: interceptor wrappers print as the function they wrap.
pub fn strip_function_name(name: &str) -> &str {
    name.strip_prefix("___interceptor_")
        .or_else(|| name.strip_prefix("__interceptor_"))
        .unwrap_or(name)
}

/// Symbolizes one return address as TSan's `SymbolizeStack` does: `pc - 1` (TSan's
/// `GetPreviousInstructionPc`) is looked up, but a frame outside every module keeps
/// the original `pc` as its `module_offset` (TSan restores it for printing `(%p)`).
fn symbolize_return_address(sym: &mut Symbolizer, pc: u64) -> Vec<Frame> {
    let mut frames = sym.symbolize(pc - 1);
    for f in frames.iter_mut().filter(|f| f.module.is_empty()) {
        f.module_offset = pc;
    }
    frames
}

/// Symbolizes a stack of return addresses (see `symbolize_return_address`), expands
/// inlined frames and drops hidden ones. Stops at a zero pc.
pub fn resolve_stack(stack: &[u64], sym: &mut Symbolizer, opts: &FormatOptions) -> Vec<Frame> {
    let mut out = Vec::new();
    for &pc in stack {
        if pc == 0 {
            break;
        }
        for f in symbolize_return_address(sym, pc) {
            if !(opts.hide_frame)(&f) {
                out.push(f);
            }
        }
    }
    out
}

/// `%p`: `0x` and at least 12 lowercase hex digits.
struct Ptr(u64);

impl core::fmt::Display for Ptr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "0x{:012x}", self.0)
    }
}

fn thread_name(out: &mut String, tid: u32) {
    if tid == 0 {
        out.push_str("main thread");
    } else {
        let _ = write!(out, "thread T{}", tid);
    }
}

/// `file:line[:col]`, or `<null>` (TSan's `%S`).
fn source_location(out: &mut String, f: &Frame, with_column: bool, opts: &FormatOptions) {
    match &f.file {
        Some(file) => {
            out.push_str(strip_path_prefix(file, &opts.strip_path_prefix));
            if f.line > 0 {
                let _ = write!(out, ":{}", f.line);
                if with_column && f.column > 0 {
                    let _ = write!(out, ":{}", f.column);
                }
            }
        }
        None => out.push_str("<null>"),
    }
}

/// `(module+0xoff)` with the module's basename, or `(0xpc)` with the return address
/// itself (TSan's `%M`).
fn module_location(out: &mut String, f: &Frame) {
    if f.module.is_empty() {
        let _ = write!(out, "({})", Ptr(f.module_offset));
    } else {
        let _ = write!(out, "({}+{:#x})", basename(&f.module), f.module_offset);
    }
}

fn print_frames(out: &mut String, frames: &[Frame], opts: &FormatOptions) {
    if frames.is_empty() {
        out.push_str("    [failed to restore the stack]\n\n");
        return;
    }
    let mut i = 0;
    while i < frames.len() {
        let f = &frames[i];
        if opts.fold_std_frames && is_std_frame(f) {
            let run = frames[i..].iter().take_while(|f| is_std_frame(f)).count();
            if run >= 2 {
                let _ = writeln!(out, "    ... {} frames in std", run);
                i += run;
                continue;
            }
        }
        let _ = write!(out, "    #{} ", i);
        out.push_str(
            f.function
                .as_deref()
                .map(strip_function_name)
                .unwrap_or("<null>"),
        );
        out.push(' ');
        source_location(out, f, true, opts);
        out.push(' ');
        module_location(out, f);
        out.push('\n');
        i += 1;
    }
    out.push('\n');
}

fn print_stack(
    out: &mut String,
    stack: Option<&[u64]>,
    sym: &mut Symbolizer,
    opts: &FormatOptions,
) {
    let frames = match stack {
        Some(s) => resolve_stack(s, sym, opts),
        None => Vec::new(),
    };
    print_frames(out, &frames, opts);
}

/// TSan's `MopDesc`.
pub fn access_desc(first: bool, kind: AccessKind) -> &'static str {
    match (first, kind) {
        (true, AccessKind::Write) => "Write",
        (true, AccessKind::Read) => "Read",
        (true, AccessKind::AtomicWrite) => "Atomic write",
        (true, AccessKind::AtomicRead) => "Atomic read",
        (false, AccessKind::Write) => "Previous write",
        (false, AccessKind::Read) => "Previous read",
        (false, AccessKind::AtomicWrite) => "Previous atomic write",
        (false, AccessKind::AtomicRead) => "Previous atomic read",
    }
}

fn print_access(
    out: &mut String,
    a: &Access,
    first: bool,
    sym: &mut Symbolizer,
    opts: &FormatOptions,
) {
    let _ = write!(
        out,
        "  {} of size {} at {} by ",
        access_desc(first, a.kind),
        a.size,
        Ptr(a.addr)
    );
    thread_name(out, a.thread);
    for (i, &(id, write)) in a.mutexes.iter().enumerate() {
        out.push_str(if i == 0 { " (mutexes:" } else { "," });
        let _ = write!(out, " {} M{}", if write { "write" } else { "read" }, id);
    }
    if !a.mutexes.is_empty() {
        out.push(')');
    }
    out.push_str(":\n");
    print_stack(out, a.stack.as_deref(), sym, opts);
}

fn print_location(out: &mut String, loc: &Location, sym: &mut Symbolizer, opts: &FormatOptions) {
    match loc {
        Location::None => {}
        Location::Global { addr } => {
            if let Some(g) = sym.global_symbol(*addr) {
                let _ = write!(out, "  Location is global '{}' ", g.name);
                if g.size != 0 {
                    let _ = write!(out, "of size {} ", g.size);
                }
                let _ = write!(
                    out,
                    "at {} ({}+{:#x})\n\n",
                    Ptr(g.start),
                    basename(&g.module),
                    g.module_offset
                );
            }
        }
        Location::Heap {
            block,
            size,
            thread,
            stack,
        } => {
            let _ = write!(
                out,
                "  Location is heap block of size {} at {} allocated by ",
                size,
                Ptr(*block)
            );
            thread_name(out, *thread);
            out.push_str(":\n");
            print_stack(out, Some(stack), sym, opts);
        }
        Location::Stack { thread } => {
            out.push_str("  Location is stack of ");
            thread_name(out, *thread);
            out.push_str(".\n\n");
        }
        Location::Tls { thread } => {
            out.push_str("  Location is TLS of ");
            thread_name(out, *thread);
            out.push_str(".\n\n");
        }
        Location::Fd {
            fd,
            thread,
            stack,
            destroyed,
        } => {
            let _ = write!(
                out,
                "  Location is file descriptor {} {} by ",
                fd,
                if *destroyed { "destroyed" } else { "created" }
            );
            thread_name(out, *thread);
            out.push_str(" at:\n");
            print_stack(out, Some(stack), sym, opts);
        }
    }
}

/// The frame the SUMMARY line names: the first non-hidden frame of the summary
/// stack (TSan's `ChooseSummaryStack` + `SkipTsanInternalFrames`: a race's current
/// access, else the first stack, mutex or thread); with `fold_std_frames`, the
/// first one that is not a std frame, if there is one.
pub fn summary_frame(r: &Report, sym: &mut Symbolizer, opts: &FormatOptions) -> Option<Frame> {
    let stack = r.summary_stack()?;
    let frames = stack
        .iter()
        .take_while(|&&pc| pc != 0)
        .flat_map(|&pc| symbolize_return_address(sym, pc));
    choose_summary_frame(frames, opts)
}

/// [`summary_frame`]'s choice among the symbolized frames (innermost first).
fn choose_summary_frame(
    frames: impl Iterator<Item = Frame>,
    opts: &FormatOptions,
) -> Option<Frame> {
    let mut first = None;
    for f in frames.filter(|f| !(opts.hide_frame)(f)) {
        if !(opts.fold_std_frames && is_std_frame(&f)) {
            return Some(f);
        }
        first.get_or_insert(f);
    }
    first
}

/// The whole SUMMARY line without its newline:
/// `SUMMARY: ThreadSanitizer: data race FILE:LINE[:COL] in FUNC` (a frame without a
/// file gives `(module+0xoff)` instead of the location, one without a function no
/// `in FUNC`). Empty when the summary stack has no (non-hidden) frame, in which case
/// TSan prints no SUMMARY line either.
pub fn summary_line(r: &Report, sym: &mut Symbolizer, opts: &FormatOptions) -> String {
    let Some(f) = summary_frame(r, sym, opts) else {
        return String::new();
    };
    let mut out = String::new();
    let _ = write!(out, "SUMMARY: ThreadSanitizer: {} ", r.kind.as_str());
    summary_location(&mut out, &f, opts);
    out
}

/// The SUMMARY line's `%L %F` part for frame `f`.
fn summary_location(out: &mut String, f: &Frame, opts: &FormatOptions) {
    // sanitizer_common's "%L %F".
    if f.file.is_some() {
        source_location(out, f, SUMMARY_WITH_COLUMN, opts);
    } else if !f.module.is_empty() {
        let _ = write!(
            out,
            "({}+{:#x})",
            strip_path_prefix(&f.module, &opts.strip_path_prefix),
            f.module_offset
        );
    } else {
        out.push_str("(<unknown module>)");
    }
    out.push(' ');
    if let Some(func) = &f.function {
        out.push_str("in ");
        out.push_str(strip_function_name(func));
    }
}

fn print_thread(out: &mut String, t: &ThreadDesc, sym: &mut Symbolizer, opts: &FormatOptions) {
    let _ = write!(out, "  Thread T{}", t.id);
    if let Some(name) = t.name.as_deref().filter(|n| !n.is_empty()) {
        let _ = write!(out, " '{}'", name);
    }
    let _ = write!(
        out,
        " (tid={}, {}) created by ",
        t.os_tid,
        if t.running { "running" } else { "finished" }
    );
    thread_name(out, t.parent);
    if !t.stack.is_empty() {
        out.push_str(" at:");
    }
    out.push('\n');
    print_stack(out, Some(&t.stack), sym, opts);
}

/// A lock-order inversion's cycle (TSan's `PrintReport` for `ReportTypeDeadlock`):
/// the cycle on one line, then per edge the thread and stack that acquired its
/// second mutex while holding its first, and where the first was acquired when the
/// report has two stacks per edge (`second_deadlock_stack`), else after the first
/// edge a hint naming that option.
fn print_cycle(out: &mut String, r: &Report, sym: &mut Symbolizer, opts: &FormatOptions) {
    let n = r.mutexes.len();
    if n == 0 {
        return;
    }
    out.push_str("  Cycle in lock order graph: ");
    for m in &r.mutexes {
        let _ = write!(out, "M{} ({}) => ", m.id, Ptr(m.addr));
    }
    let _ = write!(out, "M{}\n\n", r.mutexes[0].id);
    let second = r.stacks.len() == 2 * n;
    for i in 0..n {
        let (from, to) = (&r.mutexes[i], &r.mutexes[(i + 1) % n]);
        let _ = write!(
            out,
            "  Mutex M{} acquired here while holding mutex M{} in ",
            to.id, from.id
        );
        thread_name(out, r.cycle_threads.get(i).copied().unwrap_or(0));
        out.push_str(":\n");
        if second {
            print_stack(out, r.stacks.get(2 * i).map(Vec::as_slice), sym, opts);
            let _ = writeln!(
                out,
                "  Mutex M{} previously acquired by the same thread here:",
                from.id
            );
            print_stack(out, r.stacks.get(2 * i + 1).map(Vec::as_slice), sym, opts);
        } else {
            print_stack(out, r.stacks.get(i).map(Vec::as_slice), sym, opts);
            if i == 0 {
                out.push_str(
                    "    HINT: use TSAN_OPTIONS=second_deadlock_stack=1 \
                     to get more informative warning message\n\n",
                );
            }
        }
    }
}

/// The message with which TSan stops the process when a thread ends with an
/// ignore annotation still open (`ThreadCheckIgnore`): which thread (`None`: the
/// main thread; else its id and creation stack), then each stack where an ignore
/// still open began.
pub fn format_ignores_enabled(
    thread: Option<(u32, &[u64])>,
    begun_at: &[Vec<u64>],
    sym: &mut Symbolizer,
    opts: &FormatOptions,
) -> String {
    let mut out = String::new();
    match thread {
        None => out.push_str("ThreadSanitizer: main thread finished with ignores enabled\n"),
        Some((tid, created)) => {
            // TSan prints the thread's name between the two spaces (empty when unnamed).
            let _ = writeln!(
                out,
                "ThreadSanitizer: thread T{}  finished with ignores enabled, created at:",
                tid
            );
            print_stack(&mut out, Some(created), sym, opts);
        }
    }
    out.push_str("  One of the following ignores was not ended (in order of probability)\n");
    for s in begun_at {
        out.push_str("  Ignore was enabled at:\n");
        print_stack(&mut out, Some(s), sym, opts);
    }
    out
}

/// Formats `r` exactly as ThreadSanitizer prints it (`PrintReport`), from the
/// opening to the closing `==================` line (newline-terminated).
pub fn format_text(r: &Report, sym: &mut Symbolizer, opts: &FormatOptions) -> String {
    let mut out = String::with_capacity(1024);
    out.push_str("==================\n");
    let _ = writeln!(
        out,
        "WARNING: ThreadSanitizer: {} (pid={})",
        r.kind.as_str(),
        r.pid
    );
    if let Some(sig) = r.signal {
        let _ = writeln!(out, "  Signal {} handler invoked at:", sig);
    }
    if r.kind.is_deadlock() {
        print_cycle(&mut out, r, sym, opts);
    } else {
        for (i, s) in r.stacks.iter().enumerate() {
            if i > 0 {
                out.push_str("  and:\n");
            }
            print_stack(&mut out, Some(s), sym, opts);
        }
    }
    for (i, a) in r.accesses.iter().enumerate() {
        print_access(&mut out, a, i == 0, sym, opts);
    }
    if let Some(s) = &r.sleep_stack {
        out.push_str("  As if synchronized via sleep:\n");
        print_stack(&mut out, Some(s), sym, opts);
    }
    print_location(&mut out, &r.location, sym, opts);
    for m in r.mutexes.iter().filter(|_| !r.kind.is_deadlock()) {
        let _ = writeln!(out, "  Mutex M{} ({}) created at:", m.id, Ptr(m.addr));
        print_stack(&mut out, Some(&m.stack), sym, opts);
    }
    for t in r.threads.iter().filter(|t| t.id != 0) {
        print_thread(&mut out, t, sym, opts);
    }
    if r.kind == ReportKind::ThreadLeak && r.count > 1 {
        let _ = write!(out, "  And {} more similar thread leaks.\n\n", r.count - 1);
    }
    let summary = summary_line(r, sym, opts);
    if !summary.is_empty() {
        out.push_str(&summary);
        out.push('\n');
    }
    out.push_str("==================\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_and_name_stripping() {
        assert_eq!(strip_path_prefix("/home/u/src/a.c", "/home/u/"), "src/a.c");
        assert_eq!(
            strip_path_prefix("/x/home/u/src/a.c", "/home/u/"),
            "src/a.c"
        ); // strstr, not prefix
        assert_eq!(strip_path_prefix("./a.c", ""), "a.c");
        assert_eq!(strip_path_prefix("/a.c", "/zzz"), "/a.c");
        assert_eq!(strip_function_name("__interceptor_malloc"), "malloc");
        assert_eq!(strip_function_name("___interceptor_free"), "free");
        assert_eq!(strip_function_name("main"), "main");
        assert_eq!(basename("/a/b/exe"), "exe");
        assert_eq!(basename("exe"), "exe");
    }

    #[test]
    fn pointer_format() {
        assert_eq!(alloc::format!("{}", Ptr(0x7b0400000000)), "0x7b0400000000");
        assert_eq!(alloc::format!("{}", Ptr(0x404028)), "0x000000404028");
        assert_eq!(alloc::format!("{}", Ptr(0)), "0x000000000000");
    }

    fn frame_at(function: Option<&str>, file: Option<&str>, offset: u64) -> Frame {
        Frame {
            function: function.map(String::from),
            file: file.map(String::from),
            line: if file.is_some() { 7 } else { 0 },
            column: 0,
            module: String::from("/bin/app"),
            module_offset: offset,
        }
    }

    /// A Rust thread's stack as umbra symbolizes it: the racing function, the
    /// closure, std's thread start (with `__rust_try` and trait shims), an unnamed
    /// frame, and a C-like tail.
    fn rust_thread_stack() -> Vec<Frame> {
        let names: [(Option<&str>, Option<&str>); 11] = [
            (Some("app::worker"), Some("/src/app/src/main.rs")),
            (Some("app::main::{{closure}}"), Some("/src/app/src/main.rs")),
            (Some("std::sys::backtrace::__rust_begin_short_backtrace"), Some("/rustc/x/library/std/src/sys/backtrace.rs")),
            (Some("<core::panic::unwind_safe::AssertUnwindSafe<F> as core::ops::function::FnOnce<()>>::call_once"), None),
            (Some("__rust_try"), None),
            (Some("std::panic::catch_unwind"), Some("/rustc/library/std/src/panic.rs")),
            (Some("<alloc::boxed::Box<F,A> as core::ops::function::FnOnce<Args>>::call_once"), None),
            (None, None),
            (Some("std::sys::pal::unix::thread::Thread::new::thread_start"), None),
            (Some("app::after_std"), Some("/src/app/src/main.rs")),
            (Some("main"), None),
        ];
        names
            .iter()
            .enumerate()
            .map(|(i, (f, file))| frame_at(*f, *file, 0x100 + i as u64))
            .collect()
    }

    fn printed(frames: &[Frame], fold: bool) -> String {
        let mut out = String::new();
        print_frames(
            &mut out,
            frames,
            &FormatOptions {
                fold_std_frames: fold,
                ..FormatOptions::new()
            },
        );
        out
    }

    #[test]
    fn std_frames_by_name() {
        for name in [
            "std::rt::lang_start_internal",
            "core::ops::function::FnOnce::call_once",
            "alloc::sync::Arc<T>::drop_slow",
            "<std::thread::Packet<T> as core::ops::drop::Drop>::drop",
            "<core::panic::unwind_safe::AssertUnwindSafe<F> as core::ops::function::FnOnce<()>>::call_once",
            "<alloc::boxed::Box<F,A> as core::ops::function::FnOnce<Args>>::call_once",
            "test::run_test_in_process",
            "<test::Bencher>::iter",
            "__rust_try",
        ] {
            assert!(is_std_frame(&frame_at(Some(name), None, 0)), "{name}");
        }
        // rustc's generated `main` has no source file; a C or user `main` has one.
        assert!(is_std_frame(&frame_at(Some("main"), None, 0)));
        assert!(!is_std_frame(&frame_at(
            Some("main"),
            Some("/src/app.c"),
            0
        )));
        for name in [
            "app::worker",
            "stdx::thing",
            "core_affinity::set",
            "<app::S as core::ops::drop::Drop>::drop",
            "<F as core::ops::function::FnOnce<()>>::call_once",
            "testing::helper",
            "pthread_mutex_lock",
        ] {
            assert!(!is_std_frame(&frame_at(Some(name), None, 0)), "{name}");
        }
        assert!(!is_std_frame(&frame_at(None, None, 0)));
        // Shims named after the user's type but compiled from std's sources.
        let shim = Some("<fn() as core::ops::function::FnOnce<()>>::call_once");
        for file in [
            "/root/.rustup/toolchains/nightly/lib/rustlib/src/rust/library/core/src/ops/function.rs",
            "/rustc/e50aa6fba4e6/library/core/src/ops/function.rs",
        ] {
            assert!(is_std_frame(&frame_at(shim, Some(file), 0)), "{file}");
        }
        assert!(!is_std_frame(&frame_at(
            shim,
            Some("/home/u/library/src/lib.rs"),
            0
        )));
        assert!(!is_std_frame(&frame_at(
            Some("app::f"),
            Some("/home/u/rustc/library/a.rs"),
            0
        )));
    }

    #[test]
    fn folding_keeps_user_frames_and_their_numbers() {
        let frames = rust_thread_stack();
        assert_eq!(
            printed(&frames, true),
            "    #0 app::worker /src/app/src/main.rs:7 (app+0x100)\n\
             \x20   #1 app::main::{{closure}} /src/app/src/main.rs:7 (app+0x101)\n\
             \x20   ... 5 frames in std\n\
             \x20   #7 <null> <null> (app+0x107)\n\
             \x20   #8 std::sys::pal::unix::thread::Thread::new::thread_start <null> (app+0x108)\n\
             \x20   #9 app::after_std /src/app/src/main.rs:7 (app+0x109)\n\
             \x20   #10 main <null> (app+0x10a)\n\
             \n"
        );
    }

    #[test]
    fn folding_off_prints_every_frame() {
        let frames = rust_thread_stack();
        let text = printed(&frames, false);
        assert!(!text.contains("frames in std"), "{text}");
        assert_eq!(
            text.lines().filter(|l| l.starts_with("    #")).count(),
            frames.len(),
            "{text}"
        );
    }

    #[test]
    fn folding_at_the_top_and_bottom_of_a_stack() {
        let std_frame = |i: u64| frame_at(Some("core::ptr::write"), None, i);
        let user = frame_at(Some("app::f"), Some("/a.rs"), 9);
        let main = frame_at(Some("main"), None, 5);
        let frames = [
            std_frame(0),
            std_frame(1),
            std_frame(2),
            user.clone(),
            std_frame(4),
            main,
        ];
        assert_eq!(
            printed(&frames, true),
            "    ... 3 frames in std\n    #3 app::f /a.rs:7 (app+0x9)\n    ... 2 frames in std\n\n"
        );
        // Only std frames: one line.
        assert_eq!(printed(&frames[..3], true), "    ... 3 frames in std\n\n");
        assert_eq!(printed(&[], true), "    [failed to restore the stack]\n\n");
    }

    #[test]
    fn summary_frame_skips_std_frames_when_folding() {
        let hide_runtime = |f: &Frame| f.function.as_deref() == Some("app::hidden");
        let frames = || {
            let mut v = alloc::vec![frame_at(Some("app::hidden"), None, 0)];
            v.push(frame_at(Some("<alloc::vec::Vec<T>>::push"), None, 1));
            v.push(frame_at(Some("core::ptr::write"), None, 2));
            v.push(frame_at(Some("app::worker"), Some("/a.rs"), 3));
            v.into_iter()
        };
        let opts = |fold| FormatOptions {
            hide_frame: hide_runtime,
            fold_std_frames: fold,
            ..FormatOptions::new()
        };
        let pick = |fold| choose_summary_frame(frames(), &opts(fold)).and_then(|f| f.function);
        assert_eq!(pick(false).as_deref(), Some("<alloc::vec::Vec<T>>::push"));
        assert_eq!(pick(true).as_deref(), Some("app::worker"));
        // A stack of std frames only: the first of them, as without folding.
        let only_std = frames().take(3);
        assert_eq!(
            choose_summary_frame(only_std, &opts(true))
                .and_then(|f| f.function)
                .as_deref(),
            Some("<alloc::vec::Vec<T>>::push")
        );
    }

    #[test]
    fn runtime_frames_are_hidden_but_user_crates_named_umbra_are_not() {
        let frame = |module: &str, function: &str| Frame {
            function: Some(String::from(function)),
            file: None,
            line: 0,
            column: 0,
            module: String::from(module),
            module_offset: 0,
        };
        for f in [
            frame("/bin/app", "umbra_ffi::entry::access_slow"),
            frame("/bin/app", "<umbra_ffi::trace::DepotInner>::intern"),
            frame(
                "/bin/app",
                "<umbra_sys::SpinMutex<T> as core::ops::Drop>::drop",
            ),
            frame("/bin/app", "<T as umbra_report::Trait>::f"),
            frame("/bin/app", "__tsan_write8"),
            frame("/bin/app", "__umbra_rt_memcpy"),
            frame("/opt/libumbra.so", "anything"),
        ] {
            assert!(hide_runtime_frames(&f), "{:?}", f.function);
        }
        for f in [
            frame("/bin/app", "umbra_app::worker"),
            frame("/bin/app", "<umbra_game::World>::tick"),
            frame("/bin/app", "umbra"),
            frame("/bin/app", "main"),
        ] {
            assert!(!hide_runtime_frames(&f), "{:?}", f.function);
        }
    }
}
