//! End-to-end tests of address-space operations: their cost must follow the shadow
//! and sync state that exists in a range, not the range's size, and the shadow of
//! freed or unmapped memory must go back to the OS.
//!
//! Each test compiles a C program from `tests/address_space/` with
//! `gcc -fsanitize=thread -g -O1 -pthread` (into `target/address-space-c/`), runs it
//! with `LD_PRELOAD=target/umbra-test-rt/libumbra.so` and checks the numbers it
//! prints. There is no timing assert: the timeouts only catch the pathological
//! case (a walk over every word of a 64 GiB range took 43-61 s).

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use common::cprog::gcc_binary;
use common::exec::{run, Output, Status};
use common::toolchain::umbra_runtime;

fn compile(name: &str) -> PathBuf {
    gcc_binary("address_space", name)
}

/// Runs `name` under umbra (with `options` in UMBRA_OPTIONS) and returns its output
/// after checking it exited 0 without a report.
fn run_umbra(name: &str, options: &str, timeout: Duration) -> Output {
    let rt = umbra_runtime().unwrap_or_else(|e| panic!("{e}"));
    let binary = compile(name);
    let mut cmd = Command::new(&binary);
    cmd.env("LD_PRELOAD", rt.join("libumbra.so"))
        .env("UMBRA_OPTIONS", options)
        .env_remove("TSAN_OPTIONS");
    let start = Instant::now();
    let out = run(&mut cmd, timeout).unwrap();
    println!("{name}: {:?} wall under umbra", start.elapsed());
    println!(
        "--- stdout ---\n{}--- stderr ---\n{}",
        out.stdout, out.stderr
    );
    assert!(
        out.status != Status::TimedOut,
        "{name} did not finish within {timeout:?}"
    );
    assert_eq!(out.status, Status::Exited(0), "{name} failed");
    assert!(
        !out.stderr.contains("ThreadSanitizer"),
        "{name} reported something"
    );
    out
}

/// The number after `key=` on a line of `text`.
fn value(text: &str, key: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as u64)
        .unwrap_or_else(|| panic!("no `{key}=` in the output"))
}

#[test]
fn huge_reservations_cost_what_they_touch() {
    let out = run_umbra("reserve_64g", "", Duration::from_secs(20));
    let hwm = value(&out.stdout, "VmHWM_kB");
    println!(
        "wall {} ms, peak RSS {} MiB",
        value(&out.stdout, "wall_ms"),
        hwm >> 10
    );
    assert!(
        hwm < 200 << 10,
        "peak RSS {} MiB: shadow was committed for untouched memory",
        hwm >> 10
    );
}

#[test]
fn freed_memory_gives_its_shadow_back() {
    // verbosity=1: the exit statistics say how much shadow went back.
    let out = run_umbra("churn", "verbosity=1", Duration::from_secs(60));
    let rss = value(&out.stdout, "VmRSS_kB");
    let hwm = value(&out.stdout, "VmHWM_kB");
    println!("final RSS {} MiB, peak RSS {} MiB", rss >> 10, hwm >> 10);
    // The unfixed runtime ended at about 300 MiB: freed markers over every byte of
    // every block ever freed.
    assert!(
        rss < 100 << 10,
        "final RSS {} MiB: the shadow of freed blocks was kept",
        rss >> 10
    );
}
