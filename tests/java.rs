//! The Java interface (`__tsan_java_*`), end to end: the C programs in
//! `tests/java/`, one behaviour each, play a JVM (a heap declared with
//! `__tsan_java_init`, objects allocated, moved and freed, monitors, volatiles,
//! finalizers), are built with `gcc -fsanitize=thread` and run with umbra
//! preloaded; each states its expected result in header lines at the top (see
//! `common::annotated`) and, where marked `// stock`, must match gcc's libtsan.

mod common;

use common::annotated::ProgramDir;

const PROGRAMS: ProgramDir = ProgramDir::new("java");

fn check(name: &str) {
    PROGRAMS.check(name);
}

#[test]
fn every_program_is_run() {
    PROGRAMS.assert_every_program_is_run(include_str!("java.rs"));
}

#[test]
fn unordered_writes_of_an_object_race_and_fini_returns_exitcode() {
    check("race");
}

#[test]
fn a_monitor_orders_its_holders() {
    check("monitor");
}

#[test]
fn a_recursive_monitor_is_released_by_its_last_unlock() {
    check("recursion");
}

#[test]
fn unlock_rec_gives_up_every_level_and_lock_rec_retakes_them() {
    check("unlock_rec");
}

#[test]
fn a_race_after_a_move_is_found_at_the_new_address() {
    check("move_race");
}

#[test]
fn a_move_forgets_the_accesses_before_it() {
    check("move_forgets");
}

#[test]
fn a_monitor_moves_with_its_object() {
    check("move_monitor");
}

#[test]
fn find_returns_the_first_object_and_follows_moves_and_frees() {
    check("find");
}

#[test]
fn a_finalizer_runs_after_everything_before_it() {
    check("finalize");
}

#[test]
fn a_volatile_release_store_and_acquire_order_plain_writes() {
    check("volatile");
}

#[test]
fn a_read_unlock_orders_the_reader_before_the_next_writer() {
    check("read_monitor");
}

#[test]
fn unlocking_a_monitor_nobody_holds_is_reported() {
    check("bad_unlock");
}
