//! `umbra`: build the runtime artifacts, run programs under them.
//!
//! - `umbra build --out DIR` writes `DIR/libumbra.a` (for `-Clink-arg=` in Rust
//!   programs built with `-Zexternal-clangrt`) and `DIR/libumbra.so` (for
//!   `LD_PRELOAD` with gcc/clang `-fsanitize=thread` programs).
//! - `umbra run -- PROG ARGS...` runs a program with libumbra.so preloaded.
//! - `umbra demo` shows umbra on the bundled examples.
//! - `umbra bench` compares umbra with the stock TSan runtimes (benches/).

mod bench;
mod build;
mod cargo_env;
mod demo;
mod detect;
mod rust_src;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "umbra",
    about = "A ThreadSanitizer-compatible data-race detector runtime",
    version
)]
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
    /// Benchmark umbra against the stock TSan runtimes: the workloads in
    /// benches/workloads (C and Rust; uninstrumented, stock, umbra, alternating),
    /// or with --micro the entry-point microbenchmarks in benches/micro, or with
    /// --leaf the disassembly check of the fast path. Exits 3 if stock and umbra
    /// disagree on a verdict (or --leaf finds push/pop/call).
    Bench {
        /// Runs per workload and runtime (medians are reported).
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Only workloads whose name (c/NAME, rust/NAME) contains this; with
        /// --micro, a regex on the benchmark names (after their group/).
        #[arg(long)]
        filter: Option<String>,
        /// Where the markdown table goes (--micro: target/bench-micro.md unless given).
        #[arg(long, default_value = bench::DEFAULT_OUT)]
        out: PathBuf,
        /// Where the runtime is built.
        #[arg(long, default_value = "target/umbra")]
        rt: PathBuf,
        /// Use the runtime already in --rt instead of rebuilding it.
        #[arg(long)]
        no_build: bool,
        /// Kill a run after this many seconds.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
        /// Run the criterion microbenchmarks (benches/micro) instead.
        #[arg(long, conflicts_with = "leaf")]
        micro: bool,
        /// Check that the fast-path entry points of libumbra.so are leaf code.
        #[arg(long)]
        leaf: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Build { out } => match build::build_runtime(&out) {
            Ok(()) => {
                eprintln!(
                    "umbra: wrote {0}/libumbra.a and {0}/libumbra.so",
                    out.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("umbra: build failed: {e}");
                ExitCode::FAILURE
            }
        },
        Cmd::Demo { rt } => {
            match rust_src::ensure(&rust_src::nightly_toolchain()).and_then(|_| demo::demo(&rt)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("umbra demo: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Cmd::Bench {
            runs,
            filter,
            out,
            rt,
            no_build,
            timeout,
            micro,
            leaf,
        } => {
            let opts = bench::Options {
                runs: runs.max(1),
                filter,
                out,
                rt,
                no_build,
                timeout: std::time::Duration::from_secs(timeout),
            };
            // The Rust workloads are built with `cargo +nightly ... -Zbuild-std`.
            if let Err(e) = (!micro && !leaf)
                .then(|| rust_src::ensure("nightly"))
                .transpose()
            {
                eprintln!("umbra bench: {e}");
                return ExitCode::FAILURE;
            }
            let r = if micro {
                bench::micro(&opts).map(|()| true)
            } else if leaf {
                bench::leaf(&opts)
            } else {
                bench::bench(&opts)
            };
            match r {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(3),
                Err(e) => {
                    eprintln!("umbra bench: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Cmd::Run { rt, prog } => {
            if let Some(message) = detect::static_stock_runtime(&prog[0]) {
                eprintln!("{message}");
                return ExitCode::from(2);
            }
            if !rt.join("libumbra.so").exists() {
                if let Err(e) = build::build_runtime(&rt) {
                    eprintln!("umbra: build failed: {e}");
                    return ExitCode::FAILURE;
                }
            }
            let so = std::fs::canonicalize(rt.join("libumbra.so")).expect("libumbra.so");
            let status = std::process::Command::new(&prog[0])
                .args(&prog[1..])
                .env("LD_PRELOAD", so)
                .status();
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
