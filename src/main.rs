//! `umbra`: build the runtime artifacts, run programs under them.
//!
//! - `umbra build --out DIR` writes `DIR/libumbra.a` (for `-Clink-arg=` in Rust
//!   programs built with `-Zexternal-clangrt`) and `DIR/libumbra.so` (for
//!   `LD_PRELOAD` with gcc/clang `-fsanitize=thread` programs).
//! - `umbra run -- PROG ARGS...` runs a program with libumbra.so preloaded.
//! - `umbra demo` shows umbra on the bundled examples.
//! - `umbra bench` compares umbra with the stock TSan runtimes (benches/).
//! - `umbra sarif REPORTS.jsonl...` converts the runtime's JSON reports to SARIF
//!   2.1.0; `umbra report REPORTS.jsonl...` summarizes them by site (text,
//!   markdown, GitHub Actions annotations).

mod bench;
mod build;
mod cargo_env;
mod demo;
mod detect;
mod reports;
mod rust_src;
mod sarif;
mod sarif_output;
mod summary;

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
    /// With `sarif_path=PATH` in TSAN_OPTIONS or UMBRA_OPTIONS, also writes the
    /// reports of the run (every process) to PATH as SARIF 2.1.0.
    Run {
        /// Where the runtime is (built there if missing).
        #[arg(long, default_value = "target/umbra")]
        rt: PathBuf,
        #[arg(trailing_var_arg = true, required = true)]
        prog: Vec<String>,
    },
    /// Convert JSON reports (json_path output) to one SARIF 2.1.0 log on stdout.
    Sarif {
        /// JSON Lines files written by the runtime's json_path option.
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        /// Source root: paths under it become relative URIs (uriBaseId SRCROOT).
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
    /// Summarize JSON reports (json_path output) by site: count, kind, both top frames.
    Report {
        /// JSON Lines files written by the runtime's json_path option.
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        /// text; markdown (a table, e.g. for $GITHUB_STEP_SUMMARY); github (one
        /// `::error file=...,line=...::` workflow command per site).
        #[arg(long, value_enum, default_value = "text")]
        format: summary::Format,
        /// Source root: file paths are shown relative to it.
        #[arg(long, default_value = ".")]
        root: PathBuf,
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
        Cmd::Sarif { reports, root } => {
            let converted = SourceRootArg(root).get().and_then(|root| {
                let loaded = load_reports(&reports)?;
                Ok(sarif::to_sarif_text(&loaded, &root))
            });
            match converted {
                Ok(text) => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("umbra sarif: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Cmd::Report {
            reports,
            format,
            root,
        } => {
            let rendered = SourceRootArg(root).get().and_then(|root| {
                let loaded = load_reports(&reports)?;
                Ok(summary::render(&loaded, &root, format))
            });
            match rendered {
                Ok(text) => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("umbra report: {e}");
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
            let env = |k| std::env::var(k).ok();
            let capture = match sarif_output::prepare(
                env("TSAN_OPTIONS").as_deref(),
                env("UMBRA_OPTIONS").as_deref(),
            ) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("umbra: {e}");
                    return ExitCode::from(2);
                }
            };
            let mut cmd = std::process::Command::new(&prog[0]);
            cmd.args(&prog[1..]).env("LD_PRELOAD", so);
            if let Some((_, options)) = &capture {
                cmd.env("UMBRA_OPTIONS", options);
            }
            let status = cmd.status();
            if let Some((capture, _)) = capture {
                if let Err(e) = capture.finish() {
                    eprintln!("umbra: sarif_path: {e}");
                }
            }
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

/// A `--root` argument.
struct SourceRootArg(PathBuf);

impl SourceRootArg {
    fn get(&self) -> Result<reports::SourceRoot, String> {
        if !self.0.is_dir() {
            return Err(format!("--root {}: not a directory", self.0.display()));
        }
        reports::SourceRoot::new(&self.0)
    }
}

/// Reads the reports of one or more JSONL files (blank lines skipped). A line that is
/// not a report is an error naming the file and line.
fn load_reports(paths: &[PathBuf]) -> Result<Vec<reports::Report>, String> {
    let mut reports = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        reports.extend(reports::parse(&text, &path.display().to_string())?);
    }
    Ok(reports)
}
