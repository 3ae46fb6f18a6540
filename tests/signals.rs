//! Signals under umbra, end to end: the C programs in `tests/signals/`, one
//! behaviour each, built with `gcc -fsanitize=thread` and run with umbra preloaded.
//! Each program states its expected result in header lines at the top (see
//! `common::annotated`).
//!
//! The storm programs run many times, in parallel, each time clean.

mod common;

use std::fs;

use common::annotated::ProgramDir;
use common::exec::{parallel_map, tail, Output, Status};
use common::toolchain::target_dir;

/// Repeats of each storm program.
const STORM_RUNS: usize = 20;

const PROGRAMS: ProgramDir = ProgramDir::new("signals");

fn run_program(name: &str, env: &[(&str, &str)]) -> Output {
    PROGRAMS.run_umbra(name, env)
}

/// Runs `name` once and checks it against its header.
fn check(name: &str) {
    PROGRAMS.check(name);
}

/// Runs a storm program `STORM_RUNS` times in parallel, each storm lasting
/// `seconds`; every run must be clean.
fn storm(name: &str, seconds: &str) {
    let e = PROGRAMS.expected(name);
    PROGRAMS.binary(name);
    let runs: Vec<usize> = (0..STORM_RUNS).collect();
    let results = parallel_map(&runs, |_| run_program(name, &[("STORM_SECONDS", seconds)]));
    let failures: Vec<String> = results
        .iter()
        .enumerate()
        .filter_map(|(i, out)| {
            PROGRAMS
                .mismatch(name, &e, out)
                .map(|why| format!("run {i}: {why}"))
        })
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
    PROGRAMS.assert_every_program_is_run(include_str!("signals.rs"));
}
