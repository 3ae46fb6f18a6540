//! The report kinds besides races, end to end: thread leaks, mutex misuse,
//! lock-order inversions, the `__tsan_mutex_*` annotations and ignore regions left
//! open. Each C or C++ program in `tests/report_kinds/` shows one behaviour; it is
//! built with `gcc -fsanitize=thread` (`g++` for C++) and run with umbra preloaded;
//! its header lines say what the run must do (see `common::annotated`).
//!
//! The options and suppressions that turn these reports off, and their JSON form,
//! are checked on the same programs.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::annotated::{has_frame, ProgramDir};
use common::exec::{tail, Output, Status};
use common::toolchain::target_dir;

const PROGRAMS: ProgramDir = ProgramDir::new("report_kinds");

fn source(name: &str) -> PathBuf {
    PROGRAMS.source(name)
}

fn run_umbra(name: &str, env: &[(&str, &str)]) -> Output {
    PROGRAMS.run_umbra(name, env)
}

fn marker_line(name: &str, mark: &str) -> usize {
    PROGRAMS.marker_line(name, mark)
}

/// Runs `name` on umbra and checks it against its header (and stock TSan's run).
fn check(name: &str) {
    PROGRAMS.check(name);
}

/// A run with options that silence the program's one report: exit 0, no report.
fn check_silenced(name: &str, env: &[(&str, &str)]) {
    let out = run_umbra(name, env);
    assert_eq!(
        out.status,
        Status::Exited(0),
        "{name} {env:?}: {}",
        tail(&out.stderr, 60)
    );
    assert!(
        !out.stderr.contains("WARNING: ThreadSanitizer"),
        "{name} {env:?}: {}",
        tail(&out.stderr, 60)
    );
}

fn scratch_file(name: &str, contents: &str) -> PathBuf {
    let dir = target_dir().join("report-kinds-tmp");
    fs::create_dir_all(&dir).expect("creating target/report-kinds-tmp");
    let path = dir.join(format!("{}-{name}", std::process::id()));
    fs::write(&path, contents).expect("writing a scratch file");
    path
}

// ---------------------------------------------------------------------------------------
// Thread leaks

#[test]
fn finished_unjoined_thread_is_a_leak() {
    check("thread_leak");
}

#[test]
fn leaks_with_one_creation_stack_are_one_report() {
    check("thread_leak_similar");
}

#[test]
fn joined_threads_are_no_leak() {
    check("threads_joined");
}

#[test]
fn detached_threads_are_no_leak() {
    check("threads_detached");
}

#[test]
fn thread_running_at_exit_is_no_leak() {
    check("thread_running_at_exit");
}

#[test]
fn thread_ending_the_process_after_main_pthread_exit_is_no_leak() {
    check("main_pthread_exit");
}

#[test]
fn leak_is_reported_and_symbolized_after_main_pthread_exit() {
    check("main_pthread_exit_leak");
}

#[test]
fn child_of_a_multithreaded_fork_reports_no_leaks() {
    check("fork_child_no_leaks");
}

#[test]
fn report_thread_leaks_0_and_thread_suppressions_silence_leaks() {
    check_silenced("thread_leak", &[("TSAN_OPTIONS", "report_thread_leaks=0")]);
    check_silenced("thread_leak", &[("TSAN_OPTIONS", "report_bugs=0")]);
    let supp = scratch_file("thread.supp", "thread:start_worker\n");
    let opts = format!("suppressions={}", supp.display());
    check_silenced("thread_leak", &[("TSAN_OPTIONS", &opts)]);
    // A suppression of another type does not apply.
    let supp = scratch_file("race.supp", "race:start_worker\nmutex:start_worker\n");
    let out = run_umbra(
        "thread_leak",
        &[("TSAN_OPTIONS", &format!("suppressions={}", supp.display()))],
    );
    assert_eq!(out.status, Status::Exited(66), "{}", tail(&out.stderr, 40));
}

// ---------------------------------------------------------------------------------------
// Mutex misuse

#[test]
fn destroying_a_locked_mutex_is_reported_with_its_lock() {
    check("mutex_destroy_locked");
    // The destroy's stack comes first, then "and:" and the lock's.
    let out = run_umbra("mutex_destroy_locked", &[]);
    let and = out.stderr.find("  and:\n").expect("an `and:` line");
    let (destroy, lock) = (
        marker_line("mutex_destroy_locked", "destroy"),
        marker_line("mutex_destroy_locked", "lock"),
    );
    let path = source("mutex_destroy_locked").display().to_string();
    assert!(
        has_frame(&out.stderr[..and], "main", &path, destroy),
        "{}",
        out.stderr
    );
    assert!(
        has_frame(&out.stderr[and..], "main", &path, lock),
        "{}",
        out.stderr
    );
}

#[test]
fn destroying_a_locked_spinlock_is_reported() {
    check("spinlock_destroy_locked");
}

#[test]
fn unlocking_an_unlocked_mutex_is_reported() {
    check("mutex_unlock_unlocked");
}

#[test]
fn unlocking_another_threads_mutex_is_reported() {
    check("mutex_unlock_wrong_thread");
}

#[test]
fn lock_taken_while_another_thread_owns_it_is_a_double_lock() {
    check("mutex_double_lock");
}

#[test]
fn read_lock_of_a_write_locked_rwlock_is_reported() {
    check("rwlock_read_lock_write_locked");
}

#[test]
fn unlocking_another_threads_rwlock_is_reported() {
    check("rwlock_unlock_wrong_thread");
}

#[test]
fn recursive_mutex_relocked_by_its_owner_is_not_reported() {
    check("mutex_recursive");
}

#[test]
fn error_checking_mutex_refusing_a_relock_is_not_reported() {
    check("mutex_errorcheck");
}

#[test]
fn concurrent_rwlock_readers_are_not_reported() {
    check("rwlock_readers");
}

#[test]
fn condition_waits_keep_the_mutex_owner() {
    check("mutex_condvar");
}

#[test]
fn mutex_options_and_suppressions_silence_misuse() {
    check_silenced(
        "mutex_unlock_unlocked",
        &[("TSAN_OPTIONS", "report_mutex_bugs=0")],
    );
    check_silenced(
        "mutex_double_lock",
        &[("TSAN_OPTIONS", "report_mutex_bugs=0")],
    );
    check_silenced(
        "mutex_destroy_locked",
        &[("TSAN_OPTIONS", "report_destroy_locked=0")],
    );
    check_silenced("mutex_destroy_locked", &[("TSAN_OPTIONS", "report_bugs=0")]);
    let supp = scratch_file("mutex.supp", "mutex:worker\n");
    let opts = format!("suppressions={}", supp.display());
    check_silenced("mutex_unlock_wrong_thread", &[("TSAN_OPTIONS", &opts)]);
}

#[test]
fn halt_on_error_stops_at_the_first_misuse() {
    let out = run_umbra(
        "mutex_unlock_unlocked",
        &[("TSAN_OPTIONS", "halt_on_error=1")],
    );
    assert_eq!(out.status, Status::Exited(66), "{}", tail(&out.stderr, 40));
    assert!(
        !out.stdout.contains("unlock returned"),
        "the program went on: {}",
        out.stdout
    );
    assert!(
        out.stderr.contains("ThreadSanitizer: reported 1 warnings"),
        "{}",
        tail(&out.stderr, 40)
    );
}

#[test]
fn locking_a_destroyed_mutex_is_an_invalid_mutex() {
    check("mutex_invalid_access");
}

// ---------------------------------------------------------------------------------------
// Lock-order inversions

#[test]
fn two_mutexes_taken_in_both_orders_are_a_lock_order_inversion() {
    check("deadlock_two_mutexes");
}

#[test]
fn three_threads_closing_a_cycle_of_three_mutexes_are_reported() {
    check("deadlock_three_mutexes");
}

#[test]
fn rwlock_read_and_write_locks_take_part_in_the_lock_order() {
    check("deadlock_rwlocks");
}

#[test]
fn a_try_lock_makes_no_lock_order_edge() {
    check("deadlock_trylock_no_edge");
}

#[test]
fn a_mutex_taken_by_try_lock_orders_later_locks() {
    check("deadlock_after_trylock");
}

#[test]
fn one_consistent_lock_order_is_not_reported() {
    check("deadlock_consistent_order");
}

#[test]
fn std_mutex_lock_order_inversion_in_cpp() {
    check("deadlock_std_mutex");
}

#[test]
fn second_deadlock_stack_prints_where_the_first_mutex_was_taken() {
    let name = "deadlock_two_mutexes";
    let out = run_umbra(name, &[("TSAN_OPTIONS", "second_deadlock_stack=1")]);
    assert_eq!(out.status, Status::Exited(66), "{}", tail(&out.stderr, 60));
    let path = source(name).display().to_string();
    // Per edge: the second mutex's lock, then where the first one was taken.
    let prev = "  Mutex M0 previously acquired by the same thread here:\n";
    let at = out
        .stderr
        .find(prev)
        .unwrap_or_else(|| panic!("{}", out.stderr));
    let main_lock_a = marker_line(name, "main_lock_a");
    assert!(
        has_frame(&out.stderr[at..], "main", &path, main_lock_a),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("  Mutex M1 previously acquired by the same thread here:\n"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("HINT:"), "{}", out.stderr);
    // The default: one stack per edge and the hint.
    let out = run_umbra(name, &[]);
    assert!(
        !out.stderr.contains("previously acquired"),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stderr
            .matches("    HINT: use TSAN_OPTIONS=second_deadlock_stack=1")
            .count(),
        1
    );
}

#[test]
fn detect_deadlocks_0_and_deadlock_suppressions_silence_inversions() {
    check_silenced(
        "deadlock_two_mutexes",
        &[("TSAN_OPTIONS", "detect_deadlocks=0")],
    );
    check_silenced("deadlock_two_mutexes", &[("TSAN_OPTIONS", "report_bugs=0")]);
    let supp = scratch_file("deadlock.supp", "deadlock:worker\n");
    let opts = format!("suppressions={}", supp.display());
    check_silenced("deadlock_two_mutexes", &[("TSAN_OPTIONS", &opts)]);
    // A suppression of another type does not apply.
    let supp = scratch_file("mutex-race.supp", "mutex:worker\nrace:worker\n");
    let out = run_umbra(
        "deadlock_two_mutexes",
        &[("TSAN_OPTIONS", &format!("suppressions={}", supp.display()))],
    );
    assert_eq!(out.status, Status::Exited(66), "{}", tail(&out.stderr, 40));
}

// ---------------------------------------------------------------------------------------
// `__tsan_mutex_*` annotations (a hand-written spin mutex, tests/report_kinds/spin_mutex.h)

#[test]
fn annotated_spin_mutex_orders_its_critical_sections() {
    check("annotated_spin_mutex");
}

#[test]
fn unannotated_spin_mutex_orders_nothing() {
    check("spin_mutex_unannotated");
}

#[test]
fn access_outside_an_annotated_mutex_races() {
    check("annotated_spin_mutex_race");
}

#[test]
fn failed_annotated_try_lock_acquires_nothing() {
    check("annotated_try_lock_failed");
}

#[test]
fn annotated_recursive_mutex_releases_and_retakes_every_hold() {
    check("annotated_recursive");
}

#[test]
fn annotated_mutexes_take_part_in_the_lock_order() {
    check("annotated_deadlock");
}

// ---------------------------------------------------------------------------------------
// Ignore regions left open

#[test]
fn thread_ending_in_an_ignore_region_stops_the_process() {
    check("thread_end_with_ignores");
}

#[test]
fn thread_ending_in_a_sync_ignore_region_stops_the_process() {
    check("thread_end_with_ignore_sync");
}

#[test]
fn main_returning_in_an_ignore_region_stops_the_process() {
    check("main_end_with_ignores");
}

#[test]
fn ended_ignore_regions_are_not_reported() {
    check("ignores_ended");
}

// ---------------------------------------------------------------------------------------
// JSON

/// The JSON lines `json_path` got from a run of `name`.
fn json_reports(name: &str) -> Vec<serde_json::Value> {
    let path = scratch_file(&format!("{name}.jsonl"), "");
    let opts = format!("json_path={}", path.display());
    let out = run_umbra(name, &[("TSAN_OPTIONS", &opts)]);
    assert_eq!(out.status, Status::Exited(66), "{}", tail(&out.stderr, 40));
    let text = fs::read_to_string(&path).expect("the json_path file");
    let _ = fs::remove_file(&path);
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn frame_is(frame: &serde_json::Value, func: &str, name: &str, mark: &str) -> bool {
    frame["function"] == func
        && frame["file"]
            .as_str()
            .is_some_and(|f| Path::new(f) == source(name))
        && frame["line"] == marker_line(name, mark) as u64
}

#[test]
fn json_has_thread_leaks_and_mutex_misuse() {
    let leaks = json_reports("thread_leak_similar");
    assert_eq!(leaks.len(), 1, "{leaks:?}");
    let r = &leaks[0];
    assert_eq!(r["kind"], "thread leak");
    assert!(r["current"].is_null() && r["previous"].is_null(), "{r}");
    assert_eq!(r["count"], 3);
    assert_eq!(r["threads"][0]["id"], "T1");
    assert_eq!(r["threads"][0]["running"], false);
    assert!(
        frame_is(
            &r["threads"][0]["stack"][0],
            "main",
            "thread_leak_similar",
            "create"
        ),
        "{r}"
    );
    assert_eq!(r["summary"]["function"], "main");

    let destroy = json_reports("mutex_destroy_locked");
    assert_eq!(destroy.len(), 1, "{destroy:?}");
    let r = &destroy[0];
    assert_eq!(r["kind"], "destroy of a locked mutex");
    assert_eq!(r["stacks"].as_array().map(Vec::len), Some(2), "{r}");
    assert!(
        frame_is(
            &r["stacks"][0][0],
            "main",
            "mutex_destroy_locked",
            "destroy"
        ),
        "{r}"
    );
    assert!(
        frame_is(&r["stacks"][1][0], "main", "mutex_destroy_locked", "lock"),
        "{r}"
    );
    assert_eq!(r["location"]["type"], "stack");
    assert_eq!(r["mutexes"][0]["id"], "M0");
    assert!(
        frame_is(
            &r["mutexes"][0]["stack"][0],
            "main",
            "mutex_destroy_locked",
            "init"
        ),
        "{r}"
    );
    assert_eq!(
        r["summary"]["line"],
        marker_line("mutex_destroy_locked", "destroy") as u64
    );
}

#[test]
fn json_has_lock_order_inversions() {
    let name = "deadlock_two_mutexes";
    let reports = json_reports(name);
    assert_eq!(reports.len(), 1, "{reports:?}");
    let r = &reports[0];
    assert_eq!(r["kind"], "lock-order-inversion (potential deadlock)");
    assert!(r["current"].is_null(), "{r}");
    let cycle = r["cycle"].as_array().expect("a cycle");
    assert_eq!(cycle.len(), 2, "{r}");
    assert_eq!(cycle[0]["from"], "M0");
    assert_eq!(cycle[0]["to"], "M1");
    assert_eq!(cycle[0]["thread"], "main");
    assert_eq!(cycle[1]["from"], "M1");
    assert_eq!(cycle[1]["to"], "M0");
    assert_eq!(cycle[1]["thread"], "T1");
    assert_eq!(r["mutexes"].as_array().map(Vec::len), Some(2), "{r}");
    assert_eq!(r["stacks"].as_array().map(Vec::len), Some(2), "{r}");
    assert!(frame_is(&r["stacks"][0][0], "main", name, "lock_b"), "{r}");
    assert!(
        frame_is(&r["stacks"][1][0], "worker", name, "lock_a"),
        "{r}"
    );
    assert_eq!(r["threads"][0]["id"], "T1");
    assert_eq!(r["summary"]["line"], marker_line(name, "lock_b") as u64);
}

#[test]
fn every_program_has_a_test() {
    PROGRAMS.assert_every_program_is_run(include_str!("report_kinds.rs"));
}
