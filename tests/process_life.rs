//! Process and thread life, end to end: fork handlers and forks while other
//! threads keep the runtime busy, vfork, clone used directly, die_after_fork,
//! pthread_cancel through intercepted blocking calls, munmap of invalid ranges.
//! Each C program in `tests/process_life/` shows one behaviour; its header says
//! what the run must do (see `common::annotated`).

mod common;

use common::annotated::ProgramDir;
use common::exec::{tail, Status};

const PROGRAMS: ProgramDir = ProgramDir::new("process_life");

fn check(name: &str) {
    PROGRAMS.check(name);
}

#[test]
fn every_program_is_run() {
    PROGRAMS.assert_every_program_is_run(include_str!("process_life.rs"));
}

#[test]
fn pthread_atfork_handlers_run_and_touch_memory() {
    check("atfork_handlers");
}

#[test]
fn fork_while_threads_use_the_runtime_never_hangs() {
    check("fork_busy_threads");
}

#[test]
fn vfork_child_closing_fds_is_no_race() {
    check("vfork_child_closes");
}

#[test]
fn clone_without_clone_vm_is_a_fork() {
    check("clone_process");
}

#[test]
fn thread_created_after_multithreaded_fork_dies() {
    check("die_after_fork");
}

#[test]
fn die_after_fork_0_lets_the_child_create_threads() {
    let out = PROGRAMS.run_umbra("die_after_fork", &[("TSAN_OPTIONS", "die_after_fork=0")]);
    assert_eq!(out.status, Status::Exited(0), "{}", tail(&out.stderr, 40));
    assert!(out.stdout.contains("child thread ran"), "{}", out.stdout);
    assert!(out.stdout.contains("child exit 0"), "{}", out.stdout);
    assert!(!out.stderr.contains("Dying"), "{}", out.stderr);
}

#[test]
fn cancelled_condition_wait_relocks_the_mutex() {
    check("cancel_cond_wait");
}

#[test]
fn cancellation_unwinds_through_blocking_interceptors() {
    check("cancel_blocking_calls");
}

#[test]
fn munmap_of_invalid_ranges_fails_as_without_the_runtime() {
    check("munmap_invalid");
}
