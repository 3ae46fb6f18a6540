//! The happens-before matrix: a differential stress test for missed races and false
//! reports (issue 13).
//!
//! Two parameterised programs, `tests/corpus/rust/src/stress/hb_matrix.rs` (built
//! with the Rust corpus) and `tests/stress/hb_matrix.c` (gcc, and clang-16
//! `-shared-libsan` where installed), each list their scenarios (`--list`): a write,
//! threads spawned, joined or left running in between, and one link between the
//! writer and a reader (relaxed, release/acquire, SeqCst, fences, release sequences
//! continued or ended, mutex, condvar, channel, semaphore, pipe, `Arc`, spawn,
//! join). Each scenario prints its own verdict, known by construction, and whether
//! stock TSan models it. Every scenario runs `UMBRA_STRESS_RUNS` times (default 3;
//! a soak run sets it to 100 or more) under umbra and must give exactly that
//! verdict every time: no missed race, no false report. Scenarios stock TSan
//! models also run once on stock (up to three attempts for a race, since stock
//! misses races now and then), which must agree.
//!
//! `UMBRA_STRESS_FILTER=a,b` runs only scenarios whose `lang LINK NOISE` contains `a`
//! or `b`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::exec::{self, parallel_map, Output, Status};
use common::toolchain::{
    clang_runtime_dir, rust_binaries, target_dir, umbra_runtime, workspace_dir, Runtime,
};

const RUN_TIMEOUT: Duration = Duration::from_secs(60);
const STOCK_ATTEMPTS: usize = 3;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Verdict {
    Race,
    Clean,
}

/// One way to run the matrix program.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Build {
    Rust,
    Gcc,
    Clang,
}

fn runs_per_scenario() -> usize {
    std::env::var("UMBRA_STRESS_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3)
}

fn selected(label: &str) -> bool {
    match std::env::var("UMBRA_STRESS_FILTER") {
        Ok(filter) if !filter.trim().is_empty() => filter
            .split(',')
            .map(str::trim)
            .any(|part| !part.is_empty() && label.contains(part)),
        _ => true,
    }
}

fn compile_c(clang: bool) -> Result<PathBuf, String> {
    let dir = target_dir().join("hb-matrix");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let binary = dir.join(if clang {
        "hb_matrix_clang"
    } else {
        "hb_matrix_gcc"
    });
    let mut cmd = Command::new(if clang { "clang-16" } else { "gcc" });
    if clang {
        let rt = clang_runtime_dir().ok_or("clang-16 with libclang-rt-16-dev is not installed")?;
        cmd.args(["-shared-libsan", "-mcx16"])
            .arg(format!("-Wl,-rpath,{}", rt.display()));
    } else {
        // gcc warns that it does not "support" atomic_thread_fence under TSan; it
        // does emit __tsan_atomic_thread_fence, which umbra models.
        cmd.arg("-Wno-tsan");
    }
    cmd.args(["-fsanitize=thread", "-g", "-O1", "-pthread"])
        .arg(workspace_dir().join("tests/stress/hb_matrix.c"))
        .arg("-o")
        .arg(&binary);
    exec::run_checked(&mut cmd, Duration::from_secs(120), "compiling hb_matrix.c")?;
    Ok(binary)
}

fn command(build: Build, runtime: Runtime, binary: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(binary);
    cmd.args(args)
        .env_remove("TSAN_OPTIONS")
        .env_remove("UMBRA_OPTIONS")
        .env_remove("LD_PRELOAD");
    if runtime == Runtime::Stock {
        cmd.env("TSAN_OPTIONS", "atexit_sleep_ms=0");
    } else if build != Build::Rust {
        let rt = umbra_runtime().unwrap_or_else(|e| panic!("{e}"));
        cmd.env("LD_PRELOAD", rt.join("libumbra.so"));
    }
    cmd
}

struct Scenario {
    args: Vec<String>,
}

fn scenarios(binary: &Path) -> Vec<Scenario> {
    let out = Command::new(binary)
        .arg("--list")
        .env_remove("LD_PRELOAD")
        .output()
        .expect("running --list");
    assert!(out.status.success(), "{} --list failed", binary.display());
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| Scenario {
            args: l.split_whitespace().map(str::to_owned).collect(),
        })
        .collect()
}

/// What one run showed: the program's own expectations and what the runtime did.
struct Observed {
    expect: Verdict,
    stock_same: bool,
    verdict: Verdict,
    problem: Option<String>,
}

fn observe(output: &Output) -> Observed {
    let line = |key: &str| {
        output
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map(str::trim)
    };
    let expect = match line("expect:") {
        Some("race") => Verdict::Race,
        Some("clean") => Verdict::Clean,
        other => panic!(
            "no `expect:` line ({other:?}):\n{}\n{}",
            output.stdout, output.stderr
        ),
    };
    let stock_same = line("stock:") == Some("same");
    let races = output
        .stderr
        .matches("WARNING: ThreadSanitizer: data race")
        .count();
    let warnings = output.stderr.matches("WARNING: ThreadSanitizer:").count();
    let verdict = if races > 0 {
        Verdict::Race
    } else {
        Verdict::Clean
    };
    let mut problem = None;
    if line("read") != Some("42") {
        problem = Some(format!("the reader did not read 42 ({:?})", line("read")));
    } else if warnings != races {
        problem = Some("a report other than a data race".to_owned());
    } else if verdict == Verdict::Race && !output.stderr.contains("X' of size 8") {
        problem = Some("a race reported on something other than X".to_owned());
    } else {
        let code = if verdict == Verdict::Race { 66 } else { 0 };
        if output.status != Status::Exited(code) {
            problem = Some(format!("{} (expected exit code {code})", output.status));
        }
    }
    Observed {
        expect,
        stock_same,
        verdict,
        problem,
    }
}

/// Runs every scenario of one build on umbra (and on stock where it models the
/// scenario); returns one line per failure.
fn run_matrix(build: Build, binary: &Path, stock_binary: Option<&Path>) -> Vec<String> {
    let name = match build {
        Build::Rust => "rust",
        Build::Gcc => "gcc",
        Build::Clang => "clang",
    };
    let runs = runs_per_scenario();
    let all = scenarios(binary);
    let chosen: Vec<(&Scenario, usize)> = all
        .iter()
        .filter(|s| selected(&format!("{name} {}", s.args.join(" "))))
        .flat_map(|s| (0..runs).map(move |i| (s, i)))
        .collect();
    let start = Instant::now();
    let failures: Vec<String> = parallel_map(&chosen, |&(scenario, repetition)| {
        let args: Vec<&str> = scenario.args.iter().map(String::as_str).collect();
        let output = exec::run(
            &mut command(build, Runtime::Umbra, binary, &args),
            RUN_TIMEOUT,
        )
        .expect("run");
        let seen = observe(&output);
        let mut failure = seen.problem.clone();
        if failure.is_none() && seen.verdict != seen.expect {
            failure = Some(format!(
                "expected {:?}, umbra said {:?}",
                seen.expect, seen.verdict
            ));
        }
        // Stock runs once per scenario, where the scenario says stock models it.
        if let (Some(stock), true, None, 0) = (stock_binary, seen.stock_same, &failure, repetition)
        {
            failure = stock_disagrees(build, stock, &args, seen.expect);
        }
        failure.map(|f| {
            format!(
                "{name} {}: {f}\n--- stderr (tail) ---\n{}",
                args.join(" "),
                exec::tail(&output.stderr, 30)
            )
        })
    })
    .into_iter()
    .flatten()
    .collect();
    println!(
        "{name}: {} scenarios x {runs} runs on umbra in {:.1?}, {} failed",
        chosen.len() / runs.max(1),
        start.elapsed(),
        failures.len()
    );
    failures
}

fn stock_disagrees(build: Build, binary: &Path, args: &[&str], expect: Verdict) -> Option<String> {
    let attempts = if expect == Verdict::Race {
        STOCK_ATTEMPTS
    } else {
        1
    };
    let mut last = None;
    for _ in 0..attempts {
        let output = exec::run(
            &mut command(build, Runtime::Stock, binary, args),
            RUN_TIMEOUT,
        )
        .expect("run stock");
        let seen = observe(&output);
        if seen.problem.is_none() && seen.verdict == expect {
            return None;
        }
        last = Some(format!(
            "stock TSan said {:?} where the scenario expects {:?} and says stock models it{}",
            seen.verdict,
            expect,
            seen.problem.map(|p| format!(" ({p})")).unwrap_or_default()
        ));
    }
    last
}

fn finish(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} failed runs; the first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}

#[test]
fn rust_hb_matrix() {
    let umbra = rust_binaries(Runtime::Umbra)
        .unwrap_or_else(|e| panic!("{e}"))
        .join("hb_matrix");
    let stock = rust_binaries(Runtime::Stock)
        .unwrap_or_else(|e| panic!("{e}"))
        .join("hb_matrix");
    finish(run_matrix(Build::Rust, &umbra, Some(&stock)));
}

#[test]
fn c_hb_matrix_gcc() {
    let binary = compile_c(false).unwrap_or_else(|e| panic!("{e}"));
    finish(run_matrix(Build::Gcc, &binary, Some(&binary)));
}

#[test]
fn c_hb_matrix_clang() {
    if clang_runtime_dir().is_none() {
        println!("clang-16 with libclang-rt-16-dev is not installed: the clang build of the matrix is not run");
        return;
    }
    let binary = compile_c(true).unwrap_or_else(|e| panic!("{e}"));
    finish(run_matrix(Build::Clang, &binary, None));
}
