//! End-to-end tests of the functions umbra forwards to libc unchanged: the
//! pass-through trampolines (`ffi/src/passthrough.rs`) and everything else a
//! preloaded libumbra.so stands between a program and libc for.
//!
//! A forwarded call must reach libc with exactly what the caller set up: the
//! argument registers, `%al` (the number of vector registers a variadic call
//! uses), `%xmm0-7`, the stack arguments and `errno`, on the first call (which
//! resolves the real function) as on every later one.
//!
//! Each program in `tests/passthrough/` exercises one function family and names
//! its exact stdout in `// expect: LINE` header lines (extra compiler flags in an
//! optional `// cflags: ...` line); it must print exactly that, nothing on
//! stderr, and exit with 0. Every program runs three ways, all with
//! `LD_PRELOAD=libumbra.so`:
//! - `gcc -fsanitize=thread` (gcc's libtsan loaded but dormant),
//! - plain `gcc` (an uninstrumented program merely run with umbra preloaded),
//! - `clang-16 -fsanitize=thread -shared-libsan` (where clang-16 and its runtime
//!   are installed; skipped with a message otherwise).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::exec::{self, run_checked, Status};
use common::toolchain::{clang_runtime_dir, target_dir, umbra_runtime, workspace_dir};

const RUN_TIMEOUT: Duration = Duration::from_secs(60);
const COMPILE_TIMEOUT: Duration = Duration::from_secs(120);

/// How a test program is compiled.
#[derive(Clone, Copy, Debug)]
enum Build {
    GccTsan,
    GccPlain,
    ClangTsan,
}

impl Build {
    const ALL: [Build; 3] = [Build::GccTsan, Build::GccPlain, Build::ClangTsan];

    fn name(self) -> &'static str {
        match self {
            Build::GccTsan => "gcc-tsan",
            Build::GccPlain => "gcc-plain",
            Build::ClangTsan => "clang-tsan",
        }
    }
}

/// A program of `tests/passthrough/` and the expectations in its header.
struct Program {
    name: String,
    source: PathBuf,
    cflags: Vec<String>,
    expected_stdout: String,
}

impl Program {
    fn load(name: &str) -> Program {
        let source = workspace_dir()
            .join("tests/passthrough")
            .join(format!("{name}.c"));
        let text = fs::read_to_string(&source)
            .unwrap_or_else(|e| panic!("reading {}: {e}", source.display()));
        let mut expected_stdout = String::new();
        let mut cflags = Vec::new();
        for line in text.lines().take_while(|l| l.starts_with("//")) {
            if let Some(out) = line.strip_prefix("// expect: ") {
                expected_stdout.push_str(out);
                expected_stdout.push('\n');
            } else if let Some(flags) = line.strip_prefix("// cflags:") {
                cflags.extend(flags.split_whitespace().map(str::to_owned));
            }
        }
        assert!(
            !expected_stdout.is_empty(),
            "{} has no `// expect:` line",
            source.display()
        );
        Program {
            name: name.to_owned(),
            source,
            cflags,
            expected_stdout,
        }
    }

    /// Compiles the program for `build` into `target/passthrough-<build>/`; `None`
    /// when the build's compiler is not installed.
    fn compile(&self, build: Build) -> Option<PathBuf> {
        let dir = target_dir().join(format!("passthrough-{}", build.name()));
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        let binary = dir.join(&self.name);
        let mut cmd = match build {
            Build::GccTsan => {
                let mut c = Command::new("gcc");
                c.arg("-fsanitize=thread");
                c
            }
            Build::GccPlain => Command::new("gcc"),
            Build::ClangTsan => {
                let rt = clang_runtime_dir()?;
                let mut c = Command::new("clang-16");
                c.args(["-fsanitize=thread", "-shared-libsan"])
                    .arg(format!("-Wl,-rpath,{}", rt.display()));
                c
            }
        };
        cmd.args(["-g", "-O1", "-pthread"])
            .args(&self.cflags)
            .arg(&self.source)
            .arg("-o")
            .arg(&binary)
            .env_remove("LD_PRELOAD");
        let what = format!("compiling {} ({})", self.name, build.name());
        run_checked(&mut cmd, COMPILE_TIMEOUT, &what).unwrap_or_else(|e| panic!("{e}"));
        Some(binary)
    }

    /// Runs the program's `build` under umbra; a description of every way it
    /// differs from its expectations.
    fn check(&self, build: Build, runtime: &Path) -> Result<(), String> {
        let Some(binary) = self.compile(build) else {
            eprintln!(
                "clang-16 with libclang-rt-16-dev is not installed: {} is not run with clang",
                self.name
            );
            return Ok(());
        };
        let mut cmd = Command::new(&binary);
        cmd.env_remove("TSAN_OPTIONS")
            .env_remove("UMBRA_OPTIONS")
            .env("LD_PRELOAD", runtime.join("libumbra.so"));
        let out = exec::run(&mut cmd, RUN_TIMEOUT)
            .unwrap_or_else(|e| panic!("running {}: {e}", binary.display()));
        let mut problems = Vec::new();
        if out.status != Status::Exited(0) {
            problems.push(format!("{} instead of exit code 0", out.status));
        }
        if out.stdout != self.expected_stdout {
            problems.push(format!(
                "stdout differs\n--- expected ---\n{}--- got ---\n{}",
                self.expected_stdout, out.stdout
            ));
        }
        if !out.stderr.is_empty() {
            problems.push(format!(
                "unexpected stderr:\n{}",
                exec::tail(&out.stderr, 40)
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{} ({}): {}",
                self.name,
                build.name(),
                problems.join("\n")
            ))
        }
    }
}

/// Runs `name` in every build; fails with all the differences at once.
fn check_program(name: &str) {
    let runtime = umbra_runtime().unwrap_or_else(|e| panic!("{e}"));
    let program = Program::load(name);
    let failures: Vec<String> = Build::ALL
        .iter()
        .filter_map(|&b| program.check(b, runtime).err())
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

/// Every pass-through libumbra.so exports (one per line of
/// `ffi/src/passthrough.txt`) starts with a single indirect jump through its slot,
/// `jmp QWORD PTR [rip+...]`: the fast path touches no register, flag or stack
/// (whether `%al` is right after a register-clobbering fast path would depend on
/// where libc happens to put each function, which no program can control).
#[test]
fn trampolines_jump_through_their_slot_untouched() {
    let runtime = umbra_runtime().unwrap_or_else(|e| panic!("{e}"));
    let so = runtime.join("libumbra.so");
    let mut cmd = Command::new("objdump");
    cmd.args(["-d", "--no-show-raw-insn", "-M", "intel"])
        .arg(&so);
    let dump = run_checked(&mut cmd, COMPILE_TIMEOUT, "disassembling libumbra.so")
        .unwrap_or_else(|e| panic!("{e}"))
        .stdout;
    // `<name>:` -> the first instruction after it.
    let mut first = std::collections::HashMap::new();
    let mut lines = dump.lines();
    while let Some(line) = lines.next() {
        if let Some(name) = line
            .strip_suffix(">:")
            .and_then(|l| l.split_once(" <"))
            .map(|p| p.1)
        {
            if let Some(insn) = lines.next() {
                first.insert(
                    name.to_owned(),
                    insn.split_once(':').map_or("", |p| p.1).trim().to_owned(),
                );
            }
        }
    }
    let list = fs::read_to_string(workspace_dir().join("ffi/src/passthrough.txt")).unwrap();
    let mut wrong = Vec::new();
    for name in list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        match first.get(name) {
            Some(insn)
                if insn.starts_with("jmp    QWORD PTR [rip+")
                    && insn.contains("<umbra_passthrough_slots") => {}
            Some(insn) => wrong.push(format!("{name}: {insn}")),
            None => wrong.push(format!("{name}: not in {}", so.display())),
        }
    }
    assert!(
        wrong.is_empty(),
        "pass-throughs not starting with `jmp [slot]`:\n{}",
        wrong.join("\n")
    );
}

macro_rules! passthrough_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check_program(stringify!($name));
            }
        )*

        /// Every program in tests/passthrough/ has a test above.
        #[test]
        fn every_program_is_tested() {
            let tested = [$(stringify!($name)),*];
            let dir = workspace_dir().join("tests/passthrough");
            for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "c") {
                    let stem = path.file_stem().unwrap().to_str().unwrap();
                    assert!(tested.contains(&stem), "{} has no test", path.display());
                }
            }
        }
    };
}

passthrough_tests! {
    printf_double,
    fprintf_double,
    sprintf_double,
    snprintf_double,
    asprintf_double,
    dprintf_double,
    vprintf_family,
    fortify_printf,
    errno_first_call,
    sscanf_double,
    scanf_streams,
    open_mode,
    fcntl_arg,
    ioctl_arg,
    prctl_arg,
    execl_args,
    execle_env,
    execlp_path,
    syslog_perror,
    ulimit_arg,
    misaligned_stack,
    sem_open_mode,
    clone_args,
}
