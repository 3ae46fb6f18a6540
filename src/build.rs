//! Building the runtime artifacts from the `umbra-ffi` static archive.
//!
//! 1. `cargo build -p umbra-ffi --profile runtime` with initial-exec TLS (no
//!    `__tls_get_addr` on the fast path) into its own target directory.
//! 2. `ld -r --whole-archive` merges the archive (umbra, core, alloc,
//!    compiler_builtins) into one relocatable object, defining the
//!    `__interceptor_NAME` alias of every interceptor and pass-through (stock
//!    libtsan's names for them, which programs that wrap a libc function call).
//! 3. `objcopy` renames the runtime's own `memcpy`-family references to its private
//!    copies, gives the interceptor trampolines their libc names, and makes every
//!    symbol but the ABI local, so the object cannot collide with the program's own
//!    Rust std (`rust_begin_unwind`, `__rust_alloc`, ...).
//! 4. The object is archived as `libumbra.a` and linked as `libumbra.so`, the
//!    latter also exporting the pass-through trampolines that keep gcc's libtsan
//!    dormant.

use std::path::{Path, PathBuf};
use std::process::Command;

/// libc functions the runtime's own code calls (compiler-generated or from core),
/// redirected to its private `__umbra_rt_*` copies. The first five are also
/// intercepted, through `umbra_export_*` trampolines.
const MEMFNS: [&str; 5] = ["memcpy", "memmove", "memset", "memcmp", "bcmp"];
const PRIVATE_ONLY: [&str; 1] = ["strlen"];

/// Runs `cmd`; its stdout on success, a message with its stderr on failure.
pub fn run_checked(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    if !out.status.success() {
        return Err(format!(
            "{:?} failed: {}\n{}",
            cmd.get_program(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The runtime's exported names: global symbols defined by the `umbra_ffi` object
/// of the archive (its `#[no_mangle]` functions and assembly trampolines) that are
/// not Rust-mangled or internal. Everything else in the archive (core, alloc,
/// compiler builtins such as `__udivti3`, `DW.ref.*`) stays local.
fn exported_symbols(archive: &Path) -> Result<Vec<String>, String> {
    let text = run_checked(Command::new("readelf").args(["-Ws", "--wide"]).arg(archive))?;
    let mut out = Vec::new();
    let mut ours = false;
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("File: ") {
            ours = f.contains("(umbra_ffi-");
            continue;
        }
        if !ours {
            continue;
        }
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() < 8 || cols[6] == "UND" || !(cols[4] == "GLOBAL" || cols[4] == "WEAK") {
            continue;
        }
        let name = cols[7];
        let internal = name.starts_with("_ZN")
            || name.starts_with("_R")
            || name.starts_with("__rust")
            || name.starts_with("rust_")
            || name.starts_with("_Unwind")
            || name.starts_with("__umbra_")
            || name.starts_with("umbra_passthrough")
            || name.starts_with("umbra_on_")
            || name.contains('.');
        if !internal {
            out.push(name.to_string());
        }
    }
    out.sort();
    out.dedup();
    if !out.iter().any(|s| s == "__tsan_init") {
        return Err(format!(
            "no __tsan_init among the symbols of {}",
            archive.display()
        ));
    }
    Ok(out)
}

/// What an `__interceptor_NAME` alias points at.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AliasOf {
    /// One of umbra's interceptors: exported from both artifacts.
    Interceptor,
    /// A pass-through trampoline: exported from libumbra.so only, like the
    /// trampoline itself.
    PassThrough,
}

struct Alias {
    alias: String,
    target: String,
    kind: AliasOf,
}

/// The `__interceptor_NAME` aliases stock libtsan defines for every libc function
/// it intercepts: one for each of umbra's libc-named exports (its interceptors,
/// the memory functions behind their `umbra_export_` trampolines, the
/// pass-throughs). The runtime API (`__tsan_*`, `__sanitizer_*`, annotations) and
/// the C++ operators (`_Z...`) have none, as in stock.
fn interceptor_aliases(exports: &[String]) -> Vec<Alias> {
    let runtime_api = |s: &str| {
        s.starts_with("__tsan_")
            || s.starts_with("__sanitizer_")
            || s.starts_with("_Z")
            || s.starts_with("Annotate")
            || s.starts_with("WTFAnnotate")
            || matches!(
                s,
                "RunningOnValgrind" | "ValgrindSlowdown" | "ThreadSanitizerQuery"
            )
    };
    exports
        .iter()
        .filter_map(|s| {
            let (name, kind) = if let Some(p) = s.strip_prefix("umbra_pass_") {
                (p, AliasOf::PassThrough)
            } else if let Some(m) = s.strip_prefix("umbra_export_") {
                (m, AliasOf::Interceptor)
            } else {
                (s.as_str(), AliasOf::Interceptor)
            };
            (!runtime_api(name)).then(|| Alias {
                alias: format!("__interceptor_{name}"),
                target: s.clone(),
                kind,
            })
        })
        .collect()
}

pub fn build_runtime(out: &Path) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let ws = workspace();
    let target = ws.join("target").join("runtime");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut c = Command::new(cargo);
    c.current_dir(&ws)
        .args([
            "build",
            "--quiet",
            "-p",
            "umbra-ffi",
            "--profile",
            "runtime",
            "--target-dir",
        ])
        .arg(&target)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env(
            "RUSTFLAGS",
            "-Ztls-model=initial-exec -Ctarget-cpu=x86-64-v2",
        );
    run_checked(&mut c)?;
    let archive = target.join("runtime").join("libumbra_ffi.a");

    let exports = exported_symbols(&archive)?;
    let aliases = interceptor_aliases(&exports);
    let merged = out.join("umbra-merged.o");
    let mut merge = Command::new("ld");
    merge.args(["-r", "--whole-archive"]);
    for a in &aliases {
        merge.arg(format!("--defsym={}={}", a.alias, a.target));
    }
    run_checked(merge.arg(&archive).arg("-o").arg(&merged))?;

    // Renames common to both artifacts.
    let mut renames: Vec<(String, String)> = Vec::new();
    for f in MEMFNS {
        renames.push((f.to_string(), format!("__umbra_rt_{f}")));
        renames.push((format!("umbra_export_{f}"), f.to_string()));
    }
    for f in PRIVATE_ONLY {
        renames.push((f.to_string(), format!("__umbra_rt_{f}")));
    }
    // The personality pointer lives in a COMDAT group named after it; under its own
    // name the program's copy would replace ours and orphan our unwind tables.
    renames.push((
        "DW.ref.rust_eh_personality".into(),
        "DW.ref.umbra_rust_eh_personality".into(),
    ));
    let passthrough: Vec<String> = exports
        .iter()
        .filter_map(|s| s.strip_prefix("umbra_pass_").map(str::to_string))
        .collect();
    let abi: Vec<String> = exports
        .iter()
        .filter(|s| !s.starts_with("umbra_pass_") && !s.starts_with("umbra_export_"))
        .cloned()
        .chain(MEMFNS.iter().map(|s| s.to_string()))
        .chain(
            aliases
                .iter()
                .filter(|a| a.kind == AliasOf::Interceptor)
                .map(|a| a.alias.clone()),
        )
        .collect();

    // libumbra.a: the ABI only.
    let obj_a = out.join("umbra-static.o");
    objcopy(&merged, &obj_a, &renames, &abi, out)?;
    let lib_a = out.join("libumbra.a");
    let new_a = out.join("libumbra.a.new");
    let _ = std::fs::remove_file(&new_a);
    run_checked(
        Command::new("llvm-ar-14")
            .args(["rcsD"])
            .arg(&new_a)
            .arg(&obj_a),
    )
    .or_else(|_| run_checked(Command::new("gcc-ar").arg("rcsD").arg(&new_a).arg(&obj_a)))?;
    replace_if_changed(&new_a, &lib_a)?;

    // libumbra.so: the ABI plus the pass-through trampolines under libc's names.
    let mut renames_so = renames.clone();
    for p in &passthrough {
        renames_so.push((format!("umbra_pass_{p}"), p.clone()));
    }
    let mut keep_so = abi.clone();
    keep_so.extend(passthrough.iter().cloned());
    keep_so.extend(
        aliases
            .iter()
            .filter(|a| a.kind == AliasOf::PassThrough)
            .map(|a| a.alias.clone()),
    );
    let obj_so = out.join("umbra-shared.o");
    objcopy(&merged, &obj_so, &renames_so, &keep_so, out)?;
    run_checked(
        Command::new("cc")
            .args([
                "-shared",
                "-nostartfiles",
                "-Wl,-Bsymbolic",
                "-Wl,-z,nodelete",
                "-o",
            ])
            .arg(out.join("libumbra.so.new"))
            .arg(&obj_so),
    )?;
    replace_if_changed(&out.join("libumbra.so.new"), &out.join("libumbra.so"))?;
    for f in [&merged, &obj_a, &obj_so] {
        let _ = std::fs::remove_file(f);
    }
    Ok(())
}

/// Moves `new` over `dest` unless `dest` already has the same bytes, so an
/// unchanged runtime keeps its timestamp and nothing linked against it is rebuilt.
fn replace_if_changed(new: &Path, dest: &Path) -> Result<(), String> {
    let same = match (std::fs::read(new), std::fs::read(dest)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        std::fs::remove_file(new).map_err(|e| format!("{}: {e}", new.display()))
    } else {
        std::fs::rename(new, dest).map_err(|e| format!("{}: {e}", dest.display()))
    }
}

/// Renames symbols, re-links so renamed references meet their definitions, then
/// makes everything but `keep` local.
fn objcopy(
    input: &Path,
    output: &Path,
    renames: &[(String, String)],
    keep: &[String],
    dir: &Path,
) -> Result<(), String> {
    let redefine = dir.join("umbra-redefine.txt");
    let keepf = dir.join("umbra-keep.txt");
    let renamed = dir.join("umbra-renamed.o");
    let relinked = dir.join("umbra-relinked.o");
    let r: String = renames.iter().map(|(a, b)| format!("{a} {b}\n")).collect();
    std::fs::write(&redefine, r).map_err(|e| e.to_string())?;
    std::fs::write(&keepf, keep.join("\n") + "\n").map_err(|e| e.to_string())?;
    run_checked(
        Command::new("objcopy")
            .arg(format!("--redefine-syms={}", redefine.display()))
            .arg(input)
            .arg(&renamed),
    )?;
    run_checked(
        Command::new("ld")
            .arg("-r")
            .arg(&renamed)
            .arg("-o")
            .arg(&relinked),
    )?;
    run_checked(
        Command::new("objcopy")
            .arg(format!("--keep-global-symbols={}", keepf.display()))
            .arg(&relinked)
            .arg(output),
    )?;
    for f in [redefine, keepf, renamed, relinked] {
        let _ = std::fs::remove_file(f);
    }
    Ok(())
}
