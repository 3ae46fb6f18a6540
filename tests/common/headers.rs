//! Small C programs whose header says what their run must do, built with
//! `gcc -fsanitize=thread` and run with umbra preloaded (the pattern of
//! `tests/report_kinds.rs`, shared by `tests/fd.rs` and `tests/process_life.rs`).
//! Header lines, each `// ` at the top of the file, up to an empty `//` line:
//! - `exit: N`: the exit code (required);
//! - `stdout: TEXT` / `stderr: TEXT` (any number): the output contains TEXT;
//! - `stderr-clean`: stderr is empty (no report, no runtime message);
//! - `reports: N`: exactly N `WARNING: ThreadSanitizer:` reports;
//! - `frame: FUNC @MARK`: some stack frame is `FUNC` at the line marked `/* @MARK */`;
//! - `summary: KIND @MARK FUNC`: the SUMMARY line names that kind, line and function;
//! - `after: TEXT => FUNC @MARK`: the first stack frame after the line holding
//!   TEXT is `FUNC` at the line marked `/* @MARK */` (a location's stack);
//! - `env: NAME=VALUE`: set for the run;
//! - `stock`: gcc's stock libtsan, run on the same binary, prints the same
//!   `WARNING:` headers and SUMMARY lines (pids and columns aside) and exit code;
//! - `clang`: a `clang-16 -shared-libsan` build of the program meets the same
//!   header on umbra (where clang-16 is installed).

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::cprog::{compile, gcc_binary, preloaded, Compiler};
use super::exec::{run, tail, Output, Status};
use super::toolchain::workspace_dir;

/// Generous: a run takes well under a second; a hang is what this catches.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// A test program: `tests/DIR/NAME.c`.
#[derive(Clone, Copy)]
pub struct Prog<'a> {
    pub dir: &'a str,
    pub name: &'a str,
}

impl Prog<'_> {
    pub fn source(&self) -> PathBuf {
        workspace_dir()
            .join("tests")
            .join(self.dir)
            .join(format!("{}.c", self.name))
    }

    pub fn binary(&self) -> PathBuf {
        gcc_binary(self.dir, self.name)
    }

    /// A run with umbra preloaded, the header's `env:` lines and `env` set.
    pub fn run_umbra(&self, env: &[(&str, &str)]) -> Output {
        self.run_binary_on_umbra(&self.binary(), env)
    }

    fn run_binary_on_umbra(&self, binary: &std::path::Path, env: &[(&str, &str)]) -> Output {
        let mut cmd = preloaded(binary);
        for (k, v) in self.expected().env.iter() {
            cmd.env(k, v);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        run(&mut cmd, RUN_TIMEOUT).unwrap_or_else(|e| panic!("running {}: {e}", self.name))
    }

    pub fn run_stock(&self) -> Output {
        let mut cmd = Command::new(self.binary());
        cmd.env_remove("LD_PRELOAD")
            .env_remove("UMBRA_OPTIONS")
            .env("TSAN_OPTIONS", "atexit_sleep_ms=0");
        run(&mut cmd, RUN_TIMEOUT)
            .unwrap_or_else(|e| panic!("running {} on stock TSan: {e}", self.name))
    }

    pub fn expected(&self) -> Expected {
        let path = self.source();
        let text =
            fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let mut e = Expected::default();
        // Header lines up to the first empty `//` line (prose follows it).
        for line in text
            .lines()
            .take_while(|l| l.starts_with("//") && l.trim() != "//")
        {
            let line = line.trim_start_matches("//");
            let line = line.strip_prefix(' ').unwrap_or(line);
            if let Some(v) = line.strip_prefix("exit: ") {
                e.exit = Some(v.trim().parse().expect("exit code"));
            } else if let Some(v) = line.strip_prefix("stdout: ") {
                e.stdout.push(v.to_string());
            } else if let Some(v) = line.strip_prefix("stderr: ") {
                e.stderr.push(v.to_string());
            } else if line.trim() == "stderr-clean" {
                e.stderr_clean = true;
            } else if line.trim() == "stock" {
                e.stock = true;
            } else if line.trim() == "clang" {
                e.clang = true;
            } else if let Some(v) = line.strip_prefix("reports: ") {
                e.reports = Some(v.trim().parse().expect("report count"));
            } else if let Some(v) = line.strip_prefix("frame: ") {
                let (func, mark) = v.split_once(" @").expect("`frame: FUNC @MARK`");
                e.frames.push((func.to_string(), mark.trim().to_string()));
            } else if let Some(v) = line.strip_prefix("summary: ") {
                let (kind, rest) = v.split_once(" @").expect("`summary: KIND @MARK FUNC`");
                let (mark, func) = rest.split_once(' ').expect("`summary: KIND @MARK FUNC`");
                e.summary = Some((kind.to_string(), mark.to_string(), func.trim().to_string()));
            } else if let Some(v) = line.strip_prefix("after: ") {
                let (text, rest) = v.split_once(" => ").expect("`after: TEXT => FUNC @MARK`");
                let (func, mark) = rest.split_once(" @").expect("`after: TEXT => FUNC @MARK`");
                e.after
                    .push((text.to_string(), func.to_string(), mark.trim().to_string()));
            } else if let Some(v) = line.strip_prefix("env: ") {
                let (k, val) = v.split_once('=').expect("`env: NAME=VALUE`");
                e.env.push((k.to_string(), val.to_string()));
            } else {
                panic!("{}: unknown header line {line:?}", path.display());
            }
        }
        assert!(
            e.exit.is_some(),
            "{}: no `// exit:` header line",
            path.display()
        );
        e
    }

    /// The 1-based line of the source that carries `/* @MARK */`.
    pub fn marker_line(&self, mark: &str) -> usize {
        let text = fs::read_to_string(self.source()).expect("source");
        let tag = format!("/* @{mark} */");
        let lines: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains(&tag))
            .map(|(i, _)| i + 1)
            .collect();
        assert_eq!(
            lines.len(),
            1,
            "{}.c: marker {tag} must be on exactly one line",
            self.name
        );
        lines[0]
    }

    /// Why `out` does not meet the header, if it does not.
    pub fn mismatch(&self, out: &Output) -> Option<String> {
        let e = self.expected();
        let mut why = Vec::new();
        if out.status != Status::Exited(e.exit.unwrap()) {
            why.push(format!(
                "ended with {}, expected exit code {}",
                out.status,
                e.exit.unwrap()
            ));
        }
        for s in &e.stdout {
            if !out.stdout.contains(s.as_str()) {
                why.push(format!("stdout lacks {s:?}"));
            }
        }
        for s in &e.stderr {
            if !out.stderr.contains(s.as_str()) {
                why.push(format!("stderr lacks {s:?}"));
            }
        }
        if e.stderr_clean && !out.stderr.is_empty() {
            why.push("stderr is not empty".to_string());
        }
        let reports = out.stderr.matches("WARNING: ThreadSanitizer:").count();
        if let Some(n) = e.reports.filter(|&n| n != reports) {
            why.push(format!("{reports} reports, expected {n}"));
        }
        let path = self.source().display().to_string();
        for (func, mark) in &e.frames {
            let line = self.marker_line(mark);
            if !out.stderr.lines().any(|l| is_frame(l, func, &path, line)) {
                why.push(format!("no frame `{func} {path}:{line}` (@{mark})"));
            }
        }
        for (text, func, mark) in &e.after {
            let line = self.marker_line(mark);
            let first = out
                .stderr
                .lines()
                .skip_while(|l| !l.contains(text.as_str()))
                .nth(1);
            if !first.is_some_and(|l| is_frame(l, func, &path, line)) {
                why.push(format!(
                    "the line after {text:?} is not frame `{func} {path}:{line}`"
                ));
            }
        }
        if let Some((kind, mark, func)) = &e.summary {
            let line = self.marker_line(mark);
            let prefix = format!("SUMMARY: ThreadSanitizer: {kind} ");
            let ok = out.stderr.lines().any(|l| {
                l.strip_prefix(&prefix).is_some_and(|rest| {
                    line_of(rest, &path) == Some(line) && rest.ends_with(&format!(" in {func}"))
                })
            });
            if !ok {
                why.push(format!("no `{prefix}{path}:{line}[:col] in {func}` line"));
            }
        }
        (!why.is_empty()).then(|| {
            format!(
                "{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                why.join("; "),
                tail(&out.stdout, 20),
                tail(&out.stderr, 80)
            )
        })
    }

    /// Runs the program on umbra and checks it against its header (and stock
    /// TSan's run, for `stock`).
    pub fn check(&self) {
        let out = self.run_umbra(&[]);
        if let Some(why) = self.mismatch(&out) {
            panic!("{}: {why}", self.name);
        }
        if self.expected().clang {
            let built = compile(
                &self.source(),
                &format!("{}-clang", self.dir),
                Compiler::Clang,
                &[],
            )
            .unwrap_or_else(|e| panic!("{e}"));
            if let Some(binary) = built {
                let out = self.run_binary_on_umbra(&binary, &[]);
                if let Some(why) = self.mismatch(&out) {
                    panic!("{} (clang build): {why}", self.name);
                }
            }
        }
        if self.expected().stock {
            let stock = self.run_stock();
            assert_eq!(
                (headline(&out.stderr), out.status),
                (headline(&stock.stderr), stock.status),
                "{}: umbra and stock TSan differ\n--- umbra ---\n{}\n--- stock ---\n{}",
                self.name,
                tail(&out.stderr, 60),
                tail(&stock.stderr, 60)
            );
        }
    }
}

/// What a program's header says its run must do.
#[derive(Debug, Default)]
pub struct Expected {
    pub exit: Option<i32>,
    pub stdout: Vec<String>,
    pub stderr: Vec<String>,
    pub stderr_clean: bool,
    pub reports: Option<usize>,
    /// (function, marker)
    pub frames: Vec<(String, String)>,
    /// (kind, marker, function)
    pub summary: Option<(String, String, String)>,
    /// (text, function, marker)
    pub after: Vec<(String, String, String)>,
    pub env: Vec<(String, String)>,
    pub stock: bool,
    pub clang: bool,
}

/// `path:line` with an optional `:column` after it, at the start of `s`: the line.
fn line_of(s: &str, path: &str) -> Option<usize> {
    let rest = s.strip_prefix(path)?.strip_prefix(':')?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Whether `l` is a stack frame line `    #N FUNC PATH:LINE[:COL] (...)`.
fn is_frame(l: &str, func: &str, path: &str, line: usize) -> bool {
    let Some(rest) = l.trim_start().strip_prefix('#') else {
        return false;
    };
    let mut parts = rest.splitn(3, ' ');
    let (_, f, loc) = (parts.next(), parts.next(), parts.next().unwrap_or(""));
    f == Some(func) && line_of(loc, path) == Some(line)
}

/// The `WARNING:` headers (without the pid) and SUMMARY lines (without columns) of a
/// run: what umbra and stock TSan must agree on.
pub fn headline(stderr: &str) -> Vec<String> {
    let mut out = Vec::new();
    for l in stderr.lines() {
        if let Some(w) = l.strip_prefix("WARNING: ThreadSanitizer: ") {
            out.push(format!(
                "WARNING: {}",
                w.split(" (pid=").next().unwrap_or(w)
            ));
        } else if let Some(s) = l.strip_prefix("SUMMARY: ThreadSanitizer: ") {
            // `KIND FILE:LINE[:COL] in FUNC`: drop the column (gcc's libtsan has none).
            let words: Vec<String> = s
                .split(' ')
                .map(|w| match w.split(':').collect::<Vec<_>>().as_slice() {
                    [file, line, col]
                        if line.parse::<u32>().is_ok() && col.parse::<u32>().is_ok() =>
                    {
                        format!("{file}:{line}")
                    }
                    _ => w.to_string(),
                })
                .collect();
            out.push(format!("SUMMARY: {}", words.join(" ")));
        }
    }
    out
}
