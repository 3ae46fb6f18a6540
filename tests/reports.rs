//! End-to-end tests of umbra's reports, options and suppressions.
//!
//! Each test compiles a small C program from `tests/reports/` with
//! `gcc -fsanitize=thread -g -O1 -pthread` (into `target/reports-c/`), runs it with
//! `LD_PRELOAD=target/umbra-test-rt/libumbra.so` (the runtime `common::toolchain` builds)
//! and checks its stderr, stdout and exit code against ThreadSanitizer's report format.
//!
//! No line number is written here: the C sources mark the lines that matter with
//! `// @name` comments (`// @cur`, `// @prev`, `// @alloc`, ...) and the tests look them
//! up with [`Source::line`]. Addresses, pids and tids are checked by shape.
//!
//! In the racy programs the two accesses are ordered by a relaxed atomic flag (or a
//! sleep), which orders them in time without synchronizing them, so every run reports
//! the same race with the same current/previous roles.

mod common;

use std::collections::HashMap;
use std::fmt::Display;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::{Map, Value};

use common::exec::{self, run_checked, Output, Status};
use common::toolchain::{rust_binaries, target_dir, umbra_runtime, workspace_dir, Runtime};

/// A test program is killed after this long (they all take well under a second).
const RUN_TIMEOUT: Duration = Duration::from_secs(60);
const COMPILE_TIMEOUT: Duration = Duration::from_secs(120);
const SEPARATOR: &str = "==================";
const WARNING: &str = "WARNING: ThreadSanitizer: ";
const SUMMARY: &str = "SUMMARY: ThreadSanitizer: ";
const REPORTED: &str = "ThreadSanitizer: reported ";
/// TSan's default `exitcode`.
const RACE_EXIT: i32 = 66;

// ---------------------------------------------------------------------------------------
// Sources and their `// @marker` lines

struct Source {
    path: PathBuf,
    text: String,
}

impl Source {
    /// `tests/reports/NAME.c`.
    fn c(name: &str) -> Source {
        Source::load(
            workspace_dir()
                .join("tests/reports")
                .join(format!("{name}.c")),
        )
    }

    fn load(path: PathBuf) -> Source {
        let text =
            fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        Source { path, text }
    }

    /// The path as gcc recorded it in DWARF (we compile absolute paths).
    fn path_str(&self) -> String {
        self.path.display().to_string()
    }

    fn file_name(&self) -> &str {
        self.path.file_name().and_then(|n| n.to_str()).unwrap()
    }

    /// The 1-based line carrying `// @marker` (exactly one must).
    fn line(&self, marker: &str) -> u32 {
        self.unique_line(|line| has_marker(line, marker), &format!("`// @{marker}`"))
    }

    /// The 1-based line containing `needle` (exactly one must).
    fn line_containing(&self, needle: &str) -> u32 {
        self.unique_line(|line| line.contains(needle), &format!("{needle:?}"))
    }

    fn unique_line(&self, pred: impl Fn(&str) -> bool, what: &str) -> u32 {
        let hits: Vec<u32> = (1..)
            .zip(self.text.lines())
            .filter(|(_, line)| pred(line))
            .map(|(n, _)| n)
            .collect();
        match hits[..] {
            [n] => n,
            [] => panic!("{}: no line with {what}", self.path.display()),
            _ => panic!(
                "{}: several lines with {what}: {hits:?}",
                self.path.display()
            ),
        }
    }
}

/// Whether `line` ends with a `// @a @b ...` comment naming `marker`.
fn has_marker(line: &str, marker: &str) -> bool {
    let Some((_, comment)) = line.rsplit_once("// ") else {
        return false;
    };
    comment
        .split_whitespace()
        .any(|word| word.strip_prefix('@') == Some(marker))
}

// ---------------------------------------------------------------------------------------
// Building

#[derive(Clone, Copy, PartialEq, Eq)]
enum Build {
    /// `-g -O1`: the normal build.
    Debug,
    /// `-g0 -O1`: symbol table, no DWARF.
    NoDebug,
    /// The `NoDebug` binary after `strip -s`: no symbols at all.
    Stripped,
}

/// The binary of `tests/reports/NAME.c` in the given flavour, built once per process.
fn c_program(name: &str, build: Build) -> PathBuf {
    // The runtime first: a failure to build it should say so, not show up as a run.
    umbra_runtime().unwrap_or_else(|e| panic!("{e}"));
    let suffix = match build {
        Build::Debug => "",
        Build::NoDebug => "-g0",
        Build::Stripped => "-stripped",
    };
    let key = format!("{name}{suffix}");
    type Slot = Arc<OnceLock<Result<PathBuf, String>>>;
    static BINARIES: OnceLock<Mutex<HashMap<String, Slot>>> = OnceLock::new();
    let slot = Arc::clone(
        BINARIES
            .get_or_init(Default::default)
            .lock()
            .unwrap()
            .entry(key.clone())
            .or_default(),
    );
    slot.get_or_init(|| {
        let dir = target_dir().join("reports-c");
        fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let out = dir.join(&key);
        match build {
            Build::Debug => gcc(name, &["-g"], &out)?,
            Build::NoDebug => gcc(name, &["-g0"], &out)?,
            Build::Stripped => {
                let unstripped = c_program(name, Build::NoDebug);
                fs::copy(&unstripped, &out)
                    .map_err(|e| format!("copying to {}: {e}", out.display()))?;
                let mut cmd = Command::new("strip");
                cmd.arg("-s").arg(&out);
                run_checked(
                    &mut cmd,
                    COMPILE_TIMEOUT,
                    &format!("stripping {}", out.display()),
                )?;
            }
        }
        Ok(out)
    })
    .clone()
    .unwrap_or_else(|e| panic!("{e}"))
}

fn gcc(name: &str, debug_flags: &[&str], out: &Path) -> Result<(), String> {
    let source = Source::c(name).path;
    let mut cmd = Command::new("gcc");
    cmd.args(["-fsanitize=thread", "-O1", "-pthread"])
        .args(debug_flags)
        .arg(&source)
        .arg("-o")
        .arg(out);
    run_checked(
        &mut cmd,
        COMPILE_TIMEOUT,
        &format!("compiling {}", source.display()),
    )?;
    Ok(())
}

/// A fresh empty directory `target/reports-tmp/NAME-PID` for a test's files.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = target_dir()
        .join("reports-tmp")
        .join(format!("{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    dir
}

// ---------------------------------------------------------------------------------------
// Running

struct Run {
    /// What was run, for failure messages.
    what: String,
    binary: PathBuf,
    out: Output,
}

/// Runs a C program under umbra (`LD_PRELOAD`) with `env` on top of a scrubbed
/// environment (no inherited TSAN_OPTIONS/UMBRA_OPTIONS).
fn run_umbra(binary: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let rt = umbra_runtime().unwrap_or_else(|e| panic!("{e}"));
    let mut cmd = Command::new(binary);
    cmd.args(args)
        .env_remove("TSAN_OPTIONS")
        .env_remove("UMBRA_OPTIONS")
        .env("LD_PRELOAD", rt.join("libumbra.so"));
    run_cmd(cmd, binary, args, env)
}

/// Runs a binary with umbra linked in (the Rust corpus).
fn run_linked(binary: &Path, env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(binary);
    cmd.env_remove("TSAN_OPTIONS")
        .env_remove("UMBRA_OPTIONS")
        .env_remove("LD_PRELOAD");
    run_cmd(cmd, binary, &[], env)
}

fn run_cmd(mut cmd: Command, binary: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    for (key, value) in env {
        cmd.env(key, value);
    }
    let what = format!(
        "{}{}{}",
        env.iter()
            .map(|(k, v)| format!("{k}={v} "))
            .collect::<String>(),
        binary.display(),
        args.iter().map(|a| format!(" {a}")).collect::<String>()
    );
    let out = exec::run(&mut cmd, RUN_TIMEOUT).unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    Run {
        what,
        binary: binary.to_owned(),
        out,
    }
}

impl Run {
    /// The run, for failure messages.
    fn context(&self) -> String {
        format!(
            "--- run: {} ({})\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.what,
            self.out.status,
            self.out.stdout,
            exec::tail(&self.out.stderr, 200)
        )
    }

    #[track_caller]
    fn check(&self, ok: bool, message: impl Display) {
        if !ok {
            panic!("{message}\n{}", self.context());
        }
    }

    #[track_caller]
    fn fail(&self, message: impl Display) -> ! {
        panic!("{message}\n{}", self.context());
    }

    #[track_caller]
    fn expect_exit(&self, code: i32) {
        self.check(
            self.out.status == Status::Exited(code),
            format!("expected exit code {code}, got {}", self.out.status),
        );
    }

    /// File name of the binary (what frames show as the module).
    fn module(&self) -> String {
        self.binary
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }

    fn stderr(&self) -> &str {
        &self.out.stderr
    }

    /// The reports on stderr, parsed strictly.
    #[track_caller]
    fn reports(&self) -> Vec<Report> {
        parse_reports(&self.out.stderr).unwrap_or_else(|e| self.fail(e))
    }

    /// N of `ThreadSanitizer: reported N warnings`, if printed.
    fn reported(&self) -> Option<usize> {
        reported(&self.out.stderr)
    }

    /// Exactly one report and `reported 1 warnings`.
    #[track_caller]
    fn single_report(&self) -> Report {
        let mut reports = self.reports();
        self.check(
            reports.len() == 1,
            format!("expected exactly 1 report, got {}", reports.len()),
        );
        self.check(
            self.reported() == Some(1),
            "expected `ThreadSanitizer: reported 1 warnings`",
        );
        reports.pop().unwrap()
    }

    /// No report at all and no `reported N warnings` line.
    #[track_caller]
    fn expect_no_report(&self) {
        self.check(
            !self.out.stderr.contains(WARNING) && self.reported().is_none(),
            "expected no report",
        );
    }

    /// A stack frame at `// @marker` of `src` in `function`, from this run's binary.
    #[track_caller]
    fn expect_frame(&self, frame: Option<&Frame>, function: &str, src: &Source, marker: &str) {
        self.expect_frame_at(frame, function, &src.path_str(), src.line(marker), marker);
    }

    #[track_caller]
    fn expect_frame_at(
        &self,
        frame: Option<&Frame>,
        function: &str,
        file: &str,
        line: u32,
        what: &str,
    ) {
        let Some(frame) = frame else {
            self.fail(format!(
                "missing frame: expected {function} at {file}:{line} ({what})"
            ));
        };
        let module = self.module();
        self.check(
            frame.function == function
                && frame.file.as_deref() == Some(file)
                && frame.line == line
                && frame.column > 0
                && frame.module == module
                && frame.offset > 0,
            format!(
                "frame `{}`: expected `{function} {file}:{line}:<col> ({module}+0x...)` ({what})",
                frame.raw
            ),
        );
    }
}

fn reported(stderr: &str) -> Option<usize> {
    stderr.lines().find_map(|line| {
        line.strip_prefix(REPORTED)?
            .strip_suffix(" warnings")?
            .parse()
            .ok()
    })
}

// ---------------------------------------------------------------------------------------
// Parsing reports

#[derive(Clone, Debug)]
struct Frame {
    raw: String,
    function: String,
    /// `None` for `<null>`.
    file: Option<String>,
    line: u32,
    /// 0 when the frame shows `file:line` only.
    column: u32,
    /// The module's file name (`prog` of `(prog+0x...)`); empty for `(0x...)`.
    module: String,
    offset: u64,
}

/// `#N function file:line:col (module+0xoff)`, `#N function <null> (module+0xoff)`.
fn parse_frame(line: &str) -> Option<Frame> {
    let raw = line.trim().to_owned();
    let (index, rest) = raw.strip_prefix('#')?.split_once(' ')?;
    index.parse::<usize>().ok()?;
    let (rest, module_part) = rest.strip_suffix(')')?.rsplit_once(" (")?;
    let (module, offset) = match module_part.rsplit_once("+0x") {
        Some((module, offset)) => (module.to_owned(), hex_digits(offset)?),
        None => (String::new(), parse_hex(module_part)?),
    };
    let (function, location) = rest.rsplit_once(' ')?;
    let (file, line, column) = if location == "<null>" {
        (None, 0, 0)
    } else {
        let parts: Vec<&str> = location.rsplitn(3, ':').collect();
        match parts[..] {
            [col, line, file] if col.parse::<u32>().is_ok() && line.parse::<u32>().is_ok() => {
                (Some(file.to_owned()), line.parse().ok()?, col.parse().ok()?)
            }
            _ => {
                let (file, line) = location.rsplit_once(':')?;
                (Some(file.to_owned()), line.parse().ok()?, 0)
            }
        }
    };
    Some(Frame {
        function: function.to_owned(),
        file,
        line,
        column,
        module,
        offset,
        raw,
    })
}

/// `0x` + lowercase hex digits.
fn parse_hex(text: &str) -> Option<u64> {
    hex_digits(text.strip_prefix("0x")?)
}

fn hex_digits(digits: &str) -> Option<u64> {
    let ok = !digits.is_empty()
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    ok.then(|| u64::from_str_radix(digits, 16).ok()).flatten()
}

/// One `  Title:` line of a report with the frames below it.
#[derive(Clone, Debug)]
struct Section {
    title: String,
    frames: Vec<Frame>,
    /// `fold_std_frames`' `    ... N frames in std` lines: (frames printed before it, N).
    folds: Vec<(usize, usize)>,
}

#[derive(Clone, Debug)]
struct Report {
    kind: String,
    pid: u32,
    sections: Vec<Section>,
    /// The SUMMARY line after `SUMMARY: ThreadSanitizer: `.
    summary: String,
}

/// One access line: `Read of size 4 at 0x... by main thread (mutexes: write M0):`.
#[derive(Debug)]
struct AccessTitle {
    previous: bool,
    /// `Read`, `write`, `Atomic read`, ... (after `Previous `).
    kind: String,
    size: u32,
    addr: u64,
    /// `main thread` or `thread T1`.
    thread: String,
    /// `write M0`, `read M1`.
    mutexes: Vec<String>,
}

fn parse_access(title: &str) -> Option<AccessTitle> {
    let (previous, rest) = match title.strip_prefix("Previous ") {
        Some(rest) => (true, rest),
        None => (false, title),
    };
    let (kind, rest) = rest.split_once(" of size ")?;
    let (size, rest) = rest.split_once(" at ")?;
    let (addr, rest) = rest.split_once(" by ")?;
    let rest = rest.strip_suffix(':')?;
    let (thread, mutexes) = match rest.split_once(" (mutexes: ") {
        Some((thread, mutexes)) => (
            thread,
            mutexes
                .strip_suffix(')')?
                .split(", ")
                .map(str::to_owned)
                .collect(),
        ),
        None => (rest, Vec::new()),
    };
    Some(AccessTitle {
        previous,
        kind: kind.to_owned(),
        size: size.parse().ok()?,
        addr: parse_hex(addr)?,
        thread: thread.to_owned(),
        mutexes,
    })
}

/// Every report in `stderr`. Strict: each `WARNING:` must sit in a block
/// `SEPARATOR / WARNING / (title, frames, blank line)+ / SUMMARY / SEPARATOR`.
fn parse_reports(stderr: &str) -> Result<Vec<Report>, String> {
    let lines: Vec<&str> = stderr.lines().collect();
    let mut reports = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(header) = line.strip_prefix(WARNING) else {
            continue;
        };
        if i == 0 || lines[i - 1] != SEPARATOR {
            return Err(format!("`{line}` is not preceded by a `{SEPARATOR}` line"));
        }
        let (kind, pid) = header
            .strip_suffix(')')
            .and_then(|h| h.rsplit_once(" (pid="))
            .ok_or_else(|| format!("malformed header `{line}`"))?;
        let pid: u32 = pid.parse().map_err(|_| format!("bad pid in `{line}`"))?;
        let mut sections: Vec<Section> = Vec::new();
        let mut j = i + 1;
        let mut expect_title = true;
        let summary = loop {
            let Some(&body) = lines.get(j) else {
                return Err(format!("report `{line}` has no SUMMARY line"));
            };
            j += 1;
            if let Some(summary) = body.strip_prefix(SUMMARY) {
                if !expect_title || sections.is_empty() {
                    return Err(format!("no blank line before `{body}`"));
                }
                break summary.to_owned();
            }
            if body.is_empty() {
                if expect_title {
                    return Err(format!(
                        "unexpected blank line in report `{line}` (line {j})"
                    ));
                }
                expect_title = true;
            } else if let Some(frame) = body.strip_prefix("    #") {
                let frame = parse_frame(&format!("#{frame}"))
                    .ok_or_else(|| format!("malformed frame `{body}`"))?;
                match sections.last_mut() {
                    Some(section) if !expect_title => section.frames.push(frame),
                    _ => return Err(format!("frame `{body}` outside a section")),
                }
            } else if let Some(n) = body
                .strip_prefix("    ... ")
                .and_then(|r| r.strip_suffix(" frames in std"))
                .and_then(|n| n.parse::<usize>().ok())
            {
                match sections.last_mut() {
                    Some(section) if !expect_title => section.folds.push((section.frames.len(), n)),
                    _ => return Err(format!("`{body}` outside a section")),
                }
            } else if body.starts_with("  ") && !body[2..].starts_with(' ') && expect_title {
                sections.push(Section {
                    title: body[2..].to_owned(),
                    frames: Vec::new(),
                    folds: Vec::new(),
                });
                expect_title = false;
            } else {
                return Err(format!("unexpected line `{body}` in report `{line}`"));
            }
        };
        if lines.get(j) != Some(&SEPARATOR) {
            return Err(format!("no `{SEPARATOR}` after the SUMMARY of `{line}`"));
        }
        reports.push(Report {
            kind: kind.to_owned(),
            pid,
            sections,
            summary,
        });
    }
    Ok(reports)
}

impl Report {
    /// Section `index` as an access (0 = current, 1 = previous).
    fn access(&self, index: usize) -> Option<(AccessTitle, &Section)> {
        let section = self.sections.get(index)?;
        Some((parse_access(&section.title)?, section))
    }

    fn section(&self, prefix: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.title.starts_with(prefix))
    }

    fn titles(&self) -> Vec<&str> {
        self.sections.iter().map(|s| s.title.as_str()).collect()
    }
}

impl Run {
    /// The current and previous access of `report`, checked for shape.
    #[track_caller]
    fn accesses<'r>(
        &self,
        report: &'r Report,
    ) -> ((AccessTitle, &'r Section), (AccessTitle, &'r Section)) {
        let current = report
            .access(0)
            .unwrap_or_else(|| self.fail("the first section is not an access line"));
        let previous = report
            .access(1)
            .unwrap_or_else(|| self.fail("the second section is not an access line"));
        self.check(
            !current.0.previous && previous.0.previous,
            "expected the current access first, then `Previous ...`",
        );
        (current, previous)
    }

    /// `Thread T1 (tid=N, running|finished) created by main thread at:` with its
    /// creation stack's #0 at `// @marker`.
    #[track_caller]
    fn expect_thread(&self, report: &Report, id: &str, function: &str, src: &Source, marker: &str) {
        let prefix = format!("Thread {id} (tid=");
        let section = report
            .section(&prefix)
            .unwrap_or_else(|| self.fail(format!("no `{prefix}...` section")));
        let rest = &section.title[prefix.len()..];
        let shape_ok = rest.split_once(", ").is_some_and(|(tid, rest)| {
            tid.parse::<u32>().is_ok_and(|t| t > 0)
                && (rest == "running) created by main thread at:"
                    || rest == "finished) created by main thread at:")
        });
        self.check(
            shape_ok,
            format!("malformed thread line `{}`", section.title),
        );
        self.expect_frame(section.frames.first(), function, src, marker);
    }
}

// ---------------------------------------------------------------------------------------
// 1. A full report

#[test]
fn report_with_mutexes_location_thread_and_summary() {
    let src = Source::c("mutexes");
    let run = run_umbra(&c_program("mutexes", Build::Debug), &[], &[]);
    run.expect_exit(RACE_EXIT);
    run.check(
        run.out.stdout == "x=1\n",
        "the program's own output is missing",
    );
    let report = run.single_report();
    run.check(
        report.kind == "data race" && report.pid > 0,
        "expected `data race (pid=N)`",
    );

    let ((cur, cur_section), (prev, prev_section)) = run.accesses(&report);
    run.check(
        cur.kind == "Read" && cur.size == 4 && cur.thread == "main thread",
        format!("current access: {cur:?}"),
    );
    run.check(
        prev.kind == "write" && prev.size == 4 && prev.thread == "thread T1",
        format!("previous access: {prev:?}"),
    );
    run.check(
        cur.addr == prev.addr,
        "the two accesses name different addresses",
    );
    run.check(
        cur.mutexes == ["write M0"] && prev.mutexes == ["write M1"],
        format!(
            "expected `(mutexes: write M0)` and `(mutexes: write M1)`, got {:?} and {:?}",
            cur.mutexes, prev.mutexes
        ),
    );
    run.expect_frame(cur_section.frames.first(), "main", &src, "cur");
    run.expect_frame(prev_section.frames.first(), "worker", &src, "prev");

    let location = format!(
        "Location is global 'x' of size 4 at {:#x} (mutexes+0x",
        cur.addr
    );
    run.check(
        report
            .section(&location)
            .is_some_and(|s| s.title.ends_with(')') && s.frames.is_empty()),
        format!("no `{location}...)` line"),
    );

    // M0 was made by pthread_mutex_init; M1 is statically initialized, so it is
    // created where it was first locked.
    let mut mutex_addrs = Vec::new();
    for (id, function, marker) in [("M0", "main", "init0"), ("M1", "worker", "lock1")] {
        let prefix = format!("Mutex {id} (");
        let section = report
            .section(&prefix)
            .unwrap_or_else(|| run.fail(format!("no `Mutex {id} (0x...) created at:` section")));
        let addr = section.title[prefix.len()..]
            .strip_suffix(") created at:")
            .and_then(parse_hex);
        run.check(
            addr.is_some(),
            format!("malformed mutex line `{}`", section.title),
        );
        mutex_addrs.push(addr);
        run.expect_frame(section.frames.first(), function, &src, marker);
    }
    run.check(
        mutex_addrs[0] != mutex_addrs[1],
        "M0 and M1 have the same address",
    );
    run.expect_thread(&report, "T1", "main", &src, "create");
    run.check(
        report.section("As if synchronized via sleep").is_none(),
        "no sleep in this program, but the report mentions one",
    );

    let titles = report.titles();
    let order = [
        "Read of",
        "Previous write of",
        "Location is",
        "Mutex M0",
        "Mutex M1",
        "Thread T1",
    ];
    run.check(
        titles.len() == order.len() && titles.iter().zip(order).all(|(t, p)| t.starts_with(p)),
        format!("sections {titles:?}, expected in the order {order:?}"),
    );
    let cur_frame = &cur_section.frames[0];
    let summary = format!(
        "data race {}:{}:{} in main",
        src.path_str(),
        src.line("cur"),
        cur_frame.column
    );
    run.check(
        report.summary == summary,
        format!("expected `SUMMARY: ThreadSanitizer: {summary}`"),
    );
}

// ---------------------------------------------------------------------------------------
// 2. The previous access's full stack

#[test]
fn previous_stack_is_restored_in_full() {
    let src = Source::c("deep_stack");
    let run = run_umbra(&c_program("deep_stack", Build::Debug), &[], &[]);
    run.expect_exit(RACE_EXIT);
    let report = run.single_report();
    let ((cur, cur_section), (prev, prev_section)) = run.accesses(&report);
    run.check(
        cur.thread == "main thread" && prev.thread == "thread T1",
        "wrong threads",
    );
    run.check(
        cur_section.frames.len() == 1,
        "the current stack should be main alone",
    );
    run.expect_frame(cur_section.frames.first(), "main", &src, "cur");
    let expected = [
        ("level_c", "c"),
        ("level_b", "b"),
        ("level_a", "a"),
        ("deep_worker", "worker"),
    ];
    for (i, (function, marker)) in expected.iter().enumerate() {
        run.expect_frame(prev_section.frames.get(i), function, &src, marker);
    }
    run.check(
        prev_section.frames.len() == expected.len(),
        "the previous stack should end at the thread function",
    );
    run.expect_thread(&report, "T1", "main", &src, "create");
}

/// Millions of distinct call paths (rayon-style nested recursion) keep the call
/// tree bounded, and a later race still gets its full previous stack.
#[test]
fn call_tree_stays_bounded_under_many_paths() {
    let src = Source::c("many_paths");
    let run = run_umbra(
        &c_program("many_paths", Build::Debug),
        &[],
        &[("UMBRA_OPTIONS", "verbosity=1")],
    );
    run.expect_exit(RACE_EXIT);
    let report = run.single_report();
    let ((_, cur_section), (prev, prev_section)) = run.accesses(&report);
    run.expect_frame(cur_section.frames.first(), "main", &src, "cur");
    run.check(prev.thread == "thread T1", "wrong previous thread");
    let expected = [
        ("level_c", "c"),
        ("level_b", "b"),
        ("level_a", "a"),
        ("paths_worker", "worker"),
    ];
    for (i, (function, marker)) in expected.iter().enumerate() {
        run.expect_frame(prev_section.frames.get(i), function, &src, marker);
    }
    let nodes: usize = run
        .stderr()
        .lines()
        .find_map(|l| {
            l.strip_prefix("umbra: ")?
                .split(", ")
                .find_map(|f| f.strip_suffix(" call-tree nodes")?.parse().ok())
        })
        .unwrap_or_else(|| run.fail("no `umbra:` statistics line with call-tree nodes"));
    // Two generations of 2^20 nodes at most; unbounded, the program makes ~4 million.
    run.check(
        nodes <= 2 << 20,
        format!("call tree not bounded: {nodes} nodes"),
    );
}

/// longjmp skips `__tsan_func_exit` of the frames it leaves; umbra restores the
/// shadow stack depth recorded at setjmp, so later stacks have no stale frames.
#[test]
fn longjmp_leaves_no_stale_frames() {
    let src = Source::c("longjmp");
    let run = run_umbra(&c_program("longjmp", Build::Debug), &[], &[]);
    run.expect_exit(RACE_EXIT);
    let report = run.single_report();
    let ((cur, cur_section), (prev, prev_section)) = run.accesses(&report);
    run.check(
        cur.thread == "main thread" && prev.thread == "thread T1",
        "wrong threads",
    );
    run.expect_frame(cur_section.frames.first(), "racer", &src, "cur");
    run.expect_frame(cur_section.frames.get(1), "main", &src, "call");
    run.check(
        cur_section.frames.len() == 2,
        "the current stack should be racer <- main only",
    );
    run.expect_frame(prev_section.frames.first(), "worker", &src, "prev");
}

// ---------------------------------------------------------------------------------------
// 3. Locations

/// Runs `locations KIND` and checks both accesses; returns the run, the report and
/// the current access's address and size.
fn location_run(kind: &str, worker: &str, size: u32) -> (Source, Run, Report, u64) {
    let src = Source::c("locations");
    let run = run_umbra(&c_program("locations", Build::Debug), &[kind], &[]);
    run.expect_exit(RACE_EXIT);
    let report = run.single_report();
    let addr = {
        let ((cur, cur_section), (prev, prev_section)) = run.accesses(&report);
        run.check(
            cur.kind == "Read" && cur.size == size && cur.thread == "main thread",
            format!("current access: {cur:?}"),
        );
        run.check(
            prev.kind == "write" && prev.size == size && prev.thread == "thread T1",
            format!("previous access: {prev:?}"),
        );
        run.check(
            cur.addr == prev.addr,
            "the accesses name different addresses",
        );
        run.expect_frame(
            cur_section.frames.first(),
            "main",
            &src,
            &format!("{kind}_cur"),
        );
        run.expect_frame(
            prev_section.frames.first(),
            worker,
            &src,
            &format!("{kind}_prev"),
        );
        cur.addr
    };
    (src, run, report, addr)
}

#[test]
fn location_heap_block() {
    let (src, run, report, addr) = location_run("heap", "heap_worker", 4);
    let prefix = "Location is heap block of size 40 at ";
    let section = report
        .section(prefix)
        .unwrap_or_else(|| run.fail(format!("no `{prefix}0x... allocated by main thread:`")));
    let block = section.title[prefix.len()..]
        .strip_suffix(" allocated by main thread:")
        .and_then(parse_hex);
    run.check(
        block.is_some(),
        format!("malformed location `{}`", section.title),
    );
    run.check(
        block.map(|b| b + 8) == Some(addr),
        "the racing int is element 2 of the block: block + 8",
    );
    run.expect_frame(section.frames.first(), "main", &src, "alloc");
}

#[test]
fn location_stack_of_main_thread() {
    let (_, run, report, _) = location_run("stack", "stack_worker", 4);
    run.check(
        report
            .section("Location is ")
            .is_some_and(|s| s.title == "Location is stack of main thread." && s.frames.is_empty()),
        "expected `Location is stack of main thread.`",
    );
}

#[test]
fn location_tls_of_thread() {
    let (_, run, report, _) = location_run("tls", "tls_worker", 4);
    run.check(
        report
            .section("Location is ")
            .is_some_and(|s| s.title == "Location is TLS of thread T1." && s.frames.is_empty()),
        "expected `Location is TLS of thread T1.`",
    );
}

#[test]
fn location_global_with_name_and_size() {
    let (_, run, report, addr) = location_run("global", "global_worker", 8);
    let expected =
        format!("Location is global 'shared_counter' of size 8 at {addr:#x} (locations+0x");
    run.check(
        report
            .section(&expected)
            .is_some_and(|s| s.title.ends_with(')')),
        format!("expected `{expected}...)`"),
    );
}

// ---------------------------------------------------------------------------------------
// 4. heap-use-after-free

#[test]
fn heap_use_after_free_names_the_free() {
    let src = Source::c("use_after_free");
    let run = run_umbra(&c_program("use_after_free", Build::Debug), &[], &[]);
    run.expect_exit(RACE_EXIT);
    let report = run.single_report();
    run.check(
        report.kind == "heap-use-after-free",
        "expected `WARNING: ThreadSanitizer: heap-use-after-free`",
    );
    let ((cur, cur_section), (prev, prev_section)) = run.accesses(&report);
    run.check(
        cur.kind == "Read" && cur.size == 4 && cur.thread == "main thread",
        format!("current access: {cur:?}"),
    );
    run.check(
        prev.kind == "write" && prev.thread == "thread T1",
        format!("previous access (the free): {prev:?}"),
    );
    run.expect_frame(cur_section.frames.first(), "main", &src, "cur");
    // TSan shows `#0 free` (its interceptor) above the caller; umbra hides runtime frames.
    let free_frame = prev_section
        .frames
        .iter()
        .find(|f| f.file.as_deref() == Some(src.path_str().as_str()));
    run.expect_frame(free_frame, "freer", &src, "free");
    let prefix = "Location is heap block of size 32 at ";
    let section = report
        .section(prefix)
        .unwrap_or_else(|| run.fail(format!("no `{prefix}0x... allocated by main thread:`")));
    let block = section.title[prefix.len()..]
        .strip_suffix(" allocated by main thread:")
        .and_then(parse_hex);
    run.check(
        block.map(|b| b + 4) == Some(cur.addr),
        "the read is at block + 4",
    );
    run.expect_frame(section.frames.first(), "main", &src, "alloc");
    run.expect_thread(&report, "T1", "main", &src, "create");
    run.check(
        report.summary.starts_with("heap-use-after-free ") && report.summary.ends_with(" in main"),
        "expected `SUMMARY: ThreadSanitizer: heap-use-after-free ... in main`",
    );
}

// ---------------------------------------------------------------------------------------
// 5. As if synchronized via sleep

/// The sleep section, checked to sit between the previous access and the location.
fn sleep_section<'r>(run: &Run, report: &'r Report) -> &'r Section {
    let titles = report.titles();
    let at = titles
        .iter()
        .position(|t| *t == "As if synchronized via sleep:")
        .unwrap_or_else(|| run.fail("no `As if synchronized via sleep:` section"));
    run.check(
        at == 2 && titles.get(3).is_some_and(|t| t.starts_with("Location is")),
        format!("the sleep section should follow the previous access: {titles:?}"),
    );
    &report.sections[at]
}

/// compiler-rt's sleep_sync.cpp: the write is done before the reader's sleep starts.
#[test]
fn sleep_after_the_write_is_named() {
    let src = Source::c("sleep");
    let run = run_umbra(&c_program("sleep", Build::Debug), &["before"], &[]);
    run.expect_exit(RACE_EXIT);
    let report = run.single_report();
    let ((cur, cur_section), (prev, prev_section)) = run.accesses(&report);
    run.check(
        cur.thread == "thread T1" && prev.thread == "main thread",
        "wrong threads",
    );
    run.expect_frame(
        cur_section.frames.first(),
        "late_reader",
        &src,
        "before_cur",
    );
    run.expect_frame(prev_section.frames.first(), "main", &src, "before_prev");
    let sleep = sleep_section(&run, &report);
    run.expect_frame(sleep.frames.first(), "nap", &src, "before_sleep");
    run.expect_frame(sleep.frames.get(1), "late_reader", &src, "before_nap_call");
}

/// The usual mistake: main sleeps while the other thread writes, then reads. TSan
/// (AfterSleep) snapshots the clocks when the sleep returns, so the write made during
/// the sleep is "as if synchronized via sleep".
#[test]
fn sleep_during_the_write_is_named() {
    let src = Source::c("sleep");
    let run = run_umbra(&c_program("sleep", Build::Debug), &["during"], &[]);
    run.expect_exit(RACE_EXIT);
    let report = run.single_report();
    let ((_, cur_section), (_, prev_section)) = run.accesses(&report);
    run.expect_frame(cur_section.frames.first(), "main", &src, "during_cur");
    run.expect_frame(prev_section.frames.first(), "writer", &src, "during_prev");
    let sleep = sleep_section(&run, &report);
    run.expect_frame(sleep.frames.first(), "main", &src, "during_sleep");
}

// ---------------------------------------------------------------------------------------
// 6. Dedup

#[test]
fn racy_loop_is_reported_once() {
    let src = Source::c("dedup");
    let run = run_umbra(&c_program("dedup", Build::Debug), &["loop"], &[]);
    run.expect_exit(RACE_EXIT);
    let report = run.single_report();
    let ((_, cur_section), (_, prev_section)) = run.accesses(&report);
    run.expect_frame(cur_section.frames.first(), "looper", &src, "loop");
    run.expect_frame(prev_section.frames.first(), "looper", &src, "loop");
}

/// The same pair of source lines racing on two different variables: one report by
/// default (suppress_equal_stacks), one per address with suppress_equal_stacks=0
/// (umbra still never repeats a report for the same recorded access).
#[test]
fn suppress_equal_stacks_0_reports_each_address() {
    let src = Source::c("dedup");
    let binary = c_program("dedup", Build::Debug);
    let check_pair = |run: &Run, report: &Report| {
        let ((_, cur_section), (_, prev_section)) = run.accesses(report);
        run.expect_frame(cur_section.frames.first(), "pair_read", &src, "pair_read");
        run.expect_frame(cur_section.frames.get(1), "main", &src, "pair_main_call");
        run.expect_frame(
            prev_section.frames.first(),
            "pair_write",
            &src,
            "pair_write",
        );
        run.expect_frame(
            prev_section.frames.get(1),
            "pair_worker",
            &src,
            "pair_worker_call",
        );
    };

    let run = run_umbra(&binary, &["pairs"], &[]);
    run.expect_exit(RACE_EXIT);
    let report = run.single_report();
    check_pair(&run, &report);

    let run = run_umbra(
        &binary,
        &["pairs"],
        &[("TSAN_OPTIONS", "suppress_equal_stacks=0")],
    );
    run.expect_exit(RACE_EXIT);
    let reports = run.reports();
    run.check(
        reports.len() == 2 && run.reported() == Some(2),
        format!(
            "suppress_equal_stacks=0: expected 2 reports (one per variable), got {}",
            reports.len()
        ),
    );
    let addrs: Vec<u64> = reports
        .iter()
        .map(|r| {
            check_pair(&run, r);
            run.accesses(r).0 .0.addr
        })
        .collect();
    run.check(
        addrs[0] != addrs[1],
        "the two reports name the same address",
    );
}

// ---------------------------------------------------------------------------------------
// 7. Options

#[test]
fn option_exitcode() {
    let run = run_umbra(
        &c_program("mutexes", Build::Debug),
        &[],
        &[("TSAN_OPTIONS", "exitcode=7")],
    );
    run.expect_exit(7);
    run.single_report();
}

#[test]
fn option_halt_on_error() {
    let src = Source::c("two_races");
    let binary = c_program("two_races", Build::Debug);
    // Without it: both races, and the program runs to its end.
    let run = run_umbra(&binary, &[], &[]);
    run.expect_exit(RACE_EXIT);
    run.check(
        run.reports().len() == 2 && run.reported() == Some(2),
        "expected two reports without halt_on_error",
    );
    run.check(
        run.stderr().contains("main: after both races"),
        "the program did not finish",
    );

    let run = run_umbra(&binary, &[], &[("TSAN_OPTIONS", "halt_on_error=1")]);
    run.expect_exit(RACE_EXIT);
    let report = run.single_report();
    let ((_, cur_section), _) = run.accesses(&report);
    run.expect_frame(cur_section.frames.first(), "main", &src, "first_cur");
    run.check(
        !run.stderr().contains("main: between the races") && run.out.stdout.is_empty(),
        "halt_on_error=1: the program went on after the first report",
    );
}

#[test]
fn option_report_bugs_0() {
    let run = run_umbra(
        &c_program("mutexes", Build::Debug),
        &[],
        &[("TSAN_OPTIONS", "report_bugs=0")],
    );
    run.expect_exit(0);
    run.expect_no_report();
    run.check(
        run.out.stdout == "x=1\n",
        "the program did not run to its end",
    );
}

#[test]
fn option_log_path() {
    let dir = scratch_dir("log_path");
    let log = dir.join("log");
    let options = format!("log_path={}", log.display());
    let run = run_umbra(
        &c_program("mutexes", Build::Debug),
        &[],
        &[("TSAN_OPTIONS", &options)],
    );
    run.expect_exit(RACE_EXIT);
    run.check(
        !run.stderr().contains(WARNING) && !run.stderr().contains(REPORTED),
        "with log_path the report must not go to stderr",
    );
    let files: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    run.check(
        files.len() == 1,
        format!(
            "expected one log file in {}, found {files:?}",
            dir.display()
        ),
    );
    let text = fs::read_to_string(dir.join(&files[0])).unwrap();
    let reports =
        parse_reports(&text).unwrap_or_else(|e| run.fail(format!("log file: {e}\n{text}")));
    run.check(
        reports.len() == 1 && reported(&text) == Some(1),
        format!("the log file should hold 1 report and `reported 1 warnings`:\n{text}"),
    );
    let expected = format!("log.{}", reports[0].pid);
    run.check(
        files[0] == expected,
        format!("log file {:?}, expected {expected:?} (PATH.PID)", files[0]),
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn option_strip_path_prefix() {
    let src = Source::c("mutexes");
    let prefix = format!("{}/", src.path.parent().unwrap().display());
    let options = format!("strip_path_prefix={prefix}");
    let run = run_umbra(
        &c_program("mutexes", Build::Debug),
        &[],
        &[("TSAN_OPTIONS", &options)],
    );
    run.expect_exit(RACE_EXIT);
    let report = run.single_report();
    let ((_, cur_section), (_, prev_section)) = run.accesses(&report);
    let file = src.file_name();
    run.expect_frame_at(
        cur_section.frames.first(),
        "main",
        file,
        src.line("cur"),
        "cur",
    );
    run.expect_frame_at(
        prev_section.frames.first(),
        "worker",
        file,
        src.line("prev"),
        "prev",
    );
    run.check(
        !run.stderr().contains(&prefix),
        format!("the prefix {prefix} still appears in the report"),
    );
    run.check(
        report
            .summary
            .starts_with(&format!("data race {file}:{}:", src.line("cur"))),
        "the SUMMARY line's path is not stripped",
    );
}

#[test]
fn option_verbosity_is_accepted() {
    let binary = c_program("mutexes", Build::Debug);
    for level in ["0", "1", "2"] {
        let options = format!("verbosity={level}");
        let run = run_umbra(&binary, &[], &[("TSAN_OPTIONS", &options)]);
        run.expect_exit(RACE_EXIT);
        run.single_report();
        run.check(!run.stderr().contains("unknown flag"), "verbosity rejected");
    }
}

/// `__tsan_default_options()` (exitcode=9), then TSAN_OPTIONS, then UMBRA_OPTIONS.
#[test]
fn option_precedence_default_options_tsan_umbra() {
    let binary = c_program("default_options", Build::Debug);
    let cases: &[(&[(&str, &str)], i32)] = &[
        (&[], 9),
        (&[("TSAN_OPTIONS", "exitcode=8")], 8),
        (&[("UMBRA_OPTIONS", "exitcode=7")], 7),
        (
            &[
                ("TSAN_OPTIONS", "exitcode=8"),
                ("UMBRA_OPTIONS", "exitcode=7"),
            ],
            7,
        ),
        // Only the keys a later source sets are overridden.
        (&[("TSAN_OPTIONS", "verbosity=0")], 9),
    ];
    for (env, code) in cases {
        let run = run_umbra(&binary, &[], env);
        run.expect_exit(*code);
        run.single_report();
    }
}

/// A one-line `umbra: ...` message on stderr, exit code 1, and the program never ran.
#[track_caller]
fn expect_startup_error(run: &Run, needles: &[&str]) {
    run.expect_exit(1);
    run.check(
        run.out.stdout.is_empty(),
        "the program ran despite the error",
    );
    let lines: Vec<&str> = run.stderr().lines().collect();
    run.check(
        lines.len() == 1 && lines[0].starts_with("umbra: "),
        "expected exactly one `umbra: ...` line on stderr",
    );
    for needle in needles {
        run.check(
            lines[0].contains(needle),
            format!("the message does not contain {needle:?}"),
        );
    }
}

#[test]
fn option_unknown_flag_is_an_error() {
    // Only in UMBRA_OPTIONS: in TSAN_OPTIONS an unknown flag is a warning, as in TSan
    // (tests/exit_and_options.rs).
    let binary = c_program("mutexes", Build::Debug);
    let run = run_umbra(&binary, &[], &[("UMBRA_OPTIONS", "exitcod=3")]);
    expect_startup_error(&run, &["umbra: UMBRA_OPTIONS: unknown flag 'exitcod'"]);
    let run = run_umbra(&binary, &[], &[("UMBRA_OPTIONS", "halt_on_eror=1")]);
    expect_startup_error(
        &run,
        &["umbra: UMBRA_OPTIONS: unknown flag 'halt_on_eror' (did you mean 'halt_on_error'?)"],
    );
}

#[test]
fn option_bad_value_is_an_error() {
    let binary = c_program("mutexes", Build::Debug);
    let run = run_umbra(&binary, &[], &[("TSAN_OPTIONS", "exitcode=abc")]);
    expect_startup_error(&run, &["umbra: TSAN_OPTIONS: ", "exitcode", "'abc'"]);
    let run = run_umbra(&binary, &[], &[("TSAN_OPTIONS", "halt_on_error=maybe")]);
    expect_startup_error(&run, &["umbra: TSAN_OPTIONS: ", "halt_on_error", "maybe"]);
}

#[test]
fn option_help_lists_the_flags() {
    let run = run_umbra(
        &c_program("mutexes", Build::Debug),
        &[],
        &[("TSAN_OPTIONS", "help=1")],
    );
    let flags = [
        "exitcode",
        "halt_on_error",
        "report_bugs",
        "log_path",
        "verbosity",
        "suppressions",
        "print_suppressions",
        "suppress_equal_stacks",
        "history_size",
        "strip_path_prefix",
        "atexit_sleep_ms",
        "json_path",
        "help",
    ];
    for flag in flags {
        run.check(
            run.stderr()
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{flag}="))),
            format!("help=1 does not list `{flag}=`"),
        );
    }
    // Like TSan, help=1 prints the list and runs the program.
    run.check(
        run.out.stdout == "x=1\n",
        "help=1 should not stop the program",
    );
}

// ---------------------------------------------------------------------------------------
// 8. Suppressions

/// Runs `program ARGS` with a suppressions file holding `text` (plus `extra` options).
fn run_suppressed(
    test: &str,
    program: &str,
    args: &[&str],
    text: &str,
    extra: &str,
) -> (Run, PathBuf) {
    let dir = scratch_dir(test);
    let file = dir.join("umbra.supp");
    fs::write(&file, text).unwrap();
    let options = format!("suppressions={}{extra}", file.display());
    let run = run_umbra(
        &c_program(program, Build::Debug),
        args,
        &[("TSAN_OPTIONS", &options)],
    );
    (run, file)
}

#[track_caller]
fn expect_suppressed(run: &Run) {
    run.expect_exit(0);
    run.expect_no_report();
}

#[track_caller]
fn expect_not_suppressed(run: &Run) {
    run.expect_exit(RACE_EXIT);
    run.single_report();
}

#[test]
fn suppression_race_function() {
    let (run, _) = run_suppressed("supp_race", "mutexes", &[], "race:worker\n", "");
    expect_suppressed(&run);
    run.check(
        run.out.stdout == "x=1\n",
        "the program did not run to its end",
    );
}

#[test]
fn suppression_race_top_matches_only_the_top_frame() {
    // level_c is the top frame of the previous stack: suppressed.
    let (run, _) = run_suppressed("supp_top1", "deep_stack", &[], "race_top:level_c\n", "");
    expect_suppressed(&run);
    // deep_worker is in that stack, but three frames down: not suppressed by race_top...
    let (run, _) = run_suppressed("supp_top2", "deep_stack", &[], "race_top:deep_worker\n", "");
    expect_not_suppressed(&run);
    // ...but by race.
    let (run, _) = run_suppressed("supp_top3", "deep_stack", &[], "race:deep_worker\n", "");
    expect_suppressed(&run);
}

#[test]
fn suppression_file_path_glob() {
    let (run, _) = run_suppressed(
        "supp_glob1",
        "deep_stack",
        &[],
        "race:*/reports/deep_st*.c$\n",
        "",
    );
    expect_suppressed(&run);
    // The same glob for another file does not match.
    let (run, _) = run_suppressed(
        "supp_glob2",
        "deep_stack",
        &[],
        "race:*/reports/deep_st*.h$\n",
        "",
    );
    expect_not_suppressed(&run);
}

#[test]
fn suppression_global_name() {
    let (run, _) = run_suppressed(
        "supp_global1",
        "locations",
        &["global"],
        "race:^shared_counter$\n",
        "",
    );
    expect_suppressed(&run);
    let (run, _) = run_suppressed(
        "supp_global2",
        "locations",
        &["global"],
        "race:^shared_count$\n",
        "",
    );
    expect_not_suppressed(&run);
}

#[test]
fn suppression_comments_and_blank_lines() {
    let text = "# suppressions for the mutexes test\n\n   \n  race:worker  \n# the end\n";
    let (run, _) = run_suppressed("supp_comments", "mutexes", &[], text, "");
    expect_suppressed(&run);
}

#[test]
fn suppression_print_suppressions() {
    let (run, _) = run_suppressed(
        "supp_print",
        "mutexes",
        &[],
        "race:never_matches_anything\nrace:worker\n",
        ":print_suppressions=1",
    );
    expect_suppressed(&run);
    let lines: Vec<&str> = run.stderr().lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("ThreadSanitizer: Matched 1 suppressions (pid="))
        .unwrap_or_else(|| run.fail("no `ThreadSanitizer: Matched 1 suppressions (pid=N):` line"));
    let pid_ok = lines[at]["ThreadSanitizer: Matched 1 suppressions (pid=".len()..]
        .strip_suffix("):")
        .is_some_and(|pid| pid.parse::<u32>().is_ok());
    run.check(pid_ok, format!("malformed line `{}`", lines[at]));
    run.check(
        lines.get(at + 1) == Some(&"1 race:worker"),
        "expected `1 race:worker` after the Matched line",
    );
    run.check(
        !run.stderr().contains("never_matches_anything"),
        "a suppression with no hits is listed",
    );
}

#[test]
fn suppression_missing_file_is_an_error() {
    let dir = scratch_dir("supp_missing");
    let missing = dir.join("no-such.supp");
    let options = format!("suppressions={}", missing.display());
    let run = run_umbra(
        &c_program("mutexes", Build::Debug),
        &[],
        &[("TSAN_OPTIONS", &options)],
    );
    let message = format!(
        "umbra: cannot read suppressions file '{}'",
        missing.display()
    );
    expect_startup_error(&run, &[&message]);
}

#[test]
fn suppression_malformed_line_is_an_error() {
    let text = "# fine\nrace:worker\nrase:foo\n";
    let (run, file) = run_suppressed("supp_malformed", "mutexes", &[], text, "");
    let message = format!("umbra: suppressions file '{}', line 3", file.display());
    expect_startup_error(&run, &[&message, "'rase'"]);
}

#[test]
fn suppression_from_default_suppressions() {
    let binary = c_program("default_suppressions", Build::Debug);
    let run = run_umbra(&binary, &[], &[]);
    expect_suppressed(&run);
    run.check(
        run.out.stdout == "1\n",
        "the program did not run to its end",
    );
    let run = run_umbra(&binary, &[], &[("TSAN_OPTIONS", "print_suppressions=1")]);
    expect_suppressed(&run);
    run.check(
        run.stderr()
            .lines()
            .any(|l| l == "1 race:suppressed_worker"),
        "expected `1 race:suppressed_worker` from print_suppressions=1",
    );
}

// ---------------------------------------------------------------------------------------
// 9. JSON (report/SCHEMA.md)

/// Runs with `UMBRA_OPTIONS=json_path=DIR/r.jsonl`; returns the run and the objects.
fn run_json(test: &str, program: &str, args: &[&str]) -> (Run, Vec<Value>) {
    let dir = scratch_dir(test);
    let path = dir.join("r.jsonl");
    let options = format!("json_path={}", path.display());
    let run = run_umbra(
        &c_program(program, Build::Debug),
        args,
        &[("UMBRA_OPTIONS", &options)],
    );
    let text = fs::read_to_string(&path)
        .unwrap_or_else(|e| run.fail(format!("reading {}: {e}", path.display())));
    let objects: Vec<Value> = text
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| run.fail(format!("JSON line does not parse ({e}): {line}")))
        })
        .collect();
    run.check(
        text.ends_with('\n') || text.is_empty(),
        "the JSON log does not end in a newline",
    );
    for object in &objects {
        if let Err(e) = validate_report(object) {
            run.fail(format!(
                "JSON report does not follow report/SCHEMA.md: {e}\n{object}"
            ));
        }
    }
    let _ = fs::remove_dir_all(&dir);
    (run, objects)
}

type Checked = Result<(), String>;

fn ensure(ok: bool, message: impl FnOnce() -> String) -> Checked {
    if ok {
        Ok(())
    } else {
        Err(message())
    }
}

/// `v` is an object with exactly these keys.
fn object<'v>(v: &'v Value, what: &str, keys: &[&str]) -> Result<&'v Map<String, Value>, String> {
    let map = v
        .as_object()
        .ok_or_else(|| format!("{what} is not an object: {v}"))?;
    let mut got: Vec<&str> = map.keys().map(String::as_str).collect();
    let mut want = keys.to_vec();
    got.sort_unstable();
    want.sort_unstable();
    ensure(got == want, || {
        format!("{what} has keys {got:?}, expected {want:?}")
    })?;
    Ok(map)
}

fn is_hex(v: &Value) -> bool {
    v.as_str().and_then(parse_hex).is_some() || v.as_str() == Some("0x0")
}

fn is_thread(v: &Value) -> bool {
    v.as_str().is_some_and(|t| {
        t == "main"
            || t.strip_prefix('T')
                .is_some_and(|n| n.parse::<u32>().is_ok_and(|n| n > 0))
    })
}

fn is_str_or_null(v: &Value) -> bool {
    v.is_string() || v.is_null()
}

fn validate_frame(v: &Value, what: &str) -> Checked {
    let f = object(
        v,
        what,
        &["function", "file", "line", "column", "module", "offset"],
    )?;
    ensure(
        is_str_or_null(&f["function"])
            && is_str_or_null(&f["file"])
            && f["line"].is_u64()
            && f["column"].is_u64()
            && f["module"].is_string()
            && is_hex(&f["offset"]),
        || format!("{what}: bad field types: {v}"),
    )
}

fn validate_stack(v: &Value, what: &str) -> Checked {
    let frames = v
        .as_array()
        .ok_or_else(|| format!("{what} is not an array"))?;
    for (i, frame) in frames.iter().enumerate() {
        validate_frame(frame, &format!("{what}[{i}]"))?;
    }
    Ok(())
}

fn validate_access(v: &Value, what: &str) -> Checked {
    let a = object(
        v,
        what,
        &["type", "size", "addr", "thread", "mutexes", "stack"],
    )?;
    ensure(
        matches!(
            a["type"].as_str(),
            Some("read" | "write" | "atomic read" | "atomic write")
        ),
        || format!("{what}.type: {}", a["type"]),
    )?;
    ensure(
        a["size"].as_u64().is_some_and(|s| s > 0) && is_hex(&a["addr"]) && is_thread(&a["thread"]),
        || format!("{what}: bad size/addr/thread: {v}"),
    )?;
    for (i, m) in a["mutexes"]
        .as_array()
        .ok_or_else(|| format!("{what}.mutexes is not an array"))?
        .iter()
        .enumerate()
    {
        let m = object(m, &format!("{what}.mutexes[{i}]"), &["id", "write"])?;
        ensure(
            m["id"].as_str().is_some_and(|id| {
                id.strip_prefix('M')
                    .is_some_and(|n| n.parse::<u32>().is_ok())
            }) && m["write"].is_boolean(),
            || format!("{what}.mutexes[{i}]: {}", Value::Object(m.clone())),
        )?;
    }
    if !a["stack"].is_null() {
        validate_stack(&a["stack"], &format!("{what}.stack"))?;
    }
    Ok(())
}

fn validate_location(v: &Value) -> Checked {
    if v.is_null() {
        return Ok(());
    }
    let kind = v["type"].as_str().ok_or("location.type is not a string")?;
    match kind {
        "global" => {
            let l = object(
                v,
                "location",
                &["type", "addr", "name", "size", "start", "module", "offset"],
            )?;
            ensure(is_hex(&l["addr"]), || "location.addr".into())?;
            ensure(
                (l["name"].is_string()
                    && l["size"].is_u64()
                    && is_hex(&l["start"])
                    && l["module"].is_string()
                    && is_hex(&l["offset"]))
                    || ["name", "size", "start", "module", "offset"]
                        .iter()
                        .all(|k| l[*k].is_null()),
                || format!("global location fields: {v}"),
            )
        }
        "heap" => {
            let l = object(v, "location", &["type", "addr", "size", "thread", "stack"])?;
            ensure(
                is_hex(&l["addr"]) && l["size"].is_u64() && is_thread(&l["thread"]),
                || format!("heap location fields: {v}"),
            )?;
            validate_stack(&l["stack"], "location.stack")
        }
        "stack" | "tls" => {
            let l = object(v, "location", &["type", "thread"])?;
            ensure(is_thread(&l["thread"]), || format!("location.thread: {v}"))
        }
        "fd" => {
            let l = object(
                v,
                "location",
                &["type", "fd", "destroyed", "thread", "stack"],
            )?;
            ensure(
                l["fd"].is_i64() && l["destroyed"].is_boolean() && is_thread(&l["thread"]),
                || format!("fd location fields: {v}"),
            )?;
            validate_stack(&l["stack"], "location.stack")
        }
        other => Err(format!("unknown location type {other:?}")),
    }
}

fn validate_report(v: &Value) -> Checked {
    let r = object(
        v,
        "report",
        &[
            "kind", "pid", "current", "previous", "sleep", "location", "mutexes", "threads",
            "summary", "stacks", "signal", "count", "cycle",
        ],
    )?;
    // The fields of the other report kinds are there, empty, in a race report.
    ensure(
        r["stacks"] == serde_json::json!([])
            && r["signal"].is_null()
            && r["count"] == 1
            && r["cycle"] == serde_json::json!([]),
        || {
            format!(
                "stacks/signal/count of a race: {} {} {}",
                r["stacks"], r["signal"], r["count"]
            )
        },
    )?;
    ensure(
        matches!(
            r["kind"].as_str(),
            Some("data race" | "heap-use-after-free")
        ),
        || format!("kind: {}", r["kind"]),
    )?;
    ensure(r["pid"].as_u64().is_some_and(|p| p > 0), || {
        format!("pid: {}", r["pid"])
    })?;
    validate_access(&r["current"], "current")?;
    validate_access(&r["previous"], "previous")?;
    if !r["sleep"].is_null() {
        validate_stack(&r["sleep"], "sleep")?;
    }
    validate_location(&r["location"])?;
    for (i, m) in r["mutexes"]
        .as_array()
        .ok_or("mutexes is not an array")?
        .iter()
        .enumerate()
    {
        let m = object(m, &format!("mutexes[{i}]"), &["id", "addr", "stack"])?;
        ensure(m["id"].is_string() && is_hex(&m["addr"]), || {
            format!("mutexes[{i}] fields")
        })?;
        validate_stack(&m["stack"], &format!("mutexes[{i}].stack"))?;
    }
    for (i, t) in r["threads"]
        .as_array()
        .ok_or("threads is not an array")?
        .iter()
        .enumerate()
    {
        let t = object(
            t,
            &format!("threads[{i}]"),
            &["id", "tid", "running", "name", "parent", "stack"],
        )?;
        ensure(
            is_thread(&t["id"])
                && t["id"] != "main"
                && t["tid"].as_u64().is_some_and(|tid| tid > 0)
                && t["running"].is_boolean()
                && is_str_or_null(&t["name"])
                && is_thread(&t["parent"]),
            || format!("threads[{i}] fields: {}", Value::Object(t.clone())),
        )?;
        validate_stack(&t["stack"], &format!("threads[{i}].stack"))?;
    }
    if !r["summary"].is_null() {
        validate_frame(&r["summary"], "summary")?;
    }
    Ok(())
}

impl Run {
    /// A JSON frame: `function` at `// @marker` of `src`, in this run's binary.
    #[track_caller]
    fn expect_json_frame(&self, frame: &Value, function: &str, src: &Source, marker: &str) {
        let module_ok = frame["module"]
            .as_str()
            .is_some_and(|m| Path::new(m).canonicalize().ok() == self.binary.canonicalize().ok());
        self.check(
            frame["function"] == function
                && frame["file"] == src.path_str().as_str()
                && frame["line"] == src.line(marker)
                && frame["column"].as_u64().is_some_and(|c| c > 0)
                && module_ok,
            format!(
                "JSON frame {frame}: expected {function} at {}:{} in {}",
                src.path_str(),
                src.line(marker),
                self.binary.display()
            ),
        );
    }
}

fn hex(n: u64) -> String {
    format!("{n:#x}")
}

#[test]
fn json_race_with_mutexes_and_global() {
    let src = Source::c("mutexes");
    let (run, objects) = run_json("json_mutexes", "mutexes", &[]);
    run.expect_exit(RACE_EXIT);
    run.check(
        objects.len() == 1,
        format!("expected 1 JSON line, got {}", objects.len()),
    );
    let j = &objects[0];
    // The text report still goes to stderr, and says the same.
    let text = run.single_report();
    let ((cur, _), _) = run.accesses(&text);
    run.check(
        j["kind"] == "data race" && j["pid"] == text.pid,
        format!("kind/pid: {j}"),
    );

    let c = &j["current"];
    run.check(
        c["type"] == "read"
            && c["size"] == 4
            && c["addr"] == hex(cur.addr).as_str()
            && c["thread"] == "main",
        format!("current: {c}"),
    );
    run.check(
        c["mutexes"] == serde_json::json!([{"id": "M0", "write": true}]),
        format!("current.mutexes: {c}"),
    );
    run.expect_json_frame(&c["stack"][0], "main", &src, "cur");
    let p = &j["previous"];
    run.check(
        p["type"] == "write" && p["size"] == 4 && p["addr"] == c["addr"] && p["thread"] == "T1",
        format!("previous: {p}"),
    );
    run.check(
        p["mutexes"] == serde_json::json!([{"id": "M1", "write": true}]),
        format!("previous.mutexes: {p}"),
    );
    run.expect_json_frame(&p["stack"][0], "worker", &src, "prev");
    run.check(j["sleep"].is_null(), "sleep should be null");

    let l = &j["location"];
    run.check(
        l["type"] == "global"
            && l["name"] == "x"
            && l["size"] == 4
            && l["addr"] == c["addr"]
            && l["start"] == c["addr"],
        format!("location: {l}"),
    );
    let mutexes = j["mutexes"].as_array().unwrap();
    run.check(
        mutexes.len() == 2 && mutexes[0]["id"] == "M0" && mutexes[1]["id"] == "M1",
        format!("mutexes: {}", j["mutexes"]),
    );
    run.expect_json_frame(&mutexes[0]["stack"][0], "main", &src, "init0");
    run.expect_json_frame(&mutexes[1]["stack"][0], "worker", &src, "lock1");
    let threads = j["threads"].as_array().unwrap();
    run.check(
        threads.len() == 1 && threads[0]["id"] == "T1" && threads[0]["parent"] == "main",
        format!("threads: {}", j["threads"]),
    );
    run.expect_json_frame(&threads[0]["stack"][0], "main", &src, "create");
    run.expect_json_frame(&j["summary"], "main", &src, "cur");
}

#[test]
fn json_heap_location_and_use_after_free() {
    let src = Source::c("locations");
    let (run, objects) = run_json("json_heap", "locations", &["heap"]);
    run.expect_exit(RACE_EXIT);
    run.check(
        objects.len() == 1,
        format!("expected 1 JSON line, got {}", objects.len()),
    );
    let j = &objects[0];
    let l = &j["location"];
    run.check(
        l["type"] == "heap" && l["size"] == 40 && l["thread"] == "main",
        format!("location: {l}"),
    );
    let block = l["addr"].as_str().and_then(parse_hex).unwrap_or(0);
    let addr = j["current"]["addr"]
        .as_str()
        .and_then(parse_hex)
        .unwrap_or(0);
    run.check(
        block + 8 == addr,
        "the heap block should start 8 bytes before the access",
    );
    run.expect_json_frame(&l["stack"][0], "main", &src, "alloc");
    run.expect_json_frame(&j["current"]["stack"][0], "main", &src, "heap_cur");
    run.expect_json_frame(&j["previous"]["stack"][0], "heap_worker", &src, "heap_prev");

    let src = Source::c("use_after_free");
    let (run, objects) = run_json("json_uaf", "use_after_free", &[]);
    run.expect_exit(RACE_EXIT);
    run.check(
        objects.len() == 1,
        format!("expected 1 JSON line, got {}", objects.len()),
    );
    let j = &objects[0];
    run.check(
        j["kind"] == "heap-use-after-free",
        format!("kind: {}", j["kind"]),
    );
    run.check(
        j["location"]["type"] == "heap" && j["location"]["size"] == 32,
        format!("location: {}", j["location"]),
    );
    run.expect_json_frame(&j["previous"]["stack"][0], "freer", &src, "free");
}

#[test]
fn json_sleep_stack() {
    let src = Source::c("sleep");
    let (run, objects) = run_json("json_sleep", "sleep", &["before"]);
    run.expect_exit(RACE_EXIT);
    run.check(
        objects.len() == 1,
        format!("expected 1 JSON line, got {}", objects.len()),
    );
    let sleep = &objects[0]["sleep"];
    run.check(sleep.is_array(), format!("sleep: {sleep}"));
    run.expect_json_frame(&sleep[0], "nap", &src, "before_sleep");
    run.expect_json_frame(&sleep[1], "late_reader", &src, "before_nap_call");
}

// ---------------------------------------------------------------------------------------
// 10. No debug info

#[test]
fn no_debug_info_and_stripped() {
    // -g0: function names from the symbol table, no file:line.
    let run = run_umbra(&c_program("mutexes", Build::NoDebug), &[], &[]);
    run.expect_exit(RACE_EXIT);
    let report = run.single_report();
    let ((_, cur_section), (_, prev_section)) = run.accesses(&report);
    let module = run.module();
    let mut offsets = Vec::new();
    for (section, function) in [(cur_section, "main"), (prev_section, "worker")] {
        let frame = section
            .frames
            .first()
            .unwrap_or_else(|| run.fail("empty stack"));
        run.check(
            frame.function == function
                && frame.file.is_none()
                && frame.module == module
                && frame.offset > 0,
            format!(
                "frame `{}`: expected `{function} <null> ({module}+0x...)`",
                frame.raw
            ),
        );
        offsets.push(frame.offset);
    }
    run.check(
        report.section("Location is global 'x' of size 4").is_some(),
        "the symbol table still names the global",
    );

    // Stripped: no names at all; the same code offsets; no crash.
    let run = run_umbra(&c_program("mutexes", Build::Stripped), &[], &[]);
    run.expect_exit(RACE_EXIT);
    let report = run.single_report();
    let ((_, cur_section), (_, prev_section)) = run.accesses(&report);
    let module = run.module();
    for (section, offset) in [(cur_section, offsets[0]), (prev_section, offsets[1])] {
        let frame = section
            .frames
            .first()
            .unwrap_or_else(|| run.fail("empty stack"));
        run.check(
            frame.file.is_none() && frame.module == module && frame.offset == offset,
            format!(
                "frame `{}`: expected `<null> <null> ({module}+{offset:#x})`",
                frame.raw
            ),
        );
    }
    run.check(
        report.summary.starts_with("data race ")
            && report.summary.contains(&format!("{module}+0x")),
        "expected `SUMMARY: ThreadSanitizer: data race (.../module+0x...)`",
    );
}

// ---------------------------------------------------------------------------------------
// 11. Rust

#[test]
fn rust_report_is_demangled_with_lines() {
    let dir = rust_binaries(Runtime::Umbra).unwrap_or_else(|e| panic!("{e}"));
    let src = Source::load(workspace_dir().join("tests/corpus/rust/src/bin/static_mut_race.rs"));
    let race_line = src.line_containing("// RACE");
    let call_line = src.unique_line(|l| l.trim() == "bump();", "`bump();`");
    let spawn_line = src.line_containing("thread::spawn(bump)");
    let file = src.path_str();

    let run = run_linked(&dir.join("static_mut_race"), &[]);
    run.expect_exit(RACE_EXIT);
    let report = run.single_report();
    let ((cur, cur_section), (prev, prev_section)) = run.accesses(&report);
    run.check(
        cur.size == 8 && prev.size == 8 && cur.addr == prev.addr,
        "sizes/addresses",
    );
    for section in [cur_section, prev_section] {
        run.expect_frame_at(
            section.frames.first(),
            "static_mut_race::bump",
            &file,
            race_line,
            "RACE",
        );
    }
    // The main thread's access came through main's `bump();` call.
    let main_section = if cur.thread == "main thread" {
        cur_section
    } else {
        prev_section
    };
    let main_frame = main_section
        .frames
        .iter()
        .find(|f| f.function == "static_mut_race::main");
    run.expect_frame_at(
        main_frame,
        "static_mut_race::main",
        &file,
        call_line,
        "bump(); in main",
    );
    let thread = report
        .section("Thread T1 (tid=")
        .unwrap_or_else(|| run.fail("no `Thread T1` section"));
    let spawn_frame = thread
        .frames
        .iter()
        .find(|f| f.function == "static_mut_race::main");
    run.expect_frame_at(
        spawn_frame,
        "static_mut_race::main",
        &file,
        spawn_line,
        "thread::spawn",
    );
    run.check(
        report
            .section("Location is global 'static_mut_race::COUNTER' of size 8 at ")
            .is_some(),
        "expected `Location is global 'static_mut_race::COUNTER' of size 8 ...`",
    );
    // Demangled: no `_ZN...E` / `_R...` symbols, no legacy `::h<16 hex>` hash.
    for frame in report.sections.iter().flat_map(|s| &s.frames) {
        let f = &frame.function;
        let hashed = f.rsplit("::").next().is_some_and(|last| {
            last.len() == 17
                && last.starts_with('h')
                && last[1..].bytes().all(|b| b.is_ascii_hexdigit())
        });
        run.check(
            !f.starts_with("_ZN") && !f.starts_with("_R") && !hashed && !f.contains("17h"),
            format!("frame `{}` is not demangled", frame.raw),
        );
    }
    run.check(
        report.summary.ends_with(" in static_mut_race::bump")
            && report
                .summary
                .starts_with(&format!("data race {file}:{race_line}:")),
        "SUMMARY should name static_mut_race::bump at the RACE line",
    );
}

#[test]
fn rust_report_folds_std_frames_on_request() {
    let dir = rust_binaries(Runtime::Umbra).unwrap_or_else(|e| panic!("{e}"));
    let src = Source::load(workspace_dir().join("tests/corpus/rust/src/bin/static_mut_race.rs"));
    let race_line = src.line_containing("// RACE");
    let file = src.path_str();
    let binary = dir.join("static_mut_race");

    // Default (TSan's format): every frame printed.
    let full = run_linked(&binary, &[]);
    full.expect_exit(RACE_EXIT);
    let full_report = full.single_report();
    full.check(
        !full.stderr().contains("frames in std"),
        "folding is off by default",
    );
    let count = |r: &Report| {
        r.sections
            .iter()
            .map(|s| s.frames.len() + s.folds.iter().map(|f| f.1).sum::<usize>())
            .sum::<usize>()
    };

    let run = run_linked(&binary, &[("UMBRA_OPTIONS", "fold_std_frames=1")]);
    run.expect_exit(RACE_EXIT);
    let report = run.single_report();
    let ((_, cur_section), (_, prev_section)) = run.accesses(&report);
    for section in [cur_section, prev_section] {
        run.expect_frame_at(
            section.frames.first(),
            "static_mut_race::bump",
            &file,
            race_line,
            "RACE",
        );
    }
    run.check(
        report.sections.iter().any(|s| !s.folds.is_empty()),
        "no `... N frames in std` line",
    );
    run.check(
        count(&report) == count(&full_report),
        "the folds do not add up to the full stacks",
    );
    // Frame numbers are those of the full stack: a fold of N frames skips N numbers,
    // and folds are never next to each other or of a single frame.
    for section in &report.sections {
        run.check(
            section.folds.iter().all(|f| f.1 >= 2),
            "a fold of fewer than two frames",
        );
        run.check(
            section.folds.windows(2).all(|w| w[0].0 != w[1].0),
            "two folds in a row",
        );
        let mut next = 0;
        let mut folds = section.folds.iter().peekable();
        for (i, frame) in section.frames.iter().enumerate() {
            while let Some(&(_, n)) = folds.next_if(|f| f.0 == i) {
                next += n;
            }
            run.check(
                frame.raw.starts_with(&format!("#{next} ")),
                format!("`{}` should be #{next}", frame.raw),
            );
            next += 1;
        }
    }
    for frame in report.sections.iter().flat_map(|s| &s.frames) {
        run.check(
            !frame.function.starts_with("std::rt::lang_start"),
            format!("`{}` is not folded", frame.raw),
        );
    }
    run.check(
        report.summary.ends_with(" in static_mut_race::bump")
            && report
                .summary
                .starts_with(&format!("data race {file}:{race_line}:")),
        "SUMMARY should name static_mut_race::bump at the RACE line",
    );
}

// ---------------------------------------------------------------------------------------
// 12. Same structure as stock TSan

/// Runs a program on gcc's stock libtsan (no preload), like `run_umbra`.
fn run_stock(binary: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new(binary);
    cmd.args(args)
        .env_remove("UMBRA_OPTIONS")
        .env_remove("LD_PRELOAD")
        .env("TSAN_OPTIONS", "atexit_sleep_ms=0");
    run_cmd(cmd, binary, args, &[])
}

/// What must agree between umbra's and stock TSan's report of one program: the
/// report kind, each access's kind and size, the program's own frames (function
/// names in the program's source file) of each stack, and the kind of location.
fn structure(run: &Run, src: &Source) -> Vec<String> {
    let report = run.single_report();
    let mut out = vec![report.kind.clone()];
    for section in &report.sections {
        if let Some(access) = parse_access(&section.title) {
            let own: Vec<&str> = section
                .frames
                .iter()
                .filter(|f| {
                    f.file
                        .as_deref()
                        .is_some_and(|p| p.ends_with(src.file_name()))
                })
                .map(|f| f.function.as_str())
                .collect();
            out.push(format!(
                "{} {} {} {:?}",
                access.kind, access.size, access.thread, own
            ));
        } else if let Some(rest) = section.title.strip_prefix("Location is ") {
            let kind: Vec<&str> = rest.split(' ').take(2).collect();
            out.push(format!("location {}", kind.join(" ")));
        }
    }
    out
}

/// The same programs on stock TSan and on umbra give reports of the same shape:
/// same access kinds, sizes and threads, the same user frames on both stacks, the
/// same location kind (the main thread's stack is left out: stock TSan cannot name
/// it and prints a global '<null>').
#[test]
fn same_structure_as_stock_tsan() {
    let cases: [(&str, &[&str]); 4] = [
        ("mutexes", &[]),
        ("deep_stack", &[]),
        ("locations", &["heap"]),
        ("locations", &["global"]),
    ];
    for (name, args) in cases {
        let src = Source::c(name);
        let binary = c_program(name, Build::Debug);
        let umbra = run_umbra(&binary, args, &[]);
        let stock = run_stock(&binary, args);
        let (u, s) = (structure(&umbra, &src), structure(&stock, &src));
        assert_eq!(
            u,
            s,
            "{name} {args:?}: umbra and stock TSan reports differ in structure\n{}\n{}",
            umbra.context(),
            stock.context()
        );
    }
}
