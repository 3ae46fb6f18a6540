//! `rust-src` for `-Zbuild-std`: checked before anything is built with it, and
//! installed with rustup when missing, so the first `umbra demo`, `cargo umbra ...` or
//! `cargo test` on a machine whose nightly lacks the component does not stop halfway
//! with cargo's "Cargo.lock does not exist, unable to build with the standard library".
//!
//! Shared by the `umbra` binary, `cargo-umbra` and the test harness
//! (`#[path]`-included), so it depends on std only.

use std::ffi::OsString;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// What `-Zbuild-std` reads first; its absence is cargo's error.
pub const SENTINEL: &str = "lib/rustlib/src/rust/library/Cargo.lock";

/// The programs the check runs (`rustc` and `rustup` from PATH unless a test says
/// otherwise).
pub struct Tools {
    pub rustc: OsString,
    pub rustup: OsString,
}

impl Default for Tools {
    fn default() -> Tools {
        Tools {
            rustc: "rustc".into(),
            rustup: "rustup".into(),
        }
    }
}

/// What [`ensure_with`] found or did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Present,
    Installed,
}

/// The nightly toolchain umbra builds with: `RUSTUP_TOOLCHAIN` when it names a
/// nightly (`cargo +nightly-2026-05-01 ...`, or the one `rust-toolchain.toml`
/// selected), else `nightly`.
pub fn nightly_toolchain() -> String {
    nightly_toolchain_from(std::env::var("RUSTUP_TOOLCHAIN").ok())
}

/// [`nightly_toolchain`] for a given `RUSTUP_TOOLCHAIN`. The host triple rustup
/// appends (`nightly-x86_64-unknown-linux-gnu`) is dropped: the short name means the
/// same toolchain and reads better in messages and commands.
pub fn nightly_toolchain_from(rustup_toolchain: Option<String>) -> String {
    match rustup_toolchain {
        Some(tc) if tc.starts_with("nightly") => {
            let host = ["-x86_64-", "-aarch64-", "-i686-", "-riscv64gc-"]
                .iter()
                .find_map(|a| tc.find(a));
            tc[..host.unwrap_or(tc.len())].to_owned()
        }
        _ => "nightly".to_owned(),
    }
}

/// Makes sure `toolchain` has rust-src, installing it with rustup if needed (one
/// line on stderr says so). The error is one line naming the command to run.
pub fn ensure(toolchain: &str) -> Result<Outcome, String> {
    // Two threads of one process (the test harness) must not run rustup at once.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    ensure_with(&Tools::default(), toolchain, &mut |line| {
        eprintln!("{line}")
    })
}

/// [`ensure`] with the given programs; `say` gets the line announcing an install.
pub fn ensure_with(
    tools: &Tools,
    toolchain: &str,
    say: &mut dyn FnMut(&str),
) -> Result<Outcome, String> {
    let add = format!("rustup component add rust-src --toolchain {toolchain}");
    let sysroot = sysroot(tools, toolchain)?;
    if sysroot.join(SENTINEL).is_file() {
        return Ok(Outcome::Present);
    }
    say(&format!(
        "umbra: installing rust-src for the {toolchain} toolchain (needed for -Zbuild-std)"
    ));
    let out = Command::new(&tools.rustup)
        .args(["component", "add", "rust-src", "--toolchain", toolchain])
        .env_remove("RUSTUP_TOOLCHAIN")
        .output();
    let failure = match out {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(format!(
            "the {toolchain} toolchain has no rust-src (needed for -Zbuild-std) and rustup is not \
                 installed; install rustup (https://rustup.rs), then run: {add}"
        ))
        }
        Err(e) => format!("cannot run rustup: {e}"),
        Ok(out) if !out.status.success() => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let last = stderr
                .lines()
                .rev()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("")
                .to_owned();
            format!(
                "rustup failed ({}{}{})",
                out.status,
                if last.is_empty() { "" } else { ": " },
                last
            )
        }
        Ok(_) => String::new(),
    };
    // Checked again even after a failure: another process may have installed it.
    if sysroot.join(SENTINEL).is_file() {
        return Ok(Outcome::Installed);
    }
    let why = if failure.is_empty() {
        format!("rustup did not create {}", sysroot.join(SENTINEL).display())
    } else {
        failure
    };
    Err(format!(
        "installing rust-src for the {toolchain} toolchain failed: {why}; run: {add}"
    ))
}

/// `rustc --print sysroot` of `toolchain`.
fn sysroot(tools: &Tools, toolchain: &str) -> Result<PathBuf, String> {
    let install = format!("rustup toolchain install {toolchain} --component rust-src");
    let out = Command::new(&tools.rustc)
        .args(["--print", "sysroot"])
        .env("RUSTUP_TOOLCHAIN", toolchain)
        .env_remove("RUSTC")
        .output()
        .map_err(|e| {
            format!("cannot run rustc ({e}); umbra needs a nightly Rust toolchain: {install}")
        })?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || text.is_empty() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first = stderr
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("failed");
        return Err(format!("the {toolchain} toolchain is not usable (rustc --print sysroot: {first}); run: {install}"));
    }
    Ok(Path::new(&text).to_path_buf())
}
