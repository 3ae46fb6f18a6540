//! The test-harness ABI of compiler-rt's `test/tsan/test.h` (and rustc's sanitizer
//! tests): the invisible barrier and the shadow-stack depth, on gcc and clang builds.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::cprog::{run_with_each_compiler, Compiler};
use common::exec::{Output, Status};
use common::toolchain::workspace_dir;

const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `tests/api/NAME.c` under umbra for each compiler that is installed.
fn run_program(name: &str) -> Vec<(Compiler, Output)> {
    let source: PathBuf = workspace_dir().join("tests/api").join(format!("{name}.c"));
    run_with_each_compiler(&source, "api-c", &[], RUN_TIMEOUT)
}

#[test]
fn barrier_is_invisible() {
    for (compiler, out) in run_program("barrier_is_invisible") {
        let what = format!("{compiler:?}: {}", out.stderr);
        assert_eq!(out.stdout, "read 7\n", "{what}");
        assert_eq!(out.status, Status::Exited(66), "{what}");
        assert_eq!(
            out.stderr
                .matches("WARNING: ThreadSanitizer: data race")
                .count(),
            1,
            "{what}"
        );
        assert!(out.stderr.contains("Location is global 'shared'"), "{what}");
    }
}

#[test]
fn barrier_takes_any_thread_count() {
    for (compiler, out) in run_program("barrier_many_threads") {
        let what = format!("{compiler:?}: {}", out.stderr);
        assert_eq!(out.stdout, "600\n", "{what}");
        assert_eq!(out.status, Status::Exited(0), "{what}");
        assert!(!out.stderr.contains("ThreadSanitizer"), "{what}");
    }
}

#[test]
fn shadow_stack_size_counts_entered_frames() {
    for (compiler, out) in run_program("shadow_stack_size") {
        let what = format!("{compiler:?}: {}", out.stderr);
        assert_eq!(out.stdout, "inner +2, after 0\n", "{what}");
        assert_eq!(out.status, Status::Exited(0), "{what}");
    }
}
