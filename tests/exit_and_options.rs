//! End-to-end tests of the ways a program ends and of option portability.
//!
//! Exit: no report is lost when the program leaves (`exit`, return from `main`,
//! `_exit`, `quick_exit`, `abort`, a fatal signal) while another thread is still
//! building a report. Each C program in `tests/exit/` makes two threads race on a
//! global and ends the process while the second thread is building its report
//! (main waits until that thread has spent 2 ms of CPU time after announcing its
//! racy write, which takes microseconds); it runs [`RUNS`] or [`FEWER_RUNS`] times
//! (in parallel, `exec::jobs()` at a time) and every run must print the whole report
//! and end as the program's header says.
//!
//! Options: an unknown flag in `TSAN_OPTIONS` or `__tsan_default_options()` is a
//! one-line warning and the program runs (CI shares one `TSAN_OPTIONS` across runtime
//! versions); in `UMBRA_OPTIONS`, and malformed syntax anywhere, it stays an error.
//!
//! Programs are compiled with `gcc -fsanitize=thread -g -O1 -pthread` into
//! `target/exit-c/` and run with `LD_PRELOAD=target/umbra-test-rt/libumbra.so`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::cprog::gcc_binary;
use common::exec::{self, parallel_map, Output, Status};
use common::toolchain::{target_dir, umbra_runtime};

/// Runs of the programs that leave through `exit`, return from `main` and `_exit`.
const RUNS: usize = 200;
/// Runs of the others (`quick_exit`, `abort`, SIGSEGV), which take the same path
/// through the runtime (`rt::finish`, `report::wait_for_reports`).
const FEWER_RUNS: usize = 50;
const RUN_TIMEOUT: Duration = Duration::from_secs(60);
const RACE_WARNING: &str = "WARNING: ThreadSanitizer: data race";
const RACE_SUMMARY: &str = "SUMMARY: ThreadSanitizer: data race";
const SIGABRT: i32 = 6;
const SIGSEGV: i32 = 11;

/// `tests/exit/NAME.c`, compiled once per test process.
fn program(name: &str) -> PathBuf {
    gcc_binary("exit", name)
}

/// Runs `binary` under umbra with `env` on a scrubbed environment, without core dumps
/// (a shell sets the limit and preloads umbra into the program only).
fn run(binary: &Path, env: &[(&str, &str)]) -> Output {
    let rt = umbra_runtime().unwrap_or_else(|e| panic!("{e}"));
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -c 0; LD_PRELOAD=\"$1\" exec \"$0\"")
        .arg(binary)
        .arg(rt.join("libumbra.so"))
        .env_remove("TSAN_OPTIONS")
        .env_remove("UMBRA_OPTIONS")
        .env_remove("LD_PRELOAD");
    for (key, value) in env {
        cmd.env(key, value);
    }
    exec::run(&mut cmd, RUN_TIMEOUT)
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()))
}

fn describe(out: &Output) -> String {
    format!(
        "({})\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        out.stdout,
        exec::tail(&out.stderr, 80)
    )
}

/// Whether stderr holds exactly one complete data race report.
fn one_whole_report(stderr: &str) -> bool {
    stderr.matches(RACE_WARNING).count() == 1
        && stderr.matches(RACE_SUMMARY).count() == 1
        && stderr.find(RACE_WARNING) < stderr.find(RACE_SUMMARY)
}

/// Runs `name` `runs` times; each run must show one whole report, end with
/// `status`, and satisfy `extra` on its stderr.
fn expect_every_run(
    name: &str,
    runs: usize,
    status: Status,
    extra: &(dyn Fn(&str) -> bool + Sync),
    extra_what: &str,
) {
    let binary = program(name);
    let start = Instant::now();
    let items: Vec<usize> = (0..runs).collect();
    let outputs = parallel_map(&items, |_| run(&binary, &[]));
    let reported = outputs
        .iter()
        .filter(|o| one_whole_report(&o.stderr))
        .count();
    let right_status = outputs.iter().filter(|o| o.status == status).count();
    let right_extra = outputs.iter().filter(|o| extra(&o.stderr)).count();
    eprintln!(
        "{name}: {reported}/{runs} reported, {right_status}/{runs} {status}, {right_extra}/{runs} {extra_what} ({:.1} s)",
        start.elapsed().as_secs_f64()
    );
    if let Some(bad) = outputs
        .iter()
        .find(|o| !one_whole_report(&o.stderr) || o.status != status || !extra(&o.stderr))
    {
        panic!(
            "{name}: {reported}/{runs} runs printed the report, {right_status}/{runs} ended with {status}, \
             {right_extra}/{runs} {extra_what}; a failing run {}",
            describe(bad)
        );
    }
}

fn summary_line(stderr: &str) -> bool {
    stderr.contains("ThreadSanitizer: reported 1 warnings\n")
        && stderr.find(RACE_SUMMARY) < stderr.find("ThreadSanitizer: reported 1 warnings")
}

fn no_summary_line(stderr: &str) -> bool {
    !stderr.contains("ThreadSanitizer: reported")
}

#[test]
fn exit_waits_for_a_report_in_flight() {
    expect_every_run(
        "race_then_exit",
        RUNS,
        Status::Exited(66),
        &summary_line,
        "with the summary line",
    );
}

#[test]
fn return_from_main_waits_for_a_report_in_flight() {
    expect_every_run(
        "race_then_return",
        RUNS,
        Status::Exited(66),
        &summary_line,
        "with the summary line",
    );
}

#[test]
fn underscore_exit_waits_for_a_report_in_flight() {
    expect_every_run(
        "race_then__exit",
        RUNS,
        Status::Exited(66),
        &summary_line,
        "with the summary line",
    );
}

#[test]
fn quick_exit_waits_for_a_report_in_flight() {
    expect_every_run(
        "race_then_quick_exit",
        FEWER_RUNS,
        Status::Exited(66),
        &summary_line,
        "with the summary line",
    );
}

#[test]
fn abort_waits_for_a_report_in_flight() {
    expect_every_run(
        "race_then_abort",
        FEWER_RUNS,
        Status::Signalled(SIGABRT),
        &no_summary_line,
        "without a summary line",
    );
}

#[test]
fn fatal_signal_waits_for_a_report_in_flight() {
    let segv_after_report =
        |stderr: &str| match (stderr.find(RACE_SUMMARY), stderr.find("umbra: SEGV")) {
            (Some(summary), Some(segv)) => {
                summary < segv && stderr.contains("umbra: SEGV on address 0x0 ")
            }
            _ => false,
        };
    expect_every_run(
        "race_then_segv",
        FEWER_RUNS,
        Status::Signalled(SIGSEGV),
        &segv_after_report,
        "with the SEGV line after it",
    );
}

/// The report in flight reaches `log_path` and `json_path` too: every run's log file
/// (`PATH.PID`) holds the whole report and its JSON file one race line.
#[test]
fn exit_waits_for_log_path_and_json_path() {
    let binary = program("race_then_exit");
    let dir = target_dir().join("exit-log-paths");
    let _ = std::fs::remove_dir_all(&dir);
    let runs: Vec<usize> = (0..FEWER_RUNS).collect();
    let failures: Vec<String> = parallel_map(&runs, |&i| {
        let run_dir = dir.join(format!("run{i}"));
        std::fs::create_dir_all(&run_dir).unwrap();
        let json = run_dir.join("reports.jsonl");
        let options = format!(
            "log_path={}:json_path={}",
            run_dir.join("log").display(),
            json.display()
        );
        let out = run(&binary, &[("UMBRA_OPTIONS", options.as_str())]);
        let log = std::fs::read_dir(&run_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("log."))
            })
            .map(|p| std::fs::read_to_string(p).unwrap())
            .unwrap_or_default();
        let json = std::fs::read_to_string(&json).unwrap_or_default();
        let mut why = Vec::new();
        if out.status != Status::Exited(66) {
            why.push(format!("{} instead of exit code 66", out.status));
        }
        if !one_whole_report(&log) {
            why.push(format!("the log file lacks one whole report:\n{log}"));
        }
        if json.lines().count() != 1 || !json.contains("\"data race\"") {
            why.push(format!("the JSON file is not one race line:\n{json}"));
        }
        (!why.is_empty()).then(|| format!("run {i}: {}", why.join("; ")))
    })
    .into_iter()
    .flatten()
    .collect();
    assert!(
        failures.is_empty(),
        "{} of {FEWER_RUNS} runs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// Options

/// The program ran past a warning: the warning is the first stderr line, exactly
/// `warning`, and the race report and the exit code follow.
fn expect_warned_and_ran(out: &Output, warning: &str, code: i32) {
    let context = describe(out);
    assert_eq!(
        out.stderr.lines().next(),
        Some(warning),
        "the first stderr line {context}"
    );
    assert_eq!(
        out.stderr.matches("unknown flag").count(),
        1,
        "one warning {context}"
    );
    assert_eq!(out.stdout, "x=1\n", "the program's output {context}");
    assert!(one_whole_report(&out.stderr), "one report {context}");
    assert!(summary_line(&out.stderr), "the summary line {context}");
    assert_eq!(out.status, Status::Exited(code), "exit code {context}");
}

/// The program did not run: one `umbra: ...` line containing every needle, exit 1.
fn expect_startup_error(out: &Output, needles: &[&str]) {
    let context = describe(out);
    assert_eq!(out.status, Status::Exited(1), "exit code {context}");
    assert!(
        out.stdout.is_empty(),
        "the program ran despite the error {context}"
    );
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines.len() == 1 && lines[0].starts_with("umbra: "),
        "one `umbra: ` line {context}"
    );
    for needle in needles {
        assert!(
            lines[0].contains(needle),
            "the message lacks {needle:?} {context}"
        );
    }
}

#[test]
fn option_unknown_tsan_options_flag_warns_and_runs() {
    let out = run(
        &program("options_typo"),
        &[("TSAN_OPTIONS", "halt_on_eror=1:exitcode=9")],
    );
    expect_warned_and_ran(
        &out,
        "umbra: TSAN_OPTIONS: unknown flag 'halt_on_eror' (did you mean 'halt_on_error'?), ignored",
        9,
    );
    let out = run(
        &program("options_typo"),
        &[("TSAN_OPTIONS", "no_such_flag_at_all=1")],
    );
    expect_warned_and_ran(
        &out,
        "umbra: TSAN_OPTIONS: unknown flag 'no_such_flag_at_all', ignored",
        66,
    );
}

#[test]
fn option_unknown_default_options_flag_warns_and_runs() {
    let out = run(&program("default_options_typo"), &[]);
    expect_warned_and_ran(
        &out,
        "umbra: __tsan_default_options: unknown flag 'report_bgus' (did you mean 'report_bugs'?), ignored",
        7,
    );
}

#[test]
fn option_unknown_umbra_options_flag_is_an_error() {
    let out = run(
        &program("options_typo"),
        &[("UMBRA_OPTIONS", "halt_on_eror=1")],
    );
    expect_startup_error(
        &out,
        &["umbra: UMBRA_OPTIONS: unknown flag 'halt_on_eror' (did you mean 'halt_on_error'?)"],
    );
    assert!(
        !out.stderr.contains("ignored"),
        "UMBRA_OPTIONS is strict: {}",
        describe(&out)
    );
}

#[test]
fn option_malformed_tsan_options_is_still_an_error() {
    // Malformed syntax and bad values stay errors, even next to an unknown flag.
    let out = run(
        &program("options_typo"),
        &[("TSAN_OPTIONS", "no_such_flag=1:halt_on_error")],
    );
    expect_startup_error(
        &out,
        &[
            "umbra: TSAN_OPTIONS: ",
            "expected '=' after 'halt_on_error'",
        ],
    );
    let out = run(
        &program("options_typo"),
        &[("TSAN_OPTIONS", "no_such_flag=1:exitcode=abc")],
    );
    expect_startup_error(&out, &["umbra: TSAN_OPTIONS: ", "exitcode", "'abc'"]);
}
