//! `umbra bench`: umbra side by side with the stock TSan runtimes.
//!
//! - Workloads (`benches/workloads/c/*.c`, `benches/workloads/rust/src/bin/*.rs`)
//!   run uninstrumented (the floor), on the stock runtime and on umbra, alternating
//!   plain, stock, umbra, plain, ... `--runs` times; the table gives median wall
//!   time, peak RSS and their ratios, and checks that stock and umbra reach the
//!   same verdict (a race in `racy`, none elsewhere).
//!   C: one `gcc -fsanitize=thread -O2` binary, run as is (gcc's libtsan.so.2) or
//!   with `LD_PRELOAD=libumbra.so`. Rust: the same instrumented code linked twice,
//!   against rustc's bundled compiler-rt runtime or against `libumbra.a`.
//! - `--micro`: criterion microbenchmarks of the entry points (`benches/micro`),
//!   linked against libumbra.a and against compiler-rt's TSan archive.
//! - `--leaf`: the disassembly check of the fast-path entry points.

mod leaf;

pub use leaf::check_leaf_entry_points;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::build::{build_runtime, run_checked};
use crate::cargo_env::scrub_cargo_env;

const RUST_TARGET: &str = "x86_64-unknown-linux-gnu";

pub struct Options {
    pub runs: usize,
    pub filter: Option<String>,
    pub out: PathBuf,
    pub rt: PathBuf,
    pub no_build: bool,
    pub timeout: Duration,
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bench_dir() -> PathBuf {
    workspace().join("target").join("bench")
}

fn abs(p: &Path) -> Result<PathBuf, String> {
    fs::canonicalize(p).map_err(|e| format!("{}: {e}", p.display()))
}

/// Builds the runtime into `opts.rt` (or checks it is there with `--no-build`);
/// returns the absolute paths of libumbra.a and libumbra.so.
fn runtime(opts: &Options) -> Result<(PathBuf, PathBuf), String> {
    if !opts.no_build {
        eprintln!(
            "umbra bench: building the runtime into {}",
            opts.rt.display()
        );
        build_runtime(&opts.rt)?;
    }
    Ok((
        abs(&opts.rt.join("libumbra.a"))?,
        abs(&opts.rt.join("libumbra.so"))?,
    ))
}

// ---------------------------------------------------------------------------
// Building the workloads
// ---------------------------------------------------------------------------

/// gcc at -O2, instrumented for TSan or not. (`demo::compile_c` is fixed at
/// -O1 with instrumentation; the benchmarks need both builds at -O2.)
fn compile_c_with(src: &Path, out: &Path, tsan: bool) -> Result<(), String> {
    let mut c = Command::new("gcc");
    if tsan {
        c.arg("-fsanitize=thread");
    }
    c.args(["-g", "-O2", "-pthread"])
        .arg(src)
        .arg("-o")
        .arg(out);
    run_checked(&mut c).map(|_| ())
}

/// `cargo +nightly build --release` of the package at `dir` into `target_dir`
/// with `flags` as its RUSTFLAGS, with `-Zbuild-std --target` when `build_std`.
/// Returns the directory holding the binaries. (A generalization of
/// `demo::build_rust_package`, which builds debug and always for umbra.)
pub fn cargo_build(
    dir: &Path,
    target_dir: &Path,
    flags: &[String],
    build_std: bool,
    env: &[(&str, &Path)],
) -> Result<PathBuf, String> {
    let mut c = Command::new("cargo");
    scrub_cargo_env(&mut c);
    c.current_dir(dir)
        .args(["+nightly", "build", "--release", "--quiet"]);
    if build_std {
        c.args(["-Zbuild-std", "--target", RUST_TARGET]);
    }
    c.arg("--target-dir")
        .arg(target_dir)
        .env("CARGO_ENCODED_RUSTFLAGS", flags.join("\x1f"));
    for (k, v) in env {
        c.env(k, v);
    }
    run_checked(&mut c)?;
    Ok(if build_std {
        target_dir.join(RUST_TARGET).join("release")
    } else {
        target_dir.join("release")
    })
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Lang {
    C,
    Rust,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Rt {
    Plain,
    Stock,
    Umbra,
}

const RTS: [Rt; 3] = [Rt::Plain, Rt::Stock, Rt::Umbra];

impl Rt {
    fn name(self) -> &'static str {
        match self {
            Rt::Plain => "plain",
            Rt::Stock => "stock",
            Rt::Umbra => "umbra",
        }
    }
}

struct Workload {
    lang: Lang,
    name: String,
    expect_race: bool,
    /// Binary and whether to preload libumbra.so, per runtime (indexed like RTS).
    bins: [(PathBuf, bool); 3],
}

impl Workload {
    fn label(&self) -> String {
        format!(
            "{}/{}",
            if self.lang == Lang::C { "c" } else { "rust" },
            self.name
        )
    }
}

/// The order of the table; workloads not named here follow, by name.
const ORDER: [&str; 13] = [
    "sweep1",
    "sweep2",
    "readshared",
    "mutex",
    "atomic_relaxed",
    "msgpass",
    "arc",
    "channel",
    "spawn",
    "malloc",
    "memcpy",
    "calls",
    "racy",
];

fn rank(name: &str) -> usize {
    ORDER.iter().position(|n| *n == name).unwrap_or(ORDER.len())
}

fn names_in(dir: &Path, ext: &str) -> Result<Vec<String>, String> {
    let mut v = Vec::new();
    for e in fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let p = e.map_err(|e| e.to_string())?.path();
        if p.extension().and_then(|x| x.to_str()) == Some(ext) {
            v.push(p.file_stem().unwrap().to_string_lossy().into_owned());
        }
    }
    v.sort();
    Ok(v)
}

fn matches(filter: &Option<String>, label: &str) -> bool {
    filter.as_deref().is_none_or(|f| label.contains(f))
}

/// Compiles and builds every workload the filter selects.
fn build_workloads(opts: &Options, lib_a: &Path) -> Result<Vec<Workload>, String> {
    let src = workspace().join("benches").join("workloads");
    let out = bench_dir();
    let mut list = Vec::new();

    let cdir = out.join("c");
    fs::create_dir_all(&cdir).map_err(|e| e.to_string())?;
    let c_names: Vec<String> = names_in(&src.join("c"), "c")?
        .into_iter()
        .filter(|n| matches(&opts.filter, &format!("c/{n}")))
        .collect();
    if !c_names.is_empty() {
        eprintln!("umbra bench: gcc -O2 the C workloads, with and without -fsanitize=thread");
    }
    for n in c_names {
        let s = src.join("c").join(format!("{n}.c"));
        let (plain, tsan) = (
            cdir.join(format!("{n}-plain")),
            cdir.join(format!("{n}-tsan")),
        );
        compile_c_with(&s, &plain, false)?;
        compile_c_with(&s, &tsan, true)?;
        list.push(Workload {
            lang: Lang::C,
            expect_race: n.starts_with("racy"),
            bins: [(plain, false), (tsan.clone(), false), (tsan, true)],
            name: n,
        });
    }

    let rdir = src.join("rust");
    let r_names: Vec<String> = names_in(&rdir.join("src").join("bin"), "rs")?
        .into_iter()
        .filter(|n| matches(&opts.filter, &format!("rust/{n}")))
        .collect();
    if !r_names.is_empty() {
        eprintln!("umbra bench: cargo build the Rust workloads: plain, stock TSan, umbra (-Zbuild-std: the first build takes minutes)");
        let plain = cargo_build(&rdir, &out.join("rust-plain"), &[], false, &[])?;
        let tsan = ["-Zsanitizer=thread".to_string()];
        let stock = cargo_build(&rdir, &out.join("rust-stock"), &tsan, true, &[])?;
        let umbra_flags = [
            tsan[0].clone(),
            "-Zexternal-clangrt".into(),
            format!("-Clink-arg={}", lib_a.display()),
        ];
        let umbra = cargo_build(
            &rdir,
            &out.join("rust-umbra"),
            &umbra_flags,
            true,
            &[("UMBRA_RT_ARCHIVE", lib_a)],
        )?;
        for n in r_names {
            list.push(Workload {
                lang: Lang::Rust,
                expect_race: n.starts_with("racy"),
                bins: [
                    (plain.join(&n), false),
                    (stock.join(&n), false),
                    (umbra.join(&n), false),
                ],
                name: n,
            });
        }
    }
    list.sort_by(|a, b| (rank(&a.name), &a.name, a.lang).cmp(&(rank(&b.name), &b.name, b.lang)));
    Ok(list)
}

// ---------------------------------------------------------------------------
// Running one child: wall time, CPU time and peak RSS from wait4
// ---------------------------------------------------------------------------

#[repr(C)]
#[derive(Default)]
struct Timeval {
    sec: i64,
    usec: i64,
}

/// `struct rusage` on x86_64 Linux: two timevals, then 14 longs (ru_maxrss first).
#[repr(C)]
#[derive(Default)]
struct Rusage {
    utime: Timeval,
    stime: Timeval,
    maxrss_kb: i64,
    rest: [i64; 13],
}

extern "C" {
    // libc, declared here rather than pulling in the libc crate for four calls.
    fn malloc_trim(pad: usize) -> i32;
    fn wait4(pid: i32, status: *mut i32, options: i32, rusage: *mut Rusage) -> i32;
    fn waitid(idtype: u32, id: u32, infop: *mut [u64; 16], options: i32) -> i32;
    fn kill(pid: i32, sig: i32) -> i32;
}
const P_PID: u32 = 1;
const WEXITED: i32 = 4;
const WNOWAIT: i32 = 0x0100_0000;
const SIGKILL: i32 = 9;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Status {
    Exited(i32),
    Signalled(i32),
    TimedOut,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Status::Exited(c) => write!(f, "exit {c}"),
            Status::Signalled(s) => write!(f, "signal {s}"),
            Status::TimedOut => f.write_str("timeout"),
        }
    }
}

struct Sample {
    wall: f64,
    cpu: f64,
    rss_kb: u64,
    status: Status,
    reports: usize,
    stdout: String,
    stderr_path: PathBuf,
}

impl Sample {
    fn race(&self) -> bool {
        self.reports > 0 || self.status == Status::Exited(66)
    }
    fn ok(&self) -> bool {
        matches!(self.status, Status::Exited(0) | Status::Exited(66))
    }
}

/// Runs `bin` (stdin closed, stdout and stderr to files under `logs`), killing it
/// after `timeout`; measures it with wait4.
fn run_one(
    bin: &Path,
    preload: Option<&Path>,
    logs: &Path,
    tag: &str,
    timeout: Duration,
) -> Result<Sample, String> {
    let out_path = logs.join(format!("{tag}.out"));
    let err_path = logs.join(format!("{tag}.err"));
    let stdout = fs::File::create(&out_path).map_err(|e| e.to_string())?;
    let stderr = fs::File::create(&err_path).map_err(|e| e.to_string())?;
    let mut c = Command::new(bin);
    c.stdin(Stdio::null()).stdout(stdout).stderr(stderr);
    // A pre_exec hook makes std fork instead of vfork/posix_spawn. That matters
    // for ru_maxrss: exec folds the old address space's peak RSS into the child's,
    // which after vfork is this process's peak (tens of MiB after building the
    // runtime); after fork it is only what this process has resident now.
    // SAFETY: the hook does nothing (so it is async-signal-safe).
    unsafe { std::os::unix::process::CommandExt::pre_exec(&mut c, || Ok(())) };
    c.env_remove("LD_PRELOAD")
        .env_remove("UMBRA_OPTIONS")
        .env("TSAN_OPTIONS", "atexit_sleep_ms=0");
    if let Some(so) = preload {
        c.env("LD_PRELOAD", so);
    }
    let start = Instant::now();
    let child = c
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let pid = child.id() as i32;
    let (tx, rx) = mpsc::channel::<()>();
    let dog = std::thread::spawn(move || {
        if rx.recv_timeout(timeout) == Err(mpsc::RecvTimeoutError::Timeout) {
            // SAFETY: the child is not reaped yet (waitid below leaves it a zombie
            // until the watchdog is joined), so `pid` is still ours.
            unsafe { kill(pid, SIGKILL) };
            true
        } else {
            false
        }
    });
    let mut info = [0u64; 16];
    let r = loop {
        // SAFETY: waits for our own child without reaping it.
        let r = unsafe { waitid(P_PID, pid as u32, &mut info, WEXITED | WNOWAIT) };
        if r == 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            break r;
        }
    };
    let wall = start.elapsed().as_secs_f64();
    let _ = tx.send(());
    let timed_out = dog.join().unwrap_or(false);
    let mut status = 0i32;
    let mut ru = Rusage::default();
    // SAFETY: reaps our child (already exited: no EINTR), filling `status` and `ru`.
    let r2 = unsafe { wait4(pid, &mut status, 0, &mut ru) };
    drop(child); // never waited on through std: already reaped
    if r != 0 || r2 != pid {
        return Err(format!("waiting for {} failed", bin.display()));
    }
    let status = if timed_out {
        Status::TimedOut
    } else if status & 0x7f == 0 {
        Status::Exited((status >> 8) & 0xff)
    } else {
        Status::Signalled(status & 0x7f)
    };
    let err = fs::read_to_string(&err_path).unwrap_or_default();
    let out = fs::read_to_string(&out_path).unwrap_or_default();
    Ok(Sample {
        wall,
        cpu: (ru.utime.sec + ru.stime.sec) as f64 + (ru.utime.usec + ru.stime.usec) as f64 * 1e-6,
        rss_kb: ru.maxrss_kb.max(0) as u64,
        status,
        reports: err.matches("WARNING: ThreadSanitizer:").count(),
        stdout: out.lines().next().unwrap_or("").to_string(),
        stderr_path: err_path,
    })
}

// ---------------------------------------------------------------------------
// Statistics and the table
// ---------------------------------------------------------------------------

/// This process's resident set (VmRSS), MiB.
fn resident_mib() -> f64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|t| {
            let l = t.lines().find(|l| l.starts_with("VmRSS:"))?;
            l.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn geomean(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    Some((v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp())
}

struct Row {
    label: String,
    lang: Lang,
    /// Median wall, CPU seconds and peak RSS (KiB) per runtime, over good runs.
    wall: [Option<f64>; 3],
    cpu: [Option<f64>; 3],
    rss: [Option<f64>; 3],
    check: String,
    agree: bool,
    samples: [Vec<f64>; 3],
}

impl Row {
    fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
        match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => Some(a / b),
            _ => None,
        }
    }
    fn umbra_stock(&self) -> Option<f64> {
        Self::ratio(self.wall[2], self.wall[1])
    }
    fn stock_plain(&self) -> Option<f64> {
        Self::ratio(self.wall[1], self.wall[0])
    }
    fn umbra_plain(&self) -> Option<f64> {
        Self::ratio(self.wall[2], self.wall[0])
    }
    fn cpu_umbra_stock(&self) -> Option<f64> {
        Self::ratio(self.cpu[2], self.cpu[1])
    }
    fn rss_ratio(&self) -> Option<f64> {
        Self::ratio(self.rss[2], self.rss[1])
    }
}

/// The verdict check: stock and umbra agree, each is consistent over its runs,
/// matches the expected verdict, every run exited cleanly, and the programs
/// printed the same checksum on all three runtimes.
fn check(w: &Workload, samples: &[Vec<Sample>; 3]) -> (String, bool) {
    let mut problems = Vec::new();
    for (i, rt) in RTS.iter().enumerate() {
        for s in &samples[i] {
            let bad = match rt {
                Rt::Plain => s.status != Status::Exited(0),
                _ => !s.ok(),
            };
            if bad {
                problems.push(format!(
                    "{}: {} ({})",
                    rt.name(),
                    s.status,
                    s.stderr_path.display()
                ));
                break;
            }
        }
    }
    let mut verdict = |i: usize| -> Option<bool> {
        let v: Vec<bool> = samples[i]
            .iter()
            .filter(|s| s.ok())
            .map(Sample::race)
            .collect();
        if v.is_empty() {
            return None;
        }
        let races = v.iter().filter(|r| **r).count();
        if races != 0 && races != v.len() {
            problems.push(format!(
                "{}: race in {races} of {} runs",
                RTS[i].name(),
                v.len()
            ));
        }
        Some(races * 2 > v.len())
    };
    let (vs, vu) = (verdict(1), verdict(2));
    let mut agree = true;
    if let (Some(s), Some(u)) = (vs, vu) {
        let word = |r: bool| if r { "race" } else { "no race" };
        if s != u {
            agree = false;
            problems.push(format!("DISAGREE: stock {}, umbra {}", word(s), word(u)));
        } else if s != w.expect_race {
            problems.push(format!(
                "both: {} (expected {})",
                word(s),
                word(w.expect_race)
            ));
        }
    }
    if !w.expect_race {
        let reference = samples[0].iter().find(|s| s.ok()).map(|s| s.stdout.clone());
        if let Some(reference) = reference {
            for i in 1..3 {
                if samples[i].iter().any(|s| s.ok() && s.stdout != reference) {
                    problems.push(format!("{}: output differs from plain", RTS[i].name()));
                }
            }
        }
    }
    if !problems.is_empty() {
        return (problems.join("; "), agree && vs.is_some() && vu.is_some());
    }
    let reports =
        |i: usize| median(samples[i].iter().map(|s| s.reports as f64).collect()).unwrap_or(0.0);
    let text = if vs == Some(true) {
        format!(
            "ok: race (reports stock {} / umbra {})",
            reports(1),
            reports(2)
        )
    } else {
        "ok: no race".to_string()
    };
    (text, true)
}

fn secs(v: Option<f64>) -> String {
    v.map_or("-".into(), |s| {
        if s < 10.0 {
            format!("{s:.3}")
        } else {
            format!("{s:.1}")
        }
    })
}

fn times(v: Option<f64>) -> String {
    v.map_or("-".into(), |r| {
        if r < 100.0 {
            format!("{r:.2}x")
        } else {
            format!("{r:.0}x")
        }
    })
}

fn mib(v: Option<f64>) -> String {
    v.map_or("-".into(), |kb| format!("{:.0}", kb / 1024.0))
}

const HEADER: [&str; 13] = [
    "workload",
    "plain s",
    "stock s",
    "umbra s",
    "umbra/stock",
    "stock/plain",
    "umbra/plain",
    "cpu u/s",
    "RSS plain MiB",
    "RSS stock MiB",
    "RSS umbra MiB",
    "RSS u/s",
    "verdict check",
];

fn cells(r: &Row) -> Vec<String> {
    vec![
        r.label.clone(),
        secs(r.wall[0]),
        secs(r.wall[1]),
        secs(r.wall[2]),
        times(r.umbra_stock()),
        times(r.stock_plain()),
        times(r.umbra_plain()),
        times(r.cpu_umbra_stock()),
        mib(r.rss[0]),
        mib(r.rss[1]),
        mib(r.rss[2]),
        times(r.rss_ratio()),
        r.check.clone(),
    ]
}

fn geomean_cells(label: &str, rows: &[&Row]) -> Vec<String> {
    let g = |f: &dyn Fn(&Row) -> Option<f64>| {
        geomean(&rows.iter().filter_map(|r| f(r)).collect::<Vec<_>>())
    };
    let mut v = vec![
        label.to_string(),
        String::new(),
        String::new(),
        String::new(),
    ];
    v.push(times(g(&Row::umbra_stock)));
    v.push(times(g(&Row::stock_plain)));
    v.push(times(g(&Row::umbra_plain)));
    v.push(times(g(&Row::cpu_umbra_stock)));
    v.extend([String::new(), String::new(), String::new()]);
    v.push(times(g(&Row::rss_ratio)));
    v.push(format!("{} workloads", rows.len()));
    v
}

fn table_rows(rows: &[Row]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = rows.iter().map(cells).collect();
    let good: Vec<&Row> = rows
        .iter()
        .filter(|r| r.agree && r.wall.iter().all(Option::is_some))
        .collect();
    let c: Vec<&Row> = good.iter().copied().filter(|r| r.lang == Lang::C).collect();
    let rust: Vec<&Row> = good
        .iter()
        .copied()
        .filter(|r| r.lang == Lang::Rust)
        .collect();
    if !c.is_empty() && !rust.is_empty() {
        out.push(geomean_cells("geomean C", &c));
        out.push(geomean_cells("geomean Rust", &rust));
    }
    out.push(geomean_cells("geomean all", &good));
    out
}

fn text_table(rows: &[Vec<String>]) -> String {
    let header: Vec<String> = HEADER.iter().map(|s| s.to_string()).collect();
    let mut w: Vec<usize> = header.iter().map(String::len).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.len());
        }
    }
    let mut s = String::new();
    for r in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            if i == 0 || i == r.len() - 1 {
                let _ = write!(line, "{c:<w$}  ", w = w[i]);
            } else {
                let _ = write!(line, "{c:>w$}  ", w = w[i]);
            }
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

fn md_table(rows: &[Vec<String>]) -> String {
    let mut s = format!("| {} |\n", HEADER.join(" | "));
    s.push_str(&format!(
        "|{}\n",
        HEADER
            .iter()
            .enumerate()
            .map(|(i, _)| if i == 0 || i == HEADER.len() - 1 {
                "---|"
            } else {
                "---:|"
            })
            .collect::<String>()
    ));
    for r in rows {
        s.push_str(&format!("| {} |\n", r.join(" | ")));
    }
    s
}

fn machine() -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let n = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let ver = |cmd: &mut Command| {
        run_checked(cmd)
            .ok()
            .and_then(|s| s.lines().next().map(str::to_string))
            .unwrap_or_default()
    };
    let gcc = ver(Command::new("gcc").arg("--version"));
    let rustc = ver(Command::new("rustc").args(["+nightly", "--version"]));
    let commit = ver(Command::new("git").args(["-C"]).arg(workspace()).args([
        "rev-parse",
        "--short",
        "HEAD",
    ]));
    // Whether the runtime's sources differ from that commit (read-only git query).
    let dirty = !Command::new("git")
        .arg("-C")
        .arg(workspace())
        .args([
            "diff", "--quiet", "HEAD", "--", "sys", "shadow", "clocks", "report", "ffi",
        ])
        .status()
        .is_ok_and(|s| s.success());
    let dirty = if dirty {
        " with uncommitted runtime changes"
    } else {
        ""
    };
    format!("{cpu}, {n} cores; {gcc}; {rustc}; umbra runtime built from {commit}{dirty}")
}

pub fn bench(opts: &Options) -> Result<bool, String> {
    let (lib_a, so) = runtime(opts)?;
    let header = machine(); // now: the commit the runtime was just built from
    let workloads = build_workloads(opts, &lib_a)?;
    if workloads.is_empty() {
        return Err(format!(
            "no workload matches {:?}",
            opts.filter.as_deref().unwrap_or("")
        ));
    }
    let logs = bench_dir().join("runs");
    fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
    // What every child's ru_maxrss starts from (see run_one): keep it small.
    // SAFETY: glibc's malloc_trim, returning free heap memory to the kernel.
    unsafe { malloc_trim(0) };
    let floor = resident_mib();
    let mut rows = Vec::new();
    for w in &workloads {
        eprint!("umbra bench: {:<22}", w.label());
        let mut samples: [Vec<Sample>; 3] = Default::default();
        let mut given_up = [false; 3];
        for run in 0..opts.runs {
            for (i, rt) in RTS.iter().enumerate() {
                if given_up[i] {
                    continue;
                }
                let (bin, preload) = &w.bins[i];
                let tag = format!("{}-{}-{run}", w.label().replace('/', "-"), rt.name());
                let s = run_one(
                    bin,
                    preload.then_some(so.as_path()),
                    &logs,
                    &tag,
                    opts.timeout,
                )?;
                // A runtime that timed out or crashed once is not run again on this
                // workload: its later runs would only cost time.
                given_up[i] = !s.ok() || (*rt == Rt::Plain && s.status != Status::Exited(0));
                samples[i].push(s);
            }
            eprint!(".");
        }
        let good = |i: usize| samples[i].iter().filter(|s| s.ok()).collect::<Vec<_>>();
        let med =
            |i: usize, f: &dyn Fn(&Sample) -> f64| median(good(i).iter().map(|s| f(s)).collect());
        let (check, agree) = check(w, &samples);
        let row = Row {
            label: w.label(),
            lang: w.lang,
            wall: [0, 1, 2].map(|i| med(i, &|s| s.wall)),
            cpu: [0, 1, 2].map(|i| med(i, &|s| s.cpu)),
            rss: [0, 1, 2].map(|i| med(i, &|s| s.rss_kb as f64)),
            samples: [0, 1, 2].map(|i| samples[i].iter().map(|s| s.wall).collect()),
            check,
            agree,
        };
        eprintln!(
            " plain {} stock {} umbra {}  umbra/stock {}  {}",
            secs(row.wall[0]),
            secs(row.wall[1]),
            secs(row.wall[2]),
            times(row.umbra_stock()),
            row.check
        );
        rows.push(row);
    }

    let table = table_rows(&rows);
    println!();
    print!("{}", text_table(&table));
    let all_agree = rows.iter().all(|r| r.agree);
    if !all_agree {
        println!("\numbra bench: stock and umbra did not reach the same verdict, or a run failed (see the last column)");
    }

    let mut md = String::new();
    let _ = writeln!(md, "# umbra vs stock ThreadSanitizer: workloads\n");
    let _ = writeln!(
        md,
        "{header}; {} runs per runtime, alternating plain, stock, umbra; medians.\n",
        opts.runs
    );
    let _ = writeln!(md, "{}", md_table(&table));
    let _ = writeln!(md, "- **plain**: the same source without instrumentation (C: `gcc -O2`; Rust: `cargo build --release`).");
    let _ = writeln!(md, "- **C**: one `gcc -fsanitize=thread -g -O2` binary; stock = gcc's libtsan.so.2 (`TSAN_OPTIONS=atexit_sleep_ms=0`), umbra = the same binary with `LD_PRELOAD=libumbra.so` (libtsan stays loaded but dormant).");
    let _ = writeln!(md, "- **Rust**: stock and umbra are two links of the same instrumented code (`-Zbuild-std -Zsanitizer=thread`, release, debug=1): the instrumentation is identical, only the runtime differs (rustc's bundled compiler-rt vs `-Zexternal-clangrt` + libumbra.a).");
    let _ = writeln!(md, "- Wall times are medians of the runs; `cpu u/s` is the ratio of median user+system CPU time. Ratios are of medians; geomeans cover the rows whose verdicts agree.");
    let _ = writeln!(md, "- Peak RSS is the child's `ru_maxrss` from `wait4`. The child is forked from the harness, whose resident set at the time ({floor:.1} MiB) is a floor under every RSS figure: compare the plain column.");
    let _ = writeln!(md, "- Verdict: a run reports a race if its stderr has `WARNING: ThreadSanitizer:` or it exits 66; the check requires stock and umbra to agree, expects a race only in `racy`, a clean exit everywhere, and the same checksum on stdout as the plain run. Run logs: `target/bench/runs/`.");
    let _ = writeln!(md, "\n## All wall times (s), in run order\n");
    let _ = writeln!(
        md,
        "| workload | plain | stock | umbra |\n|---|---|---|---|"
    );
    for r in &rows {
        let f = |v: &Vec<f64>| {
            v.iter()
                .map(|x| format!("{x:.3}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            r.label,
            f(&r.samples[0]),
            f(&r.samples[1]),
            f(&r.samples[2])
        );
    }
    if let Some(dir) = opts.out.parent() {
        if !dir.as_os_str().is_empty() {
            fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
    }
    fs::write(&opts.out, md).map_err(|e| format!("{}: {e}", opts.out.display()))?;
    println!("\numbra bench: wrote {}", opts.out.display());
    Ok(all_agree)
}

// ---------------------------------------------------------------------------
// Microbenchmarks
// ---------------------------------------------------------------------------

/// Groups of benches/micro/benches/runtime.rs, run alternately on each runtime.
const MICRO_GROUPS: [&str; 7] = [
    "access", "shared", "func", "atomic64", "sync", "heap", "thread",
];

/// Builds benches/micro against `flags` (its link of a runtime); returns the
/// benchmark executable.
fn build_micro(
    target_dir: &Path,
    flags: &[String],
    env: &[(&str, &Path)],
) -> Result<PathBuf, String> {
    let dir = workspace().join("benches").join("micro");
    let mut c = Command::new("cargo");
    scrub_cargo_env(&mut c);
    c.current_dir(&dir)
        .args([
            "+nightly",
            "bench",
            "--no-run",
            "--quiet",
            "--message-format=json",
            "--target",
            RUST_TARGET,
        ])
        .arg("--target-dir")
        .arg(target_dir)
        .env("CARGO_ENCODED_RUSTFLAGS", flags.join("\x1f"));
    for (k, v) in env {
        c.env(k, v);
    }
    let out = run_checked(&mut c)?;
    // The compiler-artifact message of the `runtime` bench names its executable.
    for line in out.lines() {
        if line.contains("\"reason\":\"compiler-artifact\"")
            && line.contains("\"name\":\"runtime\"")
        {
            if let Some(i) = line.find("\"executable\":\"") {
                let rest = &line[i + 14..];
                if let Some(j) = rest.find('"') {
                    return Ok(PathBuf::from(&rest[..j]));
                }
            }
        }
    }
    Err("cargo bench --no-run named no `runtime` executable".into())
}

/// Criterion's median estimate (ns per iteration) of every benchmark under `home`.
fn criterion_results(home: &Path) -> BTreeMap<String, f64> {
    fn num_after(text: &str, key: &str) -> Option<f64> {
        let i = text.find(key)? + key.len();
        let rest = &text[i..];
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
            .unwrap_or(rest.len());
        rest[..end].parse().ok()
    }
    fn walk(dir: &Path, out: &mut BTreeMap<String, f64>) {
        let Ok(rd) = fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == "new") {
                    let b = fs::read_to_string(p.join("benchmark.json")).unwrap_or_default();
                    let est = fs::read_to_string(p.join("estimates.json")).unwrap_or_default();
                    let id = b
                        .find("\"full_id\":\"")
                        .map(|i| &b[i + 11..])
                        .and_then(|r| r.split('"').next());
                    let median = est
                        .find("\"median\":")
                        .and_then(|i| num_after(&est[i..], "\"point_estimate\":"));
                    if let (Some(id), Some(m)) = (id, median) {
                        out.insert(id.to_string(), m);
                    }
                } else {
                    walk(&p, out);
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(home, &mut out);
    out
}

/// Runs one criterion group of `exe`, echoing its result lines.
fn run_micro_group(
    exe: &Path,
    home: &Path,
    group: &str,
    filter: &Option<String>,
    what: &str,
) -> Result<(), String> {
    let pattern = match filter {
        Some(f) => format!("^{group}/.*(?:{f})"),
        None => format!("^{group}/"),
    };
    let mut c = Command::new(exe);
    c.args(["--bench", &pattern])
        .env("CRITERION_HOME", home)
        .env("TSAN_OPTIONS", "atexit_sleep_ms=0")
        .env_remove("LD_PRELOAD")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    let err = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(err), &mut s);
        s
    });
    // Criterion prints "NAME time: [lo mid hi]", or NAME alone on the line before
    // when it is long.
    let mut prev = String::new();
    for line in BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
    {
        if let Some(i) = line.find("time:") {
            let name = if line[..i].trim().is_empty() {
                prev.trim()
            } else {
                line[..i].trim()
            };
            let est = line[i + 5..]
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            eprintln!("  [{what}] {name}: {est}");
        }
        prev = line;
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    let err = err_reader.join().unwrap_or_default();
    if !status.success() {
        return Err(format!(
            "{what} microbenchmarks ({group}) failed: {status}\n{err}"
        ));
    }
    if err.contains("WARNING: ThreadSanitizer") {
        eprintln!("  [{what}] note: the runtime reported something:\n{err}");
    }
    Ok(())
}

pub fn micro(opts: &Options) -> Result<(), String> {
    let (lib_a, _) = runtime(opts)?;
    let header = machine();
    let dir = bench_dir();
    eprintln!("umbra bench --micro: building benches/micro against libumbra.a (first build: about a minute)");
    let umbra = build_micro(
        &dir.join("micro-umbra"),
        &[format!("-Clink-arg={}", lib_a.display())],
        &[("UMBRA_RT_ARCHIVE", &lib_a)],
    )?;
    // The stock side: rustc's own compiler-rt TSan archive, linked whole as rustc
    // itself links it into -Zsanitizer=thread programs.
    let sysroot = run_checked(Command::new("rustc").args(["+nightly", "--print", "sysroot"]))?;
    let crt = PathBuf::from(sysroot.trim())
        .join("lib/rustlib")
        .join(RUST_TARGET)
        .join("lib/librustc-nightly_rt.tsan.a");
    let stock = if crt.is_file() {
        eprintln!(
            "umbra bench --micro: building benches/micro against {}",
            crt.display()
        );
        let flags = [
            "-Clink-arg=-Wl,--whole-archive".to_string(),
            format!("-Clink-arg={}", crt.display()),
            "-Clink-arg=-Wl,--no-whole-archive".to_string(),
        ];
        match build_micro(&dir.join("micro-stock"), &flags, &[]) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!(
                    "umbra bench --micro: linking against compiler-rt failed, umbra only:\n{e}"
                );
                None
            }
        }
    } else {
        eprintln!("umbra bench --micro: no {} (umbra only)", crt.display());
        None
    };
    let homes = [dir.join("criterion-umbra"), dir.join("criterion-stock")];
    for h in &homes {
        let _ = fs::remove_dir_all(h);
    }
    for g in MICRO_GROUPS {
        run_micro_group(&umbra, &homes[0], g, &opts.filter, "umbra")?;
        if let Some(s) = &stock {
            run_micro_group(s, &homes[1], g, &opts.filter, "stock")?;
        }
    }
    let (u, s) = (criterion_results(&homes[0]), criterion_results(&homes[1]));
    let ops = |ns: f64| {
        let per_s = 1e9 / ns;
        if per_s >= 1e6 {
            format!("{:.1} M", per_s / 1e6)
        } else {
            format!("{:.1} k", per_s / 1e3)
        }
    };
    let ns = |v: f64| {
        if v < 1000.0 {
            format!("{v:.2}")
        } else {
            format!("{v:.0}")
        }
    };
    let mut md = String::from("# umbra vs compiler-rt: entry-point microbenchmarks\n\n");
    let _ = writeln!(md, "{}. criterion medians; one operation per iteration (benches/micro/benches/runtime.rs). The benchmark is not instrumented: it calls the `__tsan_*` entry points directly, linked against libumbra.a or against rustc's compiler-rt TSan archive (whole-archive).\n", header);
    let _ = writeln!(md, "| benchmark | umbra ns/op | umbra ops/s | stock ns/op | stock ops/s | umbra/stock |\n|---|---:|---:|---:|---:|---:|");
    let mut text = format!(
        "{:<48} {:>12} {:>12} {:>12} {:>12} {:>12}\n",
        "benchmark", "umbra ns/op", "umbra ops/s", "stock ns/op", "stock ops/s", "umbra/stock"
    );
    let order: Vec<&String> = {
        let mut v: Vec<&String> = u
            .keys()
            .chain(s.keys().filter(|k| !u.contains_key(*k)))
            .collect();
        v.sort_by_key(|k| {
            (
                MICRO_GROUPS
                    .iter()
                    .position(|g| k.starts_with(&format!("{g}/")))
                    .unwrap_or(99),
                k.to_string(),
            )
        });
        v.dedup();
        v
    };
    for k in order {
        let (a, b) = (u.get(k).copied(), s.get(k).copied());
        let f = |v: Option<f64>, g: &dyn Fn(f64) -> String| v.map_or("-".to_string(), g);
        let ratio = match (a, b) {
            (Some(a), Some(b)) => times(Some(a / b)),
            _ => "-".into(),
        };
        let _ = writeln!(
            text,
            "{:<48} {:>12} {:>12} {:>12} {:>12} {:>12}",
            k,
            f(a, &ns),
            f(a, &ops),
            f(b, &ns),
            f(b, &ops),
            ratio
        );
        let _ = writeln!(
            md,
            "| {k} | {} | {} | {} | {} | {ratio} |",
            f(a, &ns),
            f(a, &ops),
            f(b, &ns),
            f(b, &ops)
        );
    }
    println!();
    print!("{text}");
    let out = if opts.out == Path::new(DEFAULT_OUT) {
        PathBuf::from(DEFAULT_MICRO_OUT)
    } else {
        opts.out.clone()
    };
    if let Some(dir) = out.parent() {
        if !dir.as_os_str().is_empty() {
            fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
    }
    fs::write(&out, md).map_err(|e| format!("{}: {e}", out.display()))?;
    println!("\numbra bench --micro: wrote {}", out.display());
    Ok(())
}

pub const DEFAULT_OUT: &str = "target/bench-results.md";
pub const DEFAULT_MICRO_OUT: &str = "target/bench-micro.md";

/// `umbra bench --leaf`: builds the runtime and prints the check's findings.
pub fn leaf(opts: &Options) -> Result<bool, String> {
    let (_, so) = runtime(opts)?;
    let found = check_leaf_entry_points(&so)?;
    if found.is_empty() {
        println!(
            "umbra bench --leaf: {} entry points are leaf code in {}",
            leaf::LEAF_ENTRY_POINTS.len(),
            so.display()
        );
        return Ok(true);
    }
    println!(
        "umbra bench --leaf: push/pop/call in the fast-path entry points of {}:",
        so.display()
    );
    for f in &found {
        println!("  {f}");
    }
    Ok(false)
}
