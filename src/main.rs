//! `umbra`: build the runtime artifacts, run programs under them.
//!
//! - `umbra build --out DIR` writes `DIR/libumbra.a` (for `-Clink-arg=` in Rust
//!   programs built with `-Zexternal-clangrt`) and `DIR/libumbra.so` (for
//!   `LD_PRELOAD` with gcc/clang `-fsanitize=thread` programs).
//! - `umbra run -- PROG ARGS...` runs a program with libumbra.so preloaded.
//! - `umbra demo` shows umbra on the bundled examples.

mod build;
mod demo;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "umbra", about = "A ThreadSanitizer-compatible data-race detector runtime", version)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build libumbra.a and libumbra.so into DIR.
    Build {
        #[arg(long, default_value = "target/umbra")]
        out: PathBuf,
    },
    /// Build the runtime, compile the bundled examples (C and Rust) and show
    /// umbra's reports on them.
    Demo {
        #[arg(long, default_value = "target/umbra")]
        rt: PathBuf,
    },
    /// Run PROG under umbra (LD_PRELOAD=libumbra.so), building the runtime if needed.
    Run {
        /// Where the runtime is (built there if missing).
        #[arg(long, default_value = "target/umbra")]
        rt: PathBuf,
        #[arg(trailing_var_arg = true, required = true)]
        prog: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Build { out } => match build::build_runtime(&out) {
            Ok(()) => {
                eprintln!("umbra: wrote {0}/libumbra.a and {0}/libumbra.so", out.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("umbra: build failed: {e}");
                ExitCode::FAILURE
            }
        },
        Cmd::Demo { rt } => match demo::demo(&rt) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("umbra demo: {e}");
                ExitCode::FAILURE
            }
        },
        Cmd::Run { rt, prog } => {
            if !rt.join("libumbra.so").exists() {
                if let Err(e) = build::build_runtime(&rt) {
                    eprintln!("umbra: build failed: {e}");
                    return ExitCode::FAILURE;
                }
            }
            let so = std::fs::canonicalize(rt.join("libumbra.so")).expect("libumbra.so");
            let status = std::process::Command::new(&prog[0]).args(&prog[1..]).env("LD_PRELOAD", so).status();
            match status {
                Ok(s) => ExitCode::from(s.code().unwrap_or(1) as u8),
                Err(e) => {
                    eprintln!("umbra: cannot run {}: {e}", prog[0]);
                    ExitCode::from(127)
                }
            }
        }
    }
}
