//! `cargo umbra` end to end, as a new user runs it: the built `cargo-umbra` binary on
//! two small bundled crates.
//!
//! - tests/cargo-umbra/racy: a `#[test]` with a data race between two `static mut`
//!   increments (lines marked `// RACE`), and a binary running the same race.
//!   `cargo umbra test` must report the race at those lines and fail; `cargo umbra
//!   run` must exit with umbra's exit code, 66.
//! - tests/cargo-umbra/clean: mutex, channel, scoped threads, release/acquire, and a
//!   doctest. `cargo umbra test` must pass with no report, doctests included.
//!
//! Both are also run with `cargo umbra nextest run` (skipped where cargo-nextest is not
//! installed): each test in its own process, the racy one failing with exit code 66.
//!
//! The crates are not named `umbra*`: reports hide frames of functions whose names
//! start with `umbra` (the runtime's own).
//!
//! Both crates build into target/cargo-umbra-test (`--target-dir`, so std is built
//! once for both), and the runtime is cached in target/cargo-umbra-cache
//! (`UMBRA_CACHE_DIR`) instead of the user's ~/.cache/umbra.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use common::exec::{self, Output, Status};
use common::report;
use common::toolchain::{target_dir, workspace_dir};

/// Building std with -Zbuild-std on a busy two-core machine takes minutes.
const TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The two tests share a target directory; running them one at a time keeps each
/// within its timeout instead of both waiting on cargo's lock.
static SERIAL: Mutex<()> = Mutex::new(());

fn crate_dir(name: &str) -> PathBuf {
    workspace_dir().join("tests/cargo-umbra").join(name)
}

/// `cargo-umbra umbra ARGS...` (as `cargo umbra ARGS...` runs it) in `dir`.
fn cargo_umbra(dir: &PathBuf, args: &[&str]) -> Output {
    cargo_umbra_env(dir, args, &[])
}

/// [`cargo_umbra`] with `env` set on top of the scrubbed environment.
fn cargo_umbra_env(dir: &PathBuf, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-umbra"));
    cmd.arg("umbra")
        .args(args)
        .arg("--target-dir")
        .arg(target_dir().join("cargo-umbra-test"))
        .current_dir(dir)
        .env("UMBRA_CACHE_DIR", target_dir().join("cargo-umbra-cache"));
    // What the outer `cargo test` exported must not leak into the user's build.
    for (key, _) in std::env::vars_os() {
        let Some(name) = key.to_str() else { continue };
        if (name.starts_with("CARGO_") && name != "CARGO_HOME")
            || [
                "CARGO",
                "RUSTC",
                "RUSTDOC",
                "RUSTFLAGS",
                "RUSTDOCFLAGS",
                "RUSTUP_TOOLCHAIN",
                "MAKEFLAGS",
                "MFLAGS",
            ]
            .contains(&name)
            || name.ends_with("TSAN_OPTIONS")
            || name == "UMBRA_OPTIONS"
            || name == "LD_PRELOAD"
        {
            cmd.env_remove(name);
        }
    }
    cmd.envs(env.iter().copied());
    exec::run(&mut cmd, TIMEOUT).unwrap_or_else(|e| panic!("cannot run cargo-umbra: {e}"))
}

fn show(output: &Output) -> String {
    format!(
        "{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        exec::tail(&output.stdout, 80),
        exec::tail(&output.stderr, 200)
    )
}

/// The lines of `file` marked `// RACE`.
fn race_lines(file: &PathBuf) -> Vec<u32> {
    let text = std::fs::read_to_string(file).unwrap();
    (1..)
        .zip(text.lines())
        .filter(|(_, l)| l.contains("// RACE"))
        .map(|(n, _)| n)
        .collect()
}

/// For each access stack of the reports in `stderr` (`  Write of size ...`,
/// `  Previous read of size ...`), the line of its first frame in a file whose path
/// ends with `file`; sorted.
fn access_lines(stderr: &str, file: &str) -> Vec<u32> {
    let lines: Vec<&str> = stderr.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let header = line.strip_prefix("  ").unwrap_or("");
        if header.starts_with(' ') || !header.contains(" of size ") || !header.ends_with(':') {
            continue;
        }
        let frames = lines[i + 1..]
            .iter()
            .take_while(|l| l.trim_start().starts_with('#') || l.trim_start().starts_with("... "));
        if let Some(n) = frames
            .filter_map(|f| report::frame_location(f.trim()))
            .find_map(|(path, n)| path.ends_with(file).then_some(n))
        {
            found.push(n);
        }
    }
    found.sort();
    found
}

/// How many printed frames (`    #N function ...`) are std's own functions.
fn std_frame_lines(stderr: &str) -> usize {
    stderr
        .lines()
        .filter_map(|l| {
            l.trim_start()
                .strip_prefix('#')?
                .split_once(' ')
                .map(|(_, rest)| rest)
        })
        .filter(|rest| {
            [
                "std::", "core::", "alloc::", "test::", "<std::", "<core::", "<alloc::",
            ]
            .iter()
            .any(|p| rest.starts_with(p))
        })
        .count()
}

/// Whether cargo-nextest is installed (the nextest test is skipped otherwise).
fn nextest_installed() -> bool {
    Command::new("cargo")
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn racy_crate_fails_with_the_race_reported() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = crate_dir("racy");
    let expected = race_lines(&dir.join("src/lib.rs"));
    assert_eq!(expected.len(), 2, "the racy crate marks two lines");

    let output = cargo_umbra(&dir, &["test"]);
    let all = show(&output);
    assert!(
        matches!(output.status, Status::Exited(code) if code != 0),
        "cargo umbra test must fail:\n{all}"
    );
    assert!(
        output.stderr.contains("(exit status: 66)"),
        "the test binary must exit with umbra's exit code 66:\n{all}"
    );
    let parsed = report::parse(&output.stderr, "lib.rs");
    assert_eq!(parsed.reports.len(), 1, "exactly one report:\n{all}");
    assert_eq!(parsed.reports[0].kind, "data race", "{all}");
    assert_eq!(
        access_lines(&output.stderr, "racy/src/lib.rs"),
        expected,
        "the report names the `// RACE` lines:\n{all}"
    );
    assert!(
        output
            .stderr
            .contains("cargo umbra: umbra printed 1 report(s)"),
        "{all}"
    );
    // cargo umbra turns fold_std_frames on: std's thread start, libtest and
    // lang_start are folded into `... N frames in std` lines.
    assert!(
        output.stderr.contains(" frames in std\n"),
        "std frames are folded:\n{all}"
    );
    assert_eq!(
        std_frame_lines(&output.stderr),
        0,
        "no std frame printed:\n{all}"
    );

    // The user's own fold_std_frames=0 wins: every frame printed (the binaries are
    // already built; only the test runs again).
    let output = cargo_umbra_env(&dir, &["test"], &[("UMBRA_OPTIONS", "fold_std_frames=0")]);
    let all = show(&output);
    assert!(
        output
            .stderr
            .contains("WARNING: ThreadSanitizer: data race"),
        "{all}"
    );
    assert!(
        !output.stderr.contains(" frames in std"),
        "fold_std_frames=0 is respected:\n{all}"
    );
    assert!(
        std_frame_lines(&output.stderr) > 5,
        "std frames printed:\n{all}"
    );

    // `cargo umbra run`: the program's own exit status (66 after a report) passes through.
    let output = cargo_umbra(&dir, &["run", "--bin", "racy"]);
    let all = show(&output);
    assert_eq!(
        output.status,
        Status::Exited(66),
        "cargo umbra run exits with the program's status:\n{all}"
    );
    assert!(
        output
            .stderr
            .contains("WARNING: ThreadSanitizer: data race"),
        "{all}"
    );
}

#[test]
fn clean_crate_passes_without_reports() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = crate_dir("clean");
    let output = cargo_umbra(&dir, &["test"]);
    let all = show(&output);
    assert_eq!(
        output.status,
        Status::Exited(0),
        "cargo umbra test must pass:\n{all}"
    );
    assert!(
        !output.stderr.contains("WARNING: ThreadSanitizer"),
        "no report:\n{all}"
    );
    assert!(
        output.stdout.contains("test sharing_without_races ... ok"),
        "the #[test] ran:\n{all}"
    );
    // The doctest ran too (under umbra: it was linked with libumbra.a like the tests).
    assert!(
        output.stderr.contains("Doc-tests clean_fixture"),
        "doctests ran:\n{all}"
    );
    assert!(
        output.stdout.contains("mutex_sum (line "),
        "the doctest ran:\n{all}"
    );
    // The build went to the given target dir, for the host target.
    let host_dir = target_dir().join("cargo-umbra-test/x86_64-unknown-linux-gnu/debug");
    assert!(host_dir.is_dir(), "{} exists", host_dir.display());
}

#[test]
fn nextest_runs_tests_under_umbra() {
    if !nextest_installed() {
        println!("cargo-nextest is not installed (cargo install cargo-nextest): skipped");
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // The racy test fails in its own process, with umbra's exit code, and so does
    // `cargo umbra nextest run`.
    let dir = crate_dir("racy");
    let expected = race_lines(&dir.join("src/lib.rs"));
    let output = cargo_umbra(&dir, &["nextest", "run"]);
    let all = show(&output);
    assert!(
        matches!(output.status, Status::Exited(code) if code != 0),
        "cargo umbra nextest run must fail:\n{all}"
    );
    assert!(
        output.stderr.contains("FAIL ") && output.stderr.contains("racing_increments"),
        "{all}"
    );
    assert!(
        output.stderr.contains("test failed with exit code 66"),
        "the test process exits with 66:\n{all}"
    );
    // nextest indents a failed test's output by four spaces.
    let dedented: Vec<&str> = output
        .stderr
        .lines()
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect();
    let report = dedented.join("\n");
    assert_eq!(
        access_lines(&report, "racy/src/lib.rs"),
        expected,
        "the report names the `// RACE` lines:\n{all}"
    );
    assert!(
        output
            .stderr
            .contains("cargo umbra: umbra printed 1 report(s)"),
        "{all}"
    );
    assert!(
        output.stderr.contains(" frames in std\n"),
        "std frames are folded:\n{all}"
    );

    let output = cargo_umbra(&crate_dir("clean"), &["nextest", "run"]);
    let all = show(&output);
    assert_eq!(
        output.status,
        Status::Exited(0),
        "cargo umbra nextest run must pass:\n{all}"
    );
    assert!(
        !output.stderr.contains("WARNING: ThreadSanitizer"),
        "no report:\n{all}"
    );
    assert!(
        output.stderr.contains("PASS ") && output.stderr.contains("sharing_without_races"),
        "the test ran:\n{all}"
    );

    // A nextest subcommand that builds nothing is refused before anything runs.
    let output = cargo_umbra(&crate_dir("clean"), &["nextest", "show-config"]);
    assert_eq!(output.status, Status::Exited(2), "{}", show(&output));
    assert!(
        output
            .stderr
            .contains("`cargo umbra nextest` needs one of: run"),
        "{}",
        show(&output)
    );
}
