//! Signals under umbra, end to end: the C programs in `tests/signals/`, one
//! behaviour each, built with `gcc -fsanitize=thread` and run with umbra preloaded.
//! Each program states its expected result in header lines at the top:
//! - `// exit: N` or `// signal: N`: how the run must end;
//! - `// stdout: TEXT`: stdout must contain TEXT;
//! - `// stderr: TEXT` (any number): stderr must contain each TEXT;
//! - `// stderr-clean`: stderr must be empty (no report, no runtime message);
//! - `// reports: N`: exactly N `WARNING: ThreadSanitizer:` reports.
//!
//! The storm programs run many times, in parallel, each time clean.

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::cprog::gcc_binary;
use common::exec::{parallel_map, run, tail, Output, Status};
use common::toolchain::{target_dir, umbra_runtime, workspace_dir};

/// Generous: a run takes a few seconds at most; a hang is what this catches.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);
/// Repeats of each storm program.
const STORM_RUNS: usize = 20;

fn source_dir() -> PathBuf {
    workspace_dir().join("tests/signals")
}

/// The gcc -fsanitize=thread binary of `tests/signals/NAME.c`, built once per process.
fn binary(name: &str) -> PathBuf {
    gcc_binary("signals", name)
}

fn run_program(name: &str, env: &[(&str, &str)]) -> Output {
    let rt = umbra_runtime().unwrap_or_else(|e| panic!("{e}"));
    let mut cmd = Command::new(binary(name));
    cmd.env("LD_PRELOAD", rt.join("libumbra.so"))
        .env_remove("TSAN_OPTIONS")
        .env_remove("UMBRA_OPTIONS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd, RUN_TIMEOUT).unwrap_or_else(|e| panic!("running {name}: {e}"))
}

/// What a program's header says its run must do.
#[derive(Debug, Default)]
struct Expected {
    status: Option<Status>,
    stdout: Vec<String>,
    stderr: Vec<String>,
    stderr_clean: bool,
    reports: Option<usize>,
}

fn expected(name: &str) -> Expected {
    let path = source_dir().join(format!("{name}.c"));
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
        } else if let Some(v) = line.strip_prefix("reports: ") {
            e.reports = Some(v.trim().parse().expect("report count"));
        }
    }
    assert!(
        e.status.is_some(),
        "{}: no `// exit:` or `// signal:` header line",
        path.display()
    );
    e
}

/// Why `out` does not meet `e`, if it does not.
fn mismatch(e: &Expected, out: &Output) -> Option<String> {
    let mut why = Vec::new();
    if Some(out.status) != e.status {
        why.push(format!(
            "ended with {}, expected {}",
            out.status,
            e.status.unwrap()
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
    (!why.is_empty()).then(|| {
        format!(
            "{}\n--- stdout ---\n{}\n--- stderr (tail) ---\n{}",
            why.join("; "),
            tail(&out.stdout, 20),
            tail(&out.stderr, 60)
        )
    })
}

/// Runs `name` once and checks it against its header.
fn check(name: &str) {
    let out = run_program(name, &[]);
    if let Some(why) = mismatch(&expected(name), &out) {
        panic!("{name}: {why}");
    }
}

/// Runs a storm program `STORM_RUNS` times in parallel, each storm lasting
/// `seconds`; every run must be clean.
fn storm(name: &str, seconds: &str) {
    let e = expected(name);
    binary(name);
    let runs: Vec<usize> = (0..STORM_RUNS).collect();
    let results = parallel_map(&runs, |_| run_program(name, &[("STORM_SECONDS", seconds)]));
    let failures: Vec<String> = results
        .iter()
        .enumerate()
        .filter_map(|(i, out)| mismatch(&e, out).map(|why| format!("run {i}: {why}")))
        .collect();
    assert!(
        failures.is_empty(),
        "{name}: {} of {STORM_RUNS} runs failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn storm_of_pthread_kill_at_busy_threads() {
    storm("storm_pthread_kill", "5");
}

#[test]
fn storm_of_itimer_prof_at_busy_threads() {
    // 1 kHz makes far fewer signals than the pthread_kill storm: a longer storm.
    storm("storm_itimer_prof", "5");
}

#[test]
fn fault_inside_an_atomic_operation_runs_the_handler_without_the_runtime() {
    check("fault_in_atomic");
}

#[test]
fn siginfo_handler_gets_its_arguments_and_mask() {
    check("siginfo_args");
}

#[test]
fn resethand_resets_to_default_after_the_first_delivery() {
    check("resethand");
}

#[test]
fn sigaction_returns_the_previous_program_action() {
    check("sigaction_previous");
}

#[test]
fn race_between_handler_and_another_thread_is_reported() {
    check("handler_race");
}

#[test]
fn pthread_kill_orders_the_sender_before_the_handler() {
    check("handler_ordered_by_kill");
}

#[test]
fn malloc_in_async_handler_is_reported() {
    check("signal_unsafe_malloc");
}

#[test]
fn report_signal_unsafe_0_turns_that_report_off() {
    let out = run_program(
        "signal_unsafe_malloc",
        &[("TSAN_OPTIONS", "report_signal_unsafe=0")],
    );
    assert_eq!(out.status, Status::Exited(0), "{}", tail(&out.stderr, 40));
    assert!(out.stderr.is_empty(), "{}", tail(&out.stderr, 40));
}

#[test]
fn signal_suppression_silences_signal_reports() {
    let dir = target_dir().join("signals-tmp");
    fs::create_dir_all(&dir).expect("creating target/signals-tmp");
    let supp = dir.join(format!("signal-{}.supp", std::process::id()));
    fs::write(&supp, "signal:handler\n").expect("writing the suppressions file");
    let opts = format!("suppressions={}", supp.display());
    for name in ["signal_unsafe_malloc", "errno_spoiled"] {
        let out = run_program(name, &[("TSAN_OPTIONS", &opts)]);
        assert_eq!(
            out.status,
            Status::Exited(0),
            "{name}: {}",
            tail(&out.stderr, 40)
        );
        assert!(
            !out.stderr.contains("WARNING"),
            "{name}: {}",
            tail(&out.stderr, 40)
        );
    }
    let _ = fs::remove_file(&supp);
}

#[test]
fn handler_spoiling_errno_is_reported() {
    check("errno_spoiled");
}

#[test]
fn handler_restoring_errno_is_not_reported() {
    check("errno_restored");
}

#[test]
fn eintr_of_interrupted_nanosleep_is_not_spoiled_errno() {
    check("errno_nanosleep");
}

#[test]
fn sa_restart_resumes_an_interrupted_read_and_its_absence_gives_eintr() {
    check("restart");
}

#[test]
fn sa_onstack_runs_the_handler_on_the_alternate_stack() {
    check("onstack");
}

#[test]
fn blocked_signals_wait_and_handlers_run_with_their_mask() {
    check("masks");
}

#[test]
fn sigwait_receives_the_signal_ordered_after_the_sender() {
    check("sigwait_ordered");
}

#[test]
fn every_program_has_a_test() {
    let tests = include_str!("signals.rs");
    for entry in fs::read_dir(source_dir()).expect("tests/signals") {
        let path = entry.expect("dir entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("c") {
            continue;
        }
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("file name");
        assert!(
            tests.contains(&format!("(\"{name}\"")),
            "tests/signals/{name}.c is not run by any test"
        );
    }
}
