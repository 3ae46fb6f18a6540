//! Building and running the small C test programs of the end-to-end tests: one
//! compile helper for gcc, clang-16 (`-shared-libsan`, where installed) and plain
//! gcc, and a command that runs a binary under umbra's preloaded runtime with a
//! clean option environment.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use super::exec::run_checked;
use super::toolchain::{clang_runtime_dir, target_dir, umbra_runtime, workspace_dir};

const COMPILE_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Compiler {
    /// `gcc -fsanitize=thread`.
    Gcc,
    /// `clang-16 -fsanitize=thread -shared-libsan`.
    Clang,
}

impl Compiler {
    pub fn name(self) -> &'static str {
        match self {
            Compiler::Gcc => "gcc",
            Compiler::Clang => "clang",
        }
    }
}

/// Compiles `source` with `-g -O1 -pthread` and `extra` into `target/<dir>/`;
/// `Ok(None)` for clang where clang-16 is not installed.
pub fn compile(
    source: &Path,
    dir: &str,
    compiler: Compiler,
    extra: &[&str],
) -> Result<Option<PathBuf>, String> {
    let out_dir = target_dir().join(dir);
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| format!("creating {}: {e}", out_dir.display()))?;
    let stem = source
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("program");
    let binary = out_dir.join(format!("{stem}-{}", compiler.name()));
    let mut cmd = match compiler {
        Compiler::Gcc => Command::new("gcc"),
        Compiler::Clang => {
            let Some(rt) = clang_runtime_dir() else {
                return Ok(None);
            };
            let mut c = Command::new("clang-16");
            c.args(["-shared-libsan", "-mcx16"])
                .arg(format!("-Wl,-rpath,{}", rt.display()));
            c
        }
    };
    cmd.args(["-fsanitize=thread", "-g", "-O1", "-pthread"])
        .args(extra)
        .arg(source)
        .arg("-o")
        .arg(&binary)
        .env_remove("LD_PRELOAD");
    run_checked(
        &mut cmd,
        COMPILE_TIMEOUT,
        &format!("compiling {} with {}", source.display(), compiler.name()),
    )?;
    Ok(Some(binary))
}

/// A command running `binary` with umbra preloaded and no TSan/umbra options.
pub fn preloaded(binary: &Path) -> Command {
    let rt = umbra_runtime().unwrap_or_else(|e| panic!("{e}"));
    let mut cmd = Command::new(binary);
    cmd.env("LD_PRELOAD", rt.join("libumbra.so"))
        .env_remove("TSAN_OPTIONS")
        .env_remove("UMBRA_OPTIONS");
    cmd
}

/// The gcc `-fsanitize=thread` binary of `tests/DIR/NAME.c`, compiled once per test
/// process (concurrent callers wait for the one compile) into `target/DIR-c/`. Also
/// makes sure the umbra runtime is built.
pub fn gcc_binary(dir: &str, name: &str) -> PathBuf {
    cached_gcc_binary(dir, name, "c")
}

/// [`gcc_binary`] for the C++ program `tests/<dir>/<name>.cpp` (g++'s runtime
/// libraries linked in).
pub fn gcc_binary_cpp(dir: &str, name: &str) -> PathBuf {
    cached_gcc_binary(dir, name, "cpp")
}

fn cached_gcc_binary(dir: &str, name: &str, ext: &str) -> PathBuf {
    umbra_runtime().unwrap_or_else(|e| panic!("{e}"));
    type Slot = Arc<OnceLock<Result<PathBuf, String>>>;
    static BINARIES: OnceLock<Mutex<HashMap<String, Slot>>> = OnceLock::new();
    let slot = Arc::clone(
        BINARIES
            .get_or_init(Default::default)
            .lock()
            .unwrap()
            .entry(format!("{dir}/{name}.{ext}"))
            .or_default(),
    );
    slot.get_or_init(|| {
        let source = workspace_dir()
            .join("tests")
            .join(dir)
            .join(format!("{name}.{ext}"));
        let extra: &[&str] = if ext == "cpp" { &["-lstdc++"] } else { &[] };
        compile(&source, &format!("{dir}-{ext}"), Compiler::Gcc, extra)
            .map(|b| b.expect("gcc needs no install check"))
    })
    .clone()
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Compiles `source` with each installed compiler (gcc; clang-16 where installed)
/// into `target/<dir>/`, with `extra` flags, and runs each binary under umbra.
pub fn run_with_each_compiler(
    source: &Path,
    dir: &str,
    extra: &[&str],
    timeout: Duration,
) -> Vec<(Compiler, super::exec::Output)> {
    let mut outputs = Vec::new();
    for compiler in [Compiler::Gcc, Compiler::Clang] {
        let Some(binary) = compile(source, dir, compiler, extra).unwrap_or_else(|e| panic!("{e}"))
        else {
            println!(
                "clang-16 is not installed: {} is not run with clang",
                source.display()
            );
            continue;
        };
        let out = super::exec::run(&mut preloaded(&binary), timeout)
            .unwrap_or_else(|e| panic!("running {}: {e}", source.display()));
        outputs.push((compiler, out));
    }
    outputs
}
