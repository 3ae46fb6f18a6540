//! Entry points of the stock runtime beyond the access ABI (issue 10, group 3),
//! end to end: fibers, the report-debugging API and `__tsan_on_report`, the
//! program hooks the runtime calls, `__sanitizer_unaligned_*`, the syscall hooks,
//! the `__interceptor_*` names and `atexit`. Each program in `tests/api/` shows one
//! behaviour and says in its header what the run must print; it is built with gcc
//! and (where installed) clang-16 `-shared-libsan` and run with umbra preloaded.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::cprog::{compile, preloaded, Compiler};
use common::exec::{run, Output, Status};
use common::toolchain::workspace_dir;

const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `tests/api/NAME.c` under umbra for each compiler that is installed.
fn run_program(name: &str) -> Vec<(Compiler, Output)> {
    let source: PathBuf = workspace_dir().join("tests/api").join(format!("{name}.c"));
    let mut outputs = Vec::new();
    for compiler in [Compiler::Gcc, Compiler::Clang] {
        let Some(binary) =
            compile(&source, "api-c", compiler, &[]).unwrap_or_else(|e| panic!("{e}"))
        else {
            println!("clang-16 is not installed: {name} is not run with clang");
            continue;
        };
        let out = run(&mut preloaded(&binary), RUN_TIMEOUT)
            .unwrap_or_else(|e| panic!("running {name}: {e}"));
        outputs.push((compiler, out));
    }
    outputs
}

fn reports(out: &Output) -> usize {
    out.stderr.matches("WARNING: ThreadSanitizer:").count()
}

#[test]
fn fibers_switched_without_sync_race() {
    for (compiler, out) in run_program("fiber_race_no_sync") {
        let what = format!("{compiler:?}: {}", out.stderr);
        assert_eq!(out.stdout, "shared 2\n", "{what}");
        assert_eq!(out.status, Status::Exited(66), "{what}");
        assert_eq!(reports(&out), 1, "{what}");
        assert!(out.stderr.contains("WARNING: ThreadSanitizer: data race"), "{what}");
        assert!(out.stderr.contains("by main thread:"), "{what}");
        assert!(out.stderr.contains(" by thread T1:"), "{what}");
        assert!(out.stderr.contains("fiber_body"), "{what}");
        assert!(
            out.stderr
                .contains("Thread T1 'worker fiber' (tid=0, running) created by main thread at:"),
            "{what}"
        );
        assert!(out.stderr.contains("Location is global 'shared'"), "{what}");
    }
}

#[test]
fn fiber_switch_synchronizes() {
    for (compiler, out) in run_program("fiber_sync_no_race") {
        let what = format!("{compiler:?}: {}", out.stderr);
        assert_eq!(out.stdout, "shared 2\n", "{what}");
        assert_eq!(out.status, Status::Exited(0), "{what}");
        assert_eq!(out.stderr, "", "{what}");
    }
}

#[test]
fn destroyed_fibers_give_back_their_memory() {
    for (compiler, out) in run_program("fiber_create_destroy") {
        let what = format!("{compiler:?}: {}", out.stderr);
        assert_eq!(out.stdout, "address space kept, 1000 fibers\n", "{what}");
        assert_eq!(out.status, Status::Exited(0), "{what}");
        assert_eq!(out.stderr, "", "{what}");
    }
}
