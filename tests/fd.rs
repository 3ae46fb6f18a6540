//! File descriptors as TSan models them, end to end (`ffi/src/fdtable.rs`): the
//! happens-before edges of pipes, duplicates, sockets, eventfds, epoll and fds
//! passed over sockets, races between a close and a use reported on the fd with
//! its `Location is file descriptor N created by/destroyed by` section, and no
//! false report when fds and their numbers are handed between threads. Each C
//! program in `tests/fd/` shows one behaviour; its header says what the run must
//! do (see `common::annotated`).

mod common;

use common::annotated::ProgramDir;
use common::exec::tail;

const PROGRAMS: ProgramDir = ProgramDir::new("fd");

fn check(name: &str) {
    PROGRAMS.check(name);
}

#[test]
fn every_program_is_run() {
    PROGRAMS.assert_every_program_is_run(include_str!("fd.rs"));
}

#[test]
fn pipe_write_happens_before_the_read() {
    check("pipe_handoff");
}

#[test]
fn dup_shares_the_pipes_synchronization() {
    check("dup_shares_sync");
}

#[test]
fn fcntl_dupfd_shares_the_pipes_synchronization() {
    check("fcntl_dupfd_shares_sync");
}

#[test]
fn socketpair_send_happens_before_the_recv() {
    check("socketpair_handoff");
}

#[test]
fn eventfd_write_happens_before_the_read() {
    check("eventfd_handoff");
}

#[test]
fn write_to_a_pipe_in_an_epoll_set_happens_before_epoll_wait() {
    check("epoll_handoff");
}

#[test]
fn connect_happens_before_accept_and_sockets_carry_data() {
    check("connect_accept");
}

#[test]
fn fd_received_with_scm_rights_is_no_race() {
    check("scm_rights_handoff");
}

#[test]
fn accepted_fds_reused_across_threads_are_no_race() {
    check("socket_fd_reuse");
}

#[test]
fn dup2_over_an_fd_in_use_is_no_race() {
    check("dup2_over_used_fd");
}

#[test]
fn close_racing_with_a_write_is_reported_on_the_fd() {
    check("close_race");
}

#[test]
fn race_after_a_close_names_the_fd_destroyed() {
    check("close_race_destroyed");
}

#[test]
fn fd_location_in_json() {
    let dir = common::toolchain::target_dir().join("fd-tmp");
    std::fs::create_dir_all(&dir).expect("creating target/fd-tmp");
    let json = dir.join(format!("{}-close_race.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&json);
    let opts = format!("json_path={}", json.display());
    let out = PROGRAMS.run_umbra("close_race", &[("TSAN_OPTIONS", &opts)]);
    let e = PROGRAMS.expected("close_race");
    if let Some(why) = PROGRAMS.mismatch("close_race", &e, &out) {
        panic!("{why}");
    }
    let text = std::fs::read_to_string(&json).expect("the JSON report");
    let report: serde_json::Value =
        serde_json::from_str(text.lines().next().expect("one report")).expect("JSON");
    let loc = &report["location"];
    assert_eq!(loc["type"], "fd", "{text}");
    assert_eq!(loc["fd"], 4, "{text}");
    assert_eq!(loc["destroyed"], false, "{text}");
    assert_eq!(loc["thread"], "main", "{text}");
    assert_eq!(loc["stack"][0]["function"], "main", "{text}");
}

#[test]
fn io_sync_0_turns_fd_synchronization_off() {
    let out = PROGRAMS.run_umbra("pipe_handoff", &[("TSAN_OPTIONS", "io_sync=0")]);
    assert!(
        out.stderr.contains("WARNING: ThreadSanitizer: data race"),
        "{}",
        tail(&out.stderr, 40)
    );
}
