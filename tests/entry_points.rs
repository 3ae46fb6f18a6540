//! Entry points of the stock runtime beyond the access ABI (issue 10, group 3),
//! end to end: fibers, the report-debugging API and `__tsan_on_report`, the
//! program hooks the runtime calls, `__sanitizer_unaligned_*`, the syscall hooks,
//! the `__interceptor_*` names and `atexit`. Each program in `tests/api/` shows one
//! behaviour and says in its header what the run must print; it is built with gcc
//! and (where installed) clang-16 `-shared-libsan` and run with umbra preloaded.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::cprog::{compile, run_with_each_compiler, Compiler};
use common::exec::{run, Output, Status};
use common::toolchain::workspace_dir;

const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `tests/api/NAME.c` under umbra for each compiler that is installed.
fn run_program(name: &str) -> Vec<(Compiler, Output)> {
    run_program_with(name, &[])
}

/// `tests/api/NAME.c`, or `NAME.cpp` if there is no `.c`.
fn source(name: &str) -> PathBuf {
    let dir = workspace_dir().join("tests/api");
    let c = dir.join(format!("{name}.c"));
    if c.exists() {
        c
    } else {
        dir.join(format!("{name}.cpp"))
    }
}

/// `run_program`, compiling with the `extra` flags too.
fn run_program_with(name: &str, extra: &[&str]) -> Vec<(Compiler, Output)> {
    let source = source(name);
    // The C drivers link C++ programs without the C++ library otherwise.
    let cxx = source.extension().is_some_and(|e| e == "cpp");
    let extra: Vec<&str> = extra
        .iter()
        .copied()
        .chain(cxx.then_some("-lstdc++"))
        .collect();
    run_with_each_compiler(&source, "api-c", &extra, RUN_TIMEOUT)
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
        assert!(
            out.stderr.contains("WARNING: ThreadSanitizer: data race"),
            "{what}"
        );
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

/// Asserts that `name` prints `stdout` and exits with `code`, with `races` data
/// race reports and nothing else on stderr, on every compiler.
fn expect(name: &str, stdout: &str, code: i32, races: usize) -> Vec<(Compiler, Output)> {
    expect_with(name, &[], stdout, code, races)
}

/// `expect`, compiling with the `extra` flags too.
fn expect_with(
    name: &str,
    extra: &[&str],
    stdout: &str,
    code: i32,
    races: usize,
) -> Vec<(Compiler, Output)> {
    let outputs = run_program_with(name, extra);
    for (compiler, out) in &outputs {
        let what = format!("{compiler:?}: {}", out.stderr);
        assert_eq!(out.stdout, stdout, "{what}");
        assert_eq!(out.status, Status::Exited(code), "{what}");
        assert_eq!(reports(out), races, "{what}");
        assert_eq!(
            out.stderr
                .matches("WARNING: ThreadSanitizer: data race")
                .count(),
            races,
            "{what}"
        );
        if races == 0 {
            assert_eq!(out.stderr, "", "{what}");
        }
    }
    outputs
}

#[test]
fn interceptor_names_reach_the_runtime() {
    expect(
        "interceptor_alias",
        "user fopen\nread 1 byte\nmalloc'd 42\n",
        0,
        0,
    );
}

/// Without libtsan loaded at all, `__interceptor_fopen` and `__interceptor_malloc`
/// can only be umbra's.
#[test]
fn interceptor_names_in_place_of_libtsan() {
    let out = run_in_place_of_libtsan("interceptor_alias");
    assert_eq!(
        out.stdout, "user fopen\nread 1 byte\nmalloc'd 42\n",
        "{}",
        out.stderr
    );
    assert_eq!(out.status, Status::Exited(0), "{}", out.stderr);
    assert_eq!(out.stderr, "");
}

#[test]
fn blocking_region_hooks_around_static_initialization() {
    expect(
        "blocking_region_hooks",
        "main\nbegin\nend\nstatic 2\nafter\n",
        0,
        0,
    );
}

#[test]
fn atexit_handlers_run_after_their_registration() {
    expect(
        "atexit_handler",
        "main returns\nsecond handler\nfirst handler sees 42\n",
        0,
        0,
    );
}

/// Runs the gcc build of `tests/api/NAME.c` with umbra installed as
/// `libtsan.so.2` (first on `LD_LIBRARY_PATH`, nothing preloaded): every stock
/// name the binary binds to must be umbra's.
fn run_in_place_of_libtsan(name: &str) -> Output {
    // A folder of its own: the other tests compile the same programs into `api-c/`
    // at the same time, and running a binary while gcc rewrites it fails (ETXTBSY).
    let binary = compile(&source(name), "api-c-in-place", Compiler::Gcc, &[])
        .unwrap_or_else(|e| panic!("{e}"))
        .expect("gcc is always available");
    let rt = common::toolchain::umbra_runtime().unwrap_or_else(|e| panic!("{e}"));
    let dir = common::toolchain::target_dir().join("api-c-in-place/libtsan-is-umbra");
    std::fs::create_dir_all(&dir).unwrap();
    // Replaced atomically (a new link renamed over the old): tests running at the
    // same time must never see the folder without a libtsan.so.2.
    let link = dir.join("libtsan.so.2");
    let fresh = dir.join(format!("libtsan.so.2.{}.{}", std::process::id(), name));
    let _ = std::fs::remove_file(&fresh);
    std::os::unix::fs::symlink(rt.join("libumbra.so"), &fresh).unwrap();
    std::fs::rename(&fresh, &link).unwrap();
    let mut cmd = std::process::Command::new(&binary);
    cmd.env_remove("LD_PRELOAD")
        .env_remove("TSAN_OPTIONS")
        .env_remove("UMBRA_OPTIONS")
        .env("LD_LIBRARY_PATH", &dir);
    run(&mut cmd, RUN_TIMEOUT).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn atexit_binds_to_umbra_in_place_of_libtsan() {
    let out = run_in_place_of_libtsan("atexit_handler");
    assert_eq!(
        out.stdout, "main returns\nsecond handler\nfirst handler sees 42\n",
        "{}",
        out.stderr
    );
    assert_eq!(out.status, Status::Exited(0), "{}", out.stderr);
    assert_eq!(out.stderr, "");
}

#[test]
fn on_report_callback_reads_the_report() {
    let outputs = expect(
        "on_report",
        "report 1: data-race, count 0, current yes\n\
         mops 2: T1 write 8 at my_global, T0 write 8 at my_global\n\
         stacks: T1 in thread_fn, T0 in main\n\
         threads 2: T1 (parent T0), T0\n\
         location: global at my_global\n\
         done\n",
        66,
        1,
    );
    for (compiler, out) in outputs {
        assert!(
            out.stderr.contains("Location is global 'my_global'"),
            "{compiler:?}: {}",
            out.stderr
        );
    }
}

/// The hooks are found by their dynamic symbols, as stock finds them (`dlsym`):
/// the program exports them with `-rdynamic` (a library defining them exports
/// them anyway).
#[test]
fn program_hooks_run_and_decide_the_exit_code() {
    expect_with(
        "program_hooks",
        &["-rdynamic"],
        "on_initialize\nmain\non_finalize(1)\n",
        0,
        1,
    );
}

#[test]
fn unaligned_load_and_store_are_checked() {
    let outputs = expect("unaligned_store_race", "loaded 0x11223344\n", 66, 1);
    for (compiler, out) in outputs {
        let what = format!("{compiler:?}: {}", out.stderr);
        assert!(out.stderr.contains("Read of size 4 at"), "{what}");
        assert!(out.stderr.contains("Previous write of size 4 at"), "{what}");
        assert!(out.stderr.contains("writer"), "{what}");
    }
}

#[test]
fn locate_address_and_alloc_stack() {
    expect(
        "locate_address",
        "heap: block +0, 40 bytes\nglobal: table, 64 bytes\nstack\nalloc stack: main thread, frames yes\n",
        0,
        0,
    );
}

#[test]
fn syscall_hooks_check_what_the_kernel_reads() {
    let outputs = expect("syscall_write_race", "hello\n", 66, 1);
    for (compiler, out) in outputs {
        let what = format!("{compiler:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("Location is global 'message'"),
            "{what}"
        );
        assert!(out.stderr.contains(" by main thread:"), "{what}");
        assert!(out.stderr.contains("writer"), "{what}");
    }
}

#[test]
fn syscall_fork_hooks_leave_the_child_a_working_runtime() {
    expect("syscall_fork", "child ok\nparent ok\n", 0, 0);
}

/// The dynamic symbols of `lib` that are defined there.
fn defined_symbols(lib: &std::path::Path) -> std::collections::BTreeSet<String> {
    let out = std::process::Command::new("readelf")
        .args(["--dyn-syms", "-W"])
        .arg(lib)
        .output()
        .expect("readelf");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            (cols.len() >= 8 && cols[6] != "UND")
                .then(|| cols[7].split('@').next().unwrap().to_string())
        })
        .collect()
}

/// Every syscall hook and every `__interceptor_NAME` of stock libtsan (for a NAME
/// umbra exports: umbra leaves some stock interceptors to others' groups) is in
/// libumbra.so, so no program linked against the stock names fails to load.
#[test]
fn stock_hook_and_interceptor_names_are_exported() {
    let stock_path = std::process::Command::new("gcc")
        .arg("-print-file-name=libtsan.so.2")
        .output()
        .expect("gcc");
    let stock_path = String::from_utf8_lossy(&stock_path.stdout)
        .trim()
        .to_string();
    let stock = defined_symbols(std::path::Path::new(&stock_path));
    let rt = common::toolchain::umbra_runtime().unwrap_or_else(|e| panic!("{e}"));
    let ours = defined_symbols(&rt.join("libumbra.so"));
    let hooks: Vec<&String> = stock
        .iter()
        .filter(|s| s.starts_with("__sanitizer_syscall_"))
        .collect();
    assert_eq!(hooks.len(), 650, "stock's syscall hooks");
    let missing: Vec<&&String> = hooks.iter().filter(|s| !ours.contains(**s)).collect();
    assert!(missing.is_empty(), "missing syscall hooks: {missing:?}");
    let missing: Vec<&String> = stock
        .iter()
        .filter(|s| {
            s.strip_prefix("__interceptor_")
                .is_some_and(|name| ours.contains(name) && !ours.contains(*s))
        })
        .collect();
    assert!(missing.is_empty(), "missing interceptor names: {missing:?}");
    for name in [
        "atexit",
        "__tsan_create_fiber",
        "__tsan_get_report_data",
        "__tsan_locate_address",
        "__sanitizer_unaligned_load64",
    ] {
        assert!(ours.contains(name), "{name} is not exported");
    }
}

/// The test barrier of LLVM 16's `test.h` is 4 bytes: the runtime must not write
/// past them (it wrote 8, corrupting the next global, and hung compiler-rt's
/// `Linux/syscall.cpp`, whose pipe fd follows the barrier).
#[test]
fn four_byte_test_barrier_leaves_its_neighbour_alone() {
    expect("barrier_four_bytes", "neighbour 7, twice through\n", 0, 0);
}
