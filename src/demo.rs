//! `umbra demo`: builds the runtime, compiles the bundled examples (C with gcc,
//! Rust with `-Zsanitizer=thread -Zexternal-clangrt` and `-Zbuild-std`), runs
//! each under umbra, and shows what umbra said about it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::build::{build_runtime, run_checked};

pub struct Outcome {
    pub name: String,
    pub exit: i32,
    pub reports: usize,
    pub stderr: String,
}

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join("demo")
}

/// Compiles a C program with gcc's ThreadSanitizer instrumentation.
pub fn compile_c(src: &Path, out: &Path) -> Result<(), String> {
    run_checked(
        Command::new("gcc")
            .args(["-fsanitize=thread", "-g", "-O1", "-pthread"])
            .arg(src)
            .arg("-o")
            .arg(out),
    )
    .map(|_| ())
}

/// Builds the Rust demo package against `libumbra.a`; returns its binary dir.
pub fn build_rust_package(dir: &Path, rt: &Path, target_dir: &Path) -> Result<PathBuf, String> {
    let lib =
        std::fs::canonicalize(rt.join("libumbra.a")).map_err(|e| format!("libumbra.a: {e}"))?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run_checked(
        Command::new(cargo)
            .current_dir(dir)
            .args([
                "build",
                "--quiet",
                "-Zbuild-std",
                "--target",
                "x86_64-unknown-linux-gnu",
                "--target-dir",
            ])
            .arg(target_dir)
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_BUILD_RUSTFLAGS")
            .env(
                "RUSTFLAGS",
                format!(
                    "-Zsanitizer=thread -Zexternal-clangrt -Clink-arg={}",
                    lib.display()
                ),
            ),
    )?;
    Ok(target_dir.join("x86_64-unknown-linux-gnu").join("debug"))
}

/// Runs `prog`, preloading `preload` if given; collects its stderr.
pub fn run_under(prog: &Path, preload: Option<&Path>) -> Result<Outcome, String> {
    let mut c = Command::new(prog);
    c.stdout(Stdio::inherit()).stderr(Stdio::piped());
    if let Some(p) = preload {
        c.env("LD_PRELOAD", p);
    }
    let out = c
        .output()
        .map_err(|e| format!("cannot run {}: {e}", prog.display()))?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    Ok(Outcome {
        name: prog
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned(),
        exit: out.status.code().unwrap_or(-1),
        reports: stderr.matches("WARNING: ThreadSanitizer:").count(),
        stderr,
    })
}

pub fn demo(rt: &Path) -> Result<(), String> {
    eprintln!("umbra demo: building the runtime into {}", rt.display());
    build_runtime(rt)?;
    let rt = &std::fs::canonicalize(rt).map_err(|e| format!("{}: {e}", rt.display()))?;
    let work = rt.join("demo");
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let so = std::fs::canonicalize(rt.join("libumbra.so")).map_err(|e| e.to_string())?;
    let mut results = Vec::new();

    for name in ["racy", "clean"] {
        let bin = work.join(format!("{name}-c"));
        eprintln!("umbra demo: gcc -fsanitize=thread examples/demo/{name}.c");
        compile_c(&examples().join(format!("{name}.c")), &bin)?;
        results.push(run_under(&bin, Some(&so))?);
    }

    eprintln!("umbra demo: cargo build -Zbuild-std (Rust examples; the first build of std takes a minute)");
    let bins = build_rust_package(&examples().join("rust"), rt, &work.join("rust-target"))?;
    for name in ["racy", "clean"] {
        results.push(run_under(&bins.join(name), None).map(|mut o| {
            o.name = format!("{name}-rust");
            o
        })?);
    }

    for r in &results {
        println!("\n===== {} (exit code {}) =====", r.name, r.exit);
        if r.stderr.is_empty() {
            println!("(no report)");
        } else {
            print!("{}", r.stderr);
        }
    }
    println!(
        "\n{:<12} {:>8} {:>6}  verdict",
        "program", "reports", "exit"
    );
    for r in &results {
        let verdict = if r.reports > 0 {
            "data race reported"
        } else {
            "no race"
        };
        println!("{:<12} {:>8} {:>6}  {}", r.name, r.reports, r.exit, verdict);
    }
    Ok(())
}
