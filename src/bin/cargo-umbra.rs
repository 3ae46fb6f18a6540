//! `cargo umbra`: race-check a Rust project under umbra with one command.
//!
//! ```text
//! cargo umbra test  [cargo test args...]     # also: run, build, bench
//! cargo umbra nextest run [cargo-nextest args...]
//! ```
//!
//! What it does, in order:
//! 1. Checks for a nightly toolchain (`-Zsanitizer` and `-Zbuild-std` need one) and
//!    says exactly what to run when it is missing; installs its `rust-src` (which
//!    `-Zbuild-std` needs) with rustup when that is missing. The toolchain is
//!    `RUSTUP_TOOLCHAIN` when that names a nightly (`cargo +nightly-2026-05-01 umbra
//!    test`), otherwise `nightly`.
//! 2. Builds the runtime once per umbra version and toolchain (`rustc -vV` commit
//!    hash) into `$UMBRA_CACHE_DIR`, else `$XDG_CACHE_HOME/umbra`, else
//!    `~/.cache/umbra`, as `<version>-<hash>/libumbra.a`, by running the `umbra build`
//!    installed next to this binary. A stamp of the umbra sources' sizes and times
//!    triggers a rebuild when they change (working on umbra itself). A lock file
//!    keeps concurrent invocations from building it twice. Programs link a copy
//!    named after the archive's content hash, so a changed runtime changes
//!    RUSTFLAGS and cargo relinks them.
//! 3. Runs `cargo +<toolchain> <subcommand> -Zbuild-std --target <host> ARGS...` with
//!    `-Zsanitizer=thread -Zexternal-clangrt -Clink-arg=<cache>/libumbra-<hash>.a` appended
//!    to the user's RUSTFLAGS and RUSTDOCFLAGS (passed encoded, so paths with spaces
//!    work). Because `--target` is explicit, build scripts and proc-macros are built
//!    for the host without these flags: uninstrumented. Doctests are built by rustdoc
//!    against the same instrumented std and linked with umbra, so they run under
//!    umbra too. `-Cunsafe-allow-abi-mismatch=sanitizer` is not needed: with
//!    `-Zbuild-std` every crate of the target is instrumented; if a toolchain still
//!    reports the sanitizer ABI mismatch (rust-lang/rust#146465), the command is
//!    rerun once with it, and the flag is kept for that toolchain from then on.
//!    `--target`, `--target-dir` and `-Zbuild-std` given by the user are respected.
//! 4. Builds into `<target dir>/umbra` (the project's own target directory, from
//!    `cargo metadata`), so the user's normal builds are not invalidated. The
//!    release and bench profiles get line tables (`CARGO_PROFILE_{RELEASE,BENCH}_DEBUG=
//!    line-tables-only` unless set), so their reports have file:line too.
//! 5. `UMBRA_OPTIONS` and `TSAN_OPTIONS` pass through to the programs, with
//!    `fold_std_frames=1` added to `UMBRA_OPTIONS` unless either sets it (reports fold
//!    each run of Rust standard library frames into one line). Cargo's stderr
//!    (where reports go) is copied through while the reports are counted. The exit
//!    status is cargo's (a test binary with reports exits 66, which fails `cargo
//!    test`); if cargo succeeded although umbra printed reports (say `exitcode=0`, or
//!    a report in a child process), `cargo umbra` exits 66 anyway.
//! 6. With `sarif_path=PATH` in `TSAN_OPTIONS` or `UMBRA_OPTIONS`, the programs
//!    write their JSON reports to a file (`json_path`, the user's or a temp file)
//!    and `cargo umbra` converts those of this run into one SARIF 2.1.0 log at PATH
//!    (relative to the current directory, paths in it relative to it too).
//!
//! Building the runtime needs umbra's source tree where `cargo install --path .` was
//! run (`umbra build` builds the runtime crate from it).

use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::UNIX_EPOCH;

#[path = "../cargo_env.rs"]
mod cargo_env;
#[path = "../reports.rs"]
mod reports;
#[path = "../rust_src.rs"]
mod rust_src;
#[path = "../sarif.rs"]
mod sarif;
#[path = "../sarif_output.rs"]
mod sarif_output;

use cargo_env::scrub_cargo_env;

const SUBCOMMANDS: &[&str] = &["test", "run", "build", "bench", "nextest"];
/// The cargo-nextest subcommands that build (and take cargo's build options).
const NEXTEST_SUBCOMMANDS: &[&str] = &["run", "r", "list", "archive"];
const WARNING: &[u8] = b"WARNING: ThreadSanitizer:";
const ABI_MISMATCH: &[u8] = b"will cause an ABI mismatch";
/// Exit code when reports were printed but cargo succeeded (TSan's default exitcode).
const RACE_EXIT: u8 = 66;

const USAGE: &str = "\
cargo umbra: run a Rust project's tests (or binaries, benches) under the umbra race detector

usage: cargo umbra <test|run|build|bench> [cargo args...]
       cargo umbra nextest <run|list|archive> [cargo-nextest args...]

Builds with -Zsanitizer=thread -Zbuild-std for the host target into <target dir>/umbra,
linking the umbra runtime (built once per umbra version and toolchain, cached in
$UMBRA_CACHE_DIR, $XDG_CACHE_HOME/umbra or ~/.cache/umbra). UMBRA_OPTIONS and
TSAN_OPTIONS pass through to the programs (with fold_std_frames=1, which folds Rust
standard library frames in reports, unless they set it). Fails when umbra reports a race.";

fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().skip(1).collect();
    // `cargo umbra test` runs `cargo-umbra umbra test`.
    if args.first().is_some_and(|a| a == "umbra") {
        args.remove(0);
    }
    let mut toolchain = None;
    if let Some(tc) = args
        .first()
        .and_then(|a| a.to_str())
        .and_then(|a| a.strip_prefix('+'))
    {
        toolchain = Some(tc.to_owned());
        args.remove(0);
    }
    let Some(sub) = args.first().and_then(|a| a.to_str()).map(str::to_owned) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    if sub == "--help" || sub == "-h" || sub == "help" {
        let _ = writeln!(io::stdout(), "{USAGE}");
        return ExitCode::SUCCESS;
    }
    if sub == "--version" || sub == "-V" {
        let _ = writeln!(io::stdout(), "cargo-umbra {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    if !SUBCOMMANDS.contains(&sub.as_str()) {
        eprintln!(
            "cargo umbra: unknown subcommand `{sub}` (expected one of: {})\n\n{USAGE}",
            SUBCOMMANDS.join(", ")
        );
        return ExitCode::from(2);
    }
    let nextest_sub = args.get(1).and_then(|a| a.to_str()).unwrap_or("");
    if sub == "nextest" && !NEXTEST_SUBCOMMANDS.contains(&nextest_sub) {
        eprintln!(
            "cargo umbra: `cargo umbra nextest` needs one of: {} (as in `cargo umbra nextest run`)",
            NEXTEST_SUBCOMMANDS.join(", ")
        );
        return ExitCode::from(2);
    }
    match run(toolchain, &sub, &args[1..]) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("cargo umbra: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(toolchain: Option<String>, sub: &str, rest: &[OsString]) -> Result<ExitCode, String> {
    let toolchain = toolchain.unwrap_or_else(rust_src::nightly_toolchain);
    let rustc = Rustc::probe(&toolchain)?;
    rust_src::ensure(&toolchain)?;
    let cache = cache_dir()?.join(format!(
        "{}-{}",
        env!("CARGO_PKG_VERSION"),
        rustc.short_hash()
    ));
    let archive = ensure_runtime(&cache, &toolchain)?;
    let abi_marker = cache.join("needs-abi-mismatch-flag");

    // `cargo nextest run ...`: our options go after nextest's own subcommand
    // (cargo-nextest passes `-Z` flags and --target on to the cargo build it runs).
    let mut command_args: Vec<OsString> = vec![sub.into()];
    let rest = if sub == "nextest" {
        command_args.push(rest[0].clone());
        &rest[1..]
    } else {
        rest
    };
    // Only the arguments for cargo itself (before `--`) are inspected.
    let cargo_args: Vec<&str> = rest
        .iter()
        .take_while(|a| *a != "--")
        .filter_map(|a| a.to_str())
        .collect();
    let has = |flag: &str| {
        cargo_args
            .iter()
            .any(|a| *a == flag || a.starts_with(&format!("{flag}=")))
    };
    if !cargo_args
        .iter()
        .any(|a| a.starts_with("-Zbuild-std") || *a == "build-std" || a.starts_with("build-std="))
    {
        command_args.push("-Zbuild-std".into());
    }
    if !has("--target") {
        command_args.push("--target".into());
        command_args.push(rustc.host.clone().into());
    }
    command_args.extend(rest.iter().cloned());
    let target_dir = if has("--target-dir") {
        None
    } else {
        Some(umbra_target_dir(&toolchain, &cargo_args)?)
    };

    let user_options = |k| std::env::var(k).ok();
    let (sarif_capture, user_umbra_options) = match sarif_output::prepare(
        user_options("TSAN_OPTIONS").as_deref(),
        user_options("UMBRA_OPTIONS").as_deref(),
    )? {
        Some((capture, options)) => (Some(capture), Some(options)),
        None => (None, user_options("UMBRA_OPTIONS")),
    };

    let mut allow_abi_mismatch = abi_marker.exists();
    let code = loop {
        let mut flags = vec![
            "-Zsanitizer=thread".to_owned(),
            "-Zexternal-clangrt".to_owned(),
            format!("-Clink-arg={}", archive.display()),
        ];
        if allow_abi_mismatch {
            flags.push("-Cunsafe-allow-abi-mismatch=sanitizer".to_owned());
        }
        let mut cmd = Command::new("cargo");
        cmd.args(&command_args)
            .env("RUSTUP_TOOLCHAIN", &toolchain)
            .env_remove("CARGO")
            .env_remove("RUSTFLAGS")
            .env_remove("RUSTDOCFLAGS")
            .env(
                "CARGO_ENCODED_RUSTFLAGS",
                encoded_flags("RUSTFLAGS", &[], &flags),
            )
            // rustdoc builds doctests without debug info: line tables give their
            // reports file:line (the user's RUSTDOCFLAGS come after and may override).
            .env(
                "CARGO_ENCODED_RUSTDOCFLAGS",
                encoded_flags(
                    "RUSTDOCFLAGS",
                    &["-Cdebuginfo=line-tables-only".to_owned()],
                    &flags,
                ),
            );
        if let Some(dir) = &target_dir {
            cmd.env("CARGO_TARGET_DIR", dir);
        }
        cmd.env(
            "UMBRA_OPTIONS",
            umbra_options(user_options("TSAN_OPTIONS"), user_umbra_options.clone()),
        );
        // Reports need file:line; the release and bench profiles have no debug info
        // by default (an explicit CARGO_PROFILE_*_DEBUG wins).
        for var in ["CARGO_PROFILE_RELEASE_DEBUG", "CARGO_PROFILE_BENCH_DEBUG"] {
            if std::env::var_os(var).is_none() {
                cmd.env(var, "line-tables-only");
            }
        }
        if io::stderr().is_terminal() && std::env::var_os("CARGO_TERM_COLOR").is_none() {
            cmd.env("CARGO_TERM_COLOR", "always");
        }
        let outcome = run_teeing_stderr(&mut cmd)?;
        if !outcome.success && outcome.abi_mismatch && !allow_abi_mismatch {
            eprintln!(
                "cargo umbra: rustc reported a sanitizer ABI mismatch; rerunning with \
                 -Cunsafe-allow-abi-mismatch=sanitizer (kept for this toolchain)"
            );
            let _ = fs::write(&abi_marker, b"");
            allow_abi_mismatch = true;
            continue;
        }
        if outcome.warnings > 0 {
            eprintln!(
                "cargo umbra: umbra printed {} report(s) on stderr",
                outcome.warnings
            );
        }
        break match outcome.code {
            Some(0) if outcome.warnings > 0 => ExitCode::from(RACE_EXIT),
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            None => ExitCode::FAILURE,
        };
    };
    if let Some(capture) = sarif_capture {
        capture.finish().map_err(|e| format!("sarif_path: {e}"))?;
    }
    Ok(code)
}

/// The `UMBRA_OPTIONS` the programs get: the user's, after `fold_std_frames=1`
/// (reports fold the frames of Rust's standard library into one line each) unless
/// the user's `TSAN_OPTIONS` or `UMBRA_OPTIONS` set that flag.
fn umbra_options(tsan: Option<String>, umbra: Option<String>) -> String {
    let umbra = umbra.unwrap_or_default();
    let mentions = |o: &str| o.contains("fold_std_frames");
    if tsan.as_deref().is_some_and(mentions) || mentions(&umbra) {
        umbra
    } else if umbra.trim().is_empty() {
        "fold_std_frames=1".to_owned()
    } else {
        format!("fold_std_frames=1:{umbra}")
    }
}

/// `defaults`, the user's flags from `CARGO_ENCODED_<name>` or `<name>`, then
/// `ours`, encoded for `CARGO_ENCODED_<name>` (0x1f-separated).
fn encoded_flags(name: &str, defaults: &[String], ours: &[String]) -> String {
    let user: Vec<String> = match std::env::var(format!("CARGO_ENCODED_{name}")) {
        Ok(s) if !s.is_empty() => s.split('\x1f').map(str::to_owned).collect(),
        _ => std::env::var(name)
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
    };
    let all: Vec<String> = defaults
        .iter()
        .cloned()
        .chain(user)
        .chain(ours.iter().cloned())
        .collect();
    all.join("\x1f")
}

/// What `rustc -vV` of the toolchain says.
struct Rustc {
    host: String,
    commit_hash: String,
}

impl Rustc {
    fn probe(toolchain: &str) -> Result<Rustc, String> {
        let nightly = if toolchain.starts_with("nightly") {
            toolchain
        } else {
            "nightly"
        };
        let install = format!("rustup toolchain install {nightly} --component rust-src");
        let out = Command::new("rustc")
            .arg("-vV")
            .env("RUSTUP_TOOLCHAIN", toolchain)
            .env_remove("RUSTC")
            .output()
            .map_err(|e| {
                format!("cannot run rustc ({e}); umbra needs a nightly Rust toolchain: {install}")
            })?;
        if !out.status.success() {
            return Err(format!(
                "the `{toolchain}` toolchain is not installed (rustc -vV: {}); run: {install}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .next()
                    .unwrap_or("failed")
                    .trim()
            ));
        }
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let field = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key))
                .map(|v| v.trim().to_owned())
                .unwrap_or_default()
        };
        let release = field("release:");
        if !release.contains("nightly") && !release.contains("-dev") {
            return Err(format!(
                "rustc {release} is not a nightly; -Zsanitizer=thread and -Zbuild-std need one: {install}"
            ));
        }
        let host = field("host:");
        let commit_hash = field("commit-hash:");
        Ok(Rustc {
            host,
            commit_hash: if commit_hash.is_empty() {
                release
            } else {
                commit_hash
            },
        })
    }

    fn short_hash(&self) -> String {
        self.commit_hash
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
            .take(12)
            .collect()
    }
}

/// `$UMBRA_CACHE_DIR`, `$XDG_CACHE_HOME/umbra` or `~/.cache/umbra`.
fn cache_dir() -> Result<PathBuf, String> {
    let nonempty = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = nonempty("UMBRA_CACHE_DIR") {
        return Ok(dir);
    }
    if let Some(dir) = nonempty("XDG_CACHE_HOME") {
        return Ok(dir.join("umbra"));
    }
    nonempty("HOME")
        .map(|home| home.join(".cache").join("umbra"))
        .ok_or_else(|| "no cache directory: set UMBRA_CACHE_DIR or HOME".to_owned())
}

/// The umbra source tree this binary was built from.
fn umbra_source() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A fingerprint of the runtime's sources (paths, sizes, modification times), so a
/// cached runtime is rebuilt when umbra itself is being changed.
fn source_fingerprint() -> String {
    let root = umbra_source();
    let mut files = Vec::new();
    for top in [
        "Cargo.toml",
        "Cargo.lock",
        "src",
        "sys",
        "shadow",
        "clocks",
        "report",
        "ffi",
    ] {
        collect_files(&root.join(top), &mut files);
    }
    files.sort();
    let mut h = DefaultHasher::new();
    for f in &files {
        if let Ok(meta) = fs::metadata(f) {
            f.hash(&mut h);
            meta.len().hash(&mut h);
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .unwrap_or_default();
            mtime.as_nanos().hash(&mut h);
        }
    }
    format!("{:016x} ({} files)", h.finish(), files.len())
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) {
    let Ok(meta) = fs::metadata(path) else { return };
    if meta.is_file() {
        out.push(path.to_owned());
        return;
    }
    let Ok(entries) = fs::read_dir(path) else {
        return;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if p.is_dir() {
            collect_files(&p, out);
        } else if matches!(
            p.extension().and_then(OsStr::to_str),
            Some("rs" | "toml" | "txt" | "s" | "lock")
        ) {
            out.push(p);
        }
    }
}

/// An up-to-date runtime archive for this umbra and toolchain, built (under a
/// lock) if needed: `<dir>/libumbra-<content hash>.a`, a copy of `libumbra.a` whose
/// name changes with its content. The name is part of RUSTFLAGS, so when the runtime
/// changes cargo rebuilds and relinks the user's programs (it does not track the
/// contents of a `-Clink-arg` file).
fn ensure_runtime(dir: &Path, toolchain: &str) -> Result<PathBuf, String> {
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let lock = File::create(dir.join("lock"))
        .map_err(|e| format!("{}: {e}", dir.join("lock").display()))?;
    lock.lock()
        .map_err(|e| format!("locking {}: {e}", dir.display()))?;
    let stamp = dir.join("stamp");
    let fingerprint = source_fingerprint();
    let fresh = dir.join("libumbra.a").is_file()
        && fs::read_to_string(&stamp).is_ok_and(|s| s == fingerprint);
    if !fresh {
        eprintln!(
            "cargo umbra: building the umbra runtime for toolchain `{toolchain}` into {} \
             (once per umbra version and toolchain)",
            dir.display()
        );
        let umbra = umbra_binary();
        let mut cmd = Command::new(&umbra);
        scrub_cargo_env(&mut cmd);
        cmd.arg("build")
            .arg("--out")
            .arg(dir)
            .env("RUSTUP_TOOLCHAIN", toolchain);
        let out = cmd
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .status()
            .map_err(|e| format!("cannot run {}: {e}", umbra.display()))?;
        if !out.success() {
            return Err(format!(
                "`{} build --out {}` failed ({out})",
                umbra.display(),
                dir.display()
            ));
        }
        fs::write(&stamp, &fingerprint).map_err(|e| format!("{}: {e}", stamp.display()))?;
    }
    let named = named_archive(dir)?;
    drop(lock);
    Ok(named)
}

/// `<dir>/libumbra-<hash of libumbra.a>.a`, created if missing; older copies are
/// removed.
fn named_archive(dir: &Path) -> Result<PathBuf, String> {
    let archive = dir.join("libumbra.a");
    let bytes = fs::read(&archive).map_err(|e| format!("{}: {e}", archive.display()))?;
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    let name = format!("libumbra-{:016x}.a", h.finish());
    let named = dir.join(&name);
    if !named.is_file() {
        if let Ok(entries) = fs::read_dir(dir) {
            for e in entries.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                if n.starts_with("libumbra-") && n.ends_with(".a") {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        let tmp = dir.join(format!("{name}.tmp"));
        fs::write(&tmp, &bytes).map_err(|e| format!("{}: {e}", tmp.display()))?;
        fs::rename(&tmp, &named).map_err(|e| format!("{}: {e}", named.display()))?;
    }
    Ok(named)
}

/// The `umbra` binary installed next to this one, else the one on PATH.
fn umbra_binary() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("umbra")))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("umbra"))
}

/// `<the project's target directory>/umbra`, from `cargo metadata`.
fn umbra_target_dir(toolchain: &str, cargo_args: &[&str]) -> Result<PathBuf, String> {
    let mut cmd = Command::new("cargo");
    cmd.args([
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
        "--offline",
    ])
    .env("RUSTUP_TOOLCHAIN", toolchain)
    .env_remove("CARGO");
    // Options that choose the workspace.
    let mut it = cargo_args.iter();
    while let Some(a) = it.next() {
        if *a == "--manifest-path" {
            if let Some(p) = it.next() {
                cmd.args(["--manifest-path", p]);
            }
        } else if a.starts_with("--manifest-path=") {
            cmd.arg(a);
        }
    }
    let out = cmd
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let json = String::from_utf8_lossy(&out.stdout);
    let dir = json_string_field(&json, "target_directory")
        .ok_or_else(|| "cargo metadata printed no target_directory".to_owned())?;
    Ok(PathBuf::from(dir).join("umbra"))
}

/// The value of the first `"key":"..."` string field in a JSON text.
fn json_string_field(json: &str, key: &str) -> Option<String> {
    let start = json.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let mut out = String::new();
    let mut chars = json[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

struct Outcome {
    success: bool,
    code: Option<i32>,
    warnings: usize,
    abi_mismatch: bool,
}

/// Runs `cmd` with its stderr copied to ours as it comes, counting umbra's reports.
fn run_teeing_stderr(cmd: &mut Command) -> Result<Outcome, String> {
    let mut child = cmd
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let mut pipe = child.stderr.take().expect("piped stderr");
    let mut out = io::stderr();
    let mut buf = vec![0u8; 64 * 1024];
    // The tail of the previous chunk, so a pattern split across reads is still seen.
    let mut carry: Vec<u8> = Vec::new();
    let (mut warnings, mut abi_mismatch) = (0, false);
    loop {
        let n = match pipe.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let _ = out.write_all(&buf[..n]);
        let keep = carry.len();
        carry.extend_from_slice(&buf[..n]);
        warnings += count(&carry, WARNING) - count(&carry[..keep], WARNING);
        abi_mismatch |= count(&carry, ABI_MISMATCH) > 0;
        let tail = carry
            .len()
            .saturating_sub(WARNING.len().max(ABI_MISMATCH.len()));
        carry.drain(..tail);
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for cargo: {e}"))?;
    Ok(Outcome {
        success: status.success(),
        code: status.code(),
        warnings,
        abi_mismatch,
    })
}

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_field() {
        let j = r#"{"packages":[],"target_directory":"/a b/t\"x\\y","version":1}"#;
        assert_eq!(
            json_string_field(j, "target_directory").as_deref(),
            Some("/a b/t\"x\\y")
        );
        assert_eq!(json_string_field(j, "nope"), None);
    }

    #[test]
    fn std_frames_are_folded_unless_the_user_says() {
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(umbra_options(None, None), "fold_std_frames=1");
        assert_eq!(
            umbra_options(s("halt_on_error=1"), s("")),
            "fold_std_frames=1"
        );
        assert_eq!(
            umbra_options(None, s("json_path=r.jsonl")),
            "fold_std_frames=1:json_path=r.jsonl"
        );
        assert_eq!(
            umbra_options(None, s("fold_std_frames=0")),
            "fold_std_frames=0"
        );
        assert_eq!(
            umbra_options(s("fold_std_frames=0"), s("exitcode=3")),
            "exitcode=3"
        );
        assert_eq!(umbra_options(s("fold_std_frames=0"), None), "");
    }

    #[test]
    fn counting_across_chunks() {
        assert_eq!(
            count(
                b"xx WARNING: ThreadSanitizer: a WARNING: ThreadSanitizer:",
                WARNING
            ),
            2
        );
        assert_eq!(count(b"", WARNING), 0);
    }
}
