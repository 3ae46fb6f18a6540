//! Building what the corpus runs: the umbra runtime, the C and C++ programs (gcc, g++,
//! and clang with `-shared-libsan` where clang-16 is installed) and the Rust corpus package (cargo +nightly, -Zbuild-std). Each is built at most once per test
//! process, whichever test asks first; the others wait for it.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use super::exec::run_checked;
use super::program::{Lang, Program};

/// The rust-src check and install that `-Zbuild-std` needs, shared with `umbra` and
/// `cargo umbra`.
#[allow(dead_code)] // the harness names its toolchain (`+nightly`) itself
#[path = "../../src/rust_src.rs"]
pub mod rust_src;

#[path = "../../src/cargo_env.rs"]
pub mod cargo_env;
use cargo_env::scrub_cargo_env;

const BUILD_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const COMPILE_TIMEOUT: Duration = Duration::from_secs(120);
const RUST_TARGET: &str = "x86_64-unknown-linux-gnu";

/// Which TSan runtime a program runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Runtime {
    Umbra,
    /// gcc's libtsan for C, rustc's bundled TSan runtime for Rust.
    Stock,
    /// umbra (LD_PRELOAD) for C and C++ built with `clang -fsanitize=thread
    /// -shared-libsan`, whose libclang_rt.tsan-x86_64.so must stay dormant.
    UmbraClang,
}

impl Runtime {
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Umbra => "umbra",
            Runtime::Stock => "stock",
            Runtime::UmbraClang => "umbra-clang",
        }
    }

    /// Whether the program runs on umbra (whatever compiled it).
    pub fn is_umbra(self) -> bool {
        self != Runtime::Stock
    }
}

/// clang's C and C++ drivers for `Runtime::UmbraClang`.
const CLANG: [&str; 2] = ["clang-16", "clang++-16"];

/// The directory of clang's shared TSan runtime if clang-16 and its runtime
/// (Debian: clang-16 libclang-rt-16-dev) are installed.
pub fn clang_runtime_dir() -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = Command::new(CLANG[0])
            .arg("-print-file-name=libclang_rt.tsan-x86_64.so")
            .output()
            .ok()?;
        let so = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        (out.status.success() && so.is_file())
            .then(|| so.parent().map(Path::to_path_buf))
            .flatten()
    })
    .as_deref()
}

pub fn workspace_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn target_dir() -> PathBuf {
    workspace_dir().join("target")
}

pub fn corpus_dir() -> PathBuf {
    workspace_dir().join("tests/corpus")
}

/// The directory holding `libumbra.a` and `libumbra.so`, built by
/// `umbra build --out target/umbra-test-rt`.
pub fn umbra_runtime() -> Result<&'static Path, String> {
    static RUNTIME: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(build_umbra_runtime)
        .as_deref()
        .map_err(Clone::clone)
}

fn build_umbra_runtime() -> Result<PathBuf, String> {
    let out = target_dir().join("umbra-test-rt");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_umbra"));
    cmd.arg("build")
        .arg("--out")
        .arg(&out)
        .env_remove("LD_PRELOAD")
        .env_remove("TSAN_OPTIONS");
    run_checked(&mut cmd, BUILD_TIMEOUT, "building the umbra runtime")?;
    for lib in ["libumbra.a", "libumbra.so"] {
        if !out.join(lib).is_file() {
            return Err(format!(
                "`umbra build` succeeded but produced no {}",
                out.join(lib).display()
            ));
        }
    }
    Ok(out)
}

/// The gcc (C) or g++ (C++) -fsanitize=thread binary of a program (compiled once per
/// process; the same binary runs on stock TSan as is and on umbra with LD_PRELOAD), or
/// for `Runtime::UmbraClang` its clang -shared-libsan build.
pub fn c_binary(program: &Program, runtime: Runtime) -> Result<PathBuf, String> {
    let clang = runtime == Runtime::UmbraClang;
    type Slot = Arc<OnceLock<Result<PathBuf, String>>>;
    static BINARIES: OnceLock<Mutex<HashMap<String, Slot>>> = OnceLock::new();
    let slot = Arc::clone(
        BINARIES
            .get_or_init(Default::default)
            .lock()
            .unwrap()
            .entry(format!(
                "{}{}",
                program.label(),
                if clang { " (clang)" } else { "" }
            ))
            .or_default(),
    );
    slot.get_or_init(|| compile_c(program, clang)).clone()
}

fn compile_c(program: &Program, clang: bool) -> Result<PathBuf, String> {
    let (compiler, dir) = match (program.lang, clang) {
        (Lang::Cpp, false) => ("g++", "corpus-cpp"),
        (_, false) => ("gcc", "corpus-c"),
        (Lang::Cpp, true) => (CLANG[1], "corpus-clang-cpp"),
        (_, true) => (CLANG[0], "corpus-clang-c"),
    };
    let dir = target_dir().join(dir);
    fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let binary = dir.join(&program.name);
    let mut cmd = Command::new(compiler);
    if clang {
        let rt = clang_runtime_dir().ok_or("clang-16 with libclang-rt-16-dev is not installed")?;
        // -mcx16: 16-byte atomics inline (and instrumented) instead of libatomic calls.
        cmd.args(["-shared-libsan", "-mcx16", "-Wno-unknown-warning-option"])
            .arg(format!("-Wl,-rpath,{}", rt.display()));
    }
    cmd.args(["-fsanitize=thread", "-g", "-O1", "-pthread"])
        .args(&program.cflags)
        .arg(&program.source)
        .arg("-o")
        .arg(&binary);
    run_checked(
        &mut cmd,
        COMPILE_TIMEOUT,
        &format!("compiling {}", program.label()),
    )?;
    Ok(binary)
}

/// The directory of the Rust corpus binaries built for `runtime` (built once per process).
pub fn rust_binaries(runtime: Runtime) -> Result<&'static Path, String> {
    static UMBRA: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    static STOCK: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let cell = match runtime {
        Runtime::Umbra | Runtime::UmbraClang => &UMBRA,
        Runtime::Stock => &STOCK,
    };
    cell.get_or_init(|| build_rust_corpus(runtime))
        .as_deref()
        .map_err(Clone::clone)
}

/// `cargo +nightly build -Zbuild-std` of tests/corpus/rust with `-Zsanitizer=thread`,
/// into target/rust-corpus-<runtime>. For umbra the runtime archive replaces rustc's
/// (`-Zexternal-clangrt -Clink-arg=.../libumbra.a`); the corpus build script reruns (and
/// the binaries are relinked) whenever that archive changes.
fn build_rust_corpus(runtime: Runtime) -> Result<PathBuf, String> {
    // `cargo +nightly ... -Zbuild-std` needs rust-src: installed if missing.
    rust_src::ensure("nightly")?;
    let target = target_dir().join(format!("rust-corpus-{}", runtime.name()));
    let mut flags = vec!["-Zsanitizer=thread".to_owned(), "-Cdebuginfo=2".to_owned()];
    let mut cmd = Command::new("cargo");
    scrub_cargo_env(&mut cmd);
    if runtime == Runtime::Umbra {
        let archive = umbra_runtime()?.join("libumbra.a");
        flags.push("-Zexternal-clangrt".to_owned());
        flags.push(format!("-Clink-arg={}", archive.display()));
        cmd.env("UMBRA_RT_ARCHIVE", &archive);
    }
    cmd.current_dir(corpus_dir().join("rust"))
        .args(["+nightly", "build", "-Zbuild-std", "--target", RUST_TARGET])
        .env("CARGO_TARGET_DIR", &target)
        // The same as RUSTFLAGS, but safe for paths with spaces.
        .env("CARGO_ENCODED_RUSTFLAGS", flags.join("\x1f"));
    let what = format!("building the Rust corpus for {}", runtime.name());
    run_checked(&mut cmd, BUILD_TIMEOUT, &what)?;
    Ok(target.join(RUST_TARGET).join("debug"))
}
