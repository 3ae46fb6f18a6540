//! Self-describing C test programs: a folder `tests/DIR/` of programs, one behaviour
//! each, whose leading `//` comment lines say what a run under umbra must do. The
//! programs are built with `gcc -fsanitize=thread` and run with umbra preloaded. Header
//! lines:
//! - `// exit: N` or `// signal: N`: how the run must end (one of them is required);
//! - `// stdout: TEXT` / `// stderr: TEXT` (any number): the output contains TEXT;
//! - `// stderr-clean`: stderr is empty (no report, no runtime message);
//! - `// reports: N`: exactly N `WARNING: ThreadSanitizer:` reports;
//! - `// frame: FUNC @MARK`: some stack frame is `FUNC` at the program's line marked
//!   `/* @MARK */`;
//! - `// summary: KIND @MARK FUNC`: the SUMMARY line names that kind, line and function;
//! - `// after: TEXT => FUNC @MARK`: the line after the first one holding TEXT is a
//!   stack frame `FUNC` at the line marked `/* @MARK */` (a location's stack);
//! - `// clang`: a `clang-16 -shared-libsan` build meets the same header on umbra
//!   (where clang-16 is installed);
//! - `// stock`: gcc's stock libtsan, run on the same binary, prints the same
//!   `WARNING:` headers and SUMMARY lines (pids and columns aside) and ends the same way.

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::cprog::{compile, gcc_binary, gcc_binary_cpp, preloaded, Compiler};
use super::exec::{run, tail, Output, Status};
use super::toolchain::workspace_dir;

/// Generous: a run takes a few seconds at most; a hang is what this catches.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// What a program's header says its run must do.
#[derive(Debug, Default, Clone)]
pub struct Expected {
    pub status: Option<Status>,
    pub stdout: Vec<String>,
    pub stderr: Vec<String>,
    pub stderr_clean: bool,
    pub reports: Option<usize>,
    pub frames: Vec<FrameAt>,
    pub summary: Option<SummaryAt>,
    pub after: Vec<AfterText>,
    pub stock: bool,
    pub clang: bool,
}

/// `// after: TEXT => FUNC @MARK`.
#[derive(Debug, Clone)]
pub struct AfterText {
    pub text: String,
    pub frame: FrameAt,
}

/// `// frame: FUNC @MARK`.
#[derive(Debug, Clone)]
pub struct FrameAt {
    pub function: String,
    pub mark: String,
}

/// `// summary: KIND @MARK FUNC`.
#[derive(Debug, Clone)]
pub struct SummaryAt {
    pub kind: String,
    pub mark: String,
    pub function: String,
}

/// The programs of one folder `tests/DIR/`.
#[derive(Clone, Copy)]
pub struct ProgramDir {
    pub dir: &'static str,
}

impl ProgramDir {
    pub const fn new(dir: &'static str) -> ProgramDir {
        ProgramDir { dir }
    }

    /// `NAME.c`, or `NAME.cpp` for a C++ program.
    pub fn source(&self, name: &str) -> PathBuf {
        let dir = workspace_dir().join("tests").join(self.dir);
        let cpp = dir.join(format!("{name}.cpp"));
        if cpp.exists() {
            cpp
        } else {
            dir.join(format!("{name}.c"))
        }
    }

    /// The gcc (g++ for C++) -fsanitize=thread binary of `NAME`, built once per
    /// test process.
    pub fn binary(&self, name: &str) -> PathBuf {
        if self.source(name).extension().is_some_and(|e| e == "cpp") {
            gcc_binary_cpp(self.dir, name)
        } else {
            gcc_binary(self.dir, name)
        }
    }

    /// Runs `NAME` with umbra preloaded, no options but `env`.
    pub fn run_umbra(&self, name: &str, env: &[(&str, &str)]) -> Output {
        self.run_binary_on_umbra(name, &self.binary(name), env)
    }

    fn run_binary_on_umbra(
        &self,
        name: &str,
        binary: &std::path::Path,
        env: &[(&str, &str)],
    ) -> Output {
        let mut cmd = preloaded(binary);
        for (k, v) in env {
            cmd.env(k, v);
        }
        run(&mut cmd, RUN_TIMEOUT).unwrap_or_else(|e| panic!("running {name}: {e}"))
    }

    /// Runs `NAME` on gcc's stock libtsan.
    pub fn run_stock(&self, name: &str) -> Output {
        let mut cmd = Command::new(self.binary(name));
        cmd.env_remove("LD_PRELOAD")
            .env_remove("UMBRA_OPTIONS")
            .env("TSAN_OPTIONS", "atexit_sleep_ms=0");
        run(&mut cmd, RUN_TIMEOUT).unwrap_or_else(|e| panic!("running {name} on stock TSan: {e}"))
    }

    /// The header of `NAME.c`.
    pub fn expected(&self, name: &str) -> Expected {
        let path = self.source(name);
        let text =
            fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let mut e = Expected::default();
        for line in text.lines().take_while(|l| l.starts_with("//")) {
            let line = line.trim_start_matches("//");
            let line = line.strip_prefix(' ').unwrap_or(line);
            if let Some(v) = line.strip_prefix("exit: ") {
                e.status = Some(Status::Exited(v.trim().parse().expect("exit code")));
            } else if let Some(v) = line.strip_prefix("signal: ") {
                e.status = Some(Status::Signalled(v.trim().parse().expect("signal number")));
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
            } else if let Some(v) = line.strip_prefix("after: ") {
                let (text, at) = v.split_once(" => ").expect("`after: TEXT => FUNC @MARK`");
                let (function, mark) = at.split_once(" @").expect("`after: TEXT => FUNC @MARK`");
                e.after.push(AfterText {
                    text: text.to_string(),
                    frame: FrameAt {
                        function: function.to_string(),
                        mark: mark.trim().to_string(),
                    },
                });
            } else if let Some(v) = line.strip_prefix("reports: ") {
                e.reports = Some(v.trim().parse().expect("report count"));
            } else if let Some(v) = line.strip_prefix("frame: ") {
                let (function, mark) = v.split_once(" @").expect("`frame: FUNC @MARK`");
                e.frames.push(FrameAt {
                    function: function.to_string(),
                    mark: mark.trim().to_string(),
                });
            } else if let Some(v) = line.strip_prefix("summary: ") {
                let (kind, rest) = v.split_once(" @").expect("`summary: KIND @MARK FUNC`");
                let (mark, function) = rest.split_once(' ').expect("`summary: KIND @MARK FUNC`");
                e.summary = Some(SummaryAt {
                    kind: kind.to_string(),
                    mark: mark.to_string(),
                    function: function.trim().to_string(),
                });
            }
        }
        assert!(
            e.status.is_some(),
            "{}: no `// exit:` or `// signal:` header line",
            path.display()
        );
        e
    }

    /// The 1-based line of `NAME.c` that carries `/* @MARK */`.
    pub fn marker_line(&self, name: &str, mark: &str) -> usize {
        let text = fs::read_to_string(self.source(name)).expect("source");
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
            "{name}.c: marker {tag} must be on exactly one line"
        );
        lines[0]
    }

    /// Why `out` does not meet `e`, the header of `NAME`, if it does not.
    pub fn mismatch(&self, name: &str, e: &Expected, out: &Output) -> Option<String> {
        let mut why = Vec::new();
        let status = e.status.expect("checked by `expected`");
        if out.status != status {
            why.push(format!("ended with {}, expected {status}", out.status));
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
        let path = self.source(name).display().to_string();
        for f in &e.frames {
            let line = self.marker_line(name, &f.mark);
            if !has_frame(&out.stderr, &f.function, &path, line) {
                why.push(format!(
                    "no frame `{} {path}:{line}` (@{})",
                    f.function, f.mark
                ));
            }
        }
        for a in &e.after {
            let line = self.marker_line(name, &a.frame.mark);
            let next = out
                .stderr
                .lines()
                .skip_while(|l| !l.contains(a.text.as_str()))
                .nth(1)
                .unwrap_or("");
            if !has_frame(next, &a.frame.function, &path, line) {
                why.push(format!(
                    "the line after {:?} is not frame `{} {path}:{line}`",
                    a.text, a.frame.function
                ));
            }
        }
        if let Some(s) = &e.summary {
            let line = self.marker_line(name, &s.mark);
            let prefix = format!("SUMMARY: ThreadSanitizer: {} ", s.kind);
            let suffix = format!(" in {}", s.function);
            let ok = out.stderr.lines().any(|l| {
                l.strip_prefix(&prefix).is_some_and(|rest| {
                    line_of(rest, &path) == Some(line) && rest.ends_with(&suffix)
                })
            });
            if !ok {
                why.push(format!(
                    "no `{prefix}{path}:{line}[:col] in {}` line",
                    s.function
                ));
            }
        }
        (!why.is_empty()).then(|| {
            format!(
                "{}\n--- stdout ---\n{}\n--- stderr (tail) ---\n{}",
                why.join("; "),
                tail(&out.stdout, 20),
                tail(&out.stderr, 80)
            )
        })
    }

    /// Runs `NAME` on umbra and checks it against its header (and stock TSan's run if
    /// the header says `// stock`).
    pub fn check(&self, name: &str) {
        let e = self.expected(name);
        let out = self.run_umbra(name, &[]);
        if let Some(why) = self.mismatch(name, &e, &out) {
            panic!("{name}: {why}");
        }
        if e.clang {
            let built = compile(
                &self.source(name),
                &format!("{}-clang", self.dir),
                Compiler::Clang,
                &[],
            )
            .unwrap_or_else(|e| panic!("{e}"));
            if let Some(binary) = built {
                let out = self.run_binary_on_umbra(name, &binary, &[]);
                if let Some(why) = self.mismatch(name, &e, &out) {
                    panic!("{name} (clang build): {why}");
                }
            }
        }
        if e.stock {
            let stock = self.run_stock(name);
            assert_eq!(
                (headline(&out.stderr), out.status),
                (headline(&stock.stderr), stock.status),
                "{name}: umbra and stock TSan differ\n--- umbra ---\n{}\n--- stock ---\n{}",
                tail(&out.stderr, 60),
                tail(&stock.stderr, 60)
            );
        }
    }

    /// Every `NAME.c` (and `NAME.cpp`) of the folder is named as `("NAME"`
    /// somewhere in `tests_source` (the test file's own text, by `include_str!`).
    pub fn assert_every_program_is_run(&self, tests_source: &str) {
        let dir = workspace_dir().join("tests").join(self.dir);
        for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("dir entry").path();
            if !matches!(path.extension().and_then(|e| e.to_str()), Some("c" | "cpp")) {
                continue;
            }
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("file name");
            assert!(
                tests_source.contains(&format!("(\"{name}\"")),
                "tests/{}/{} is not run by any test",
                self.dir,
                path.file_name().and_then(|s| s.to_str()).unwrap_or(name)
            );
        }
    }
}

/// `path:line` with an optional `:column` after it, at the start of `s`: the line.
pub fn line_of(s: &str, path: &str) -> Option<usize> {
    let rest = s.strip_prefix(path)?.strip_prefix(':')?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Whether stderr has a stack frame line `    #N FUNC PATH:LINE[:COL] (...)`.
pub fn has_frame(stderr: &str, func: &str, path: &str, line: usize) -> bool {
    stderr.lines().any(|l| {
        let Some(rest) = l.trim_start().strip_prefix('#') else {
            return false;
        };
        let mut parts = rest.splitn(3, ' ');
        let (_, f, loc) = (parts.next(), parts.next(), parts.next().unwrap_or(""));
        f == Some(func) && line_of(loc, path) == Some(line)
    })
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
