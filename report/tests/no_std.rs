//! The crate must build without std: it is linked under the program's libc.
//!
//! `normal_dependencies_enable_no_std_feature` is quick and always runs: it asks
//! `cargo tree` which features the normal (non-dev) dependency graph enables and
//! fails if any crate has its `std` feature on. Proc-macro crates (prost's derive)
//! and their dependencies run in the compiler, not in the runtime, and are left out. `builds_for_a_target_without_std`
//! is the definitive check, building the crate and all its dependencies for
//! `x86_64-unknown-none` (which has no std at all) with `-Zbuild-std=core,alloc`;
//! it takes about 30 s, so it is `#[ignore]`d: run it with
//! `cargo +nightly test -p umbra-report --test no_std -- --ignored`.

use std::process::Command;

fn cargo() -> Command {
    let mut c = Command::new(env!("CARGO"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

#[test]
fn normal_dependencies_enable_no_std_feature() {
    let out = cargo()
        .args([
            "tree",
            "-p",
            "umbra-report",
            "-e",
            "normal,features,no-proc-macro",
            "--prefix",
            "none",
            "--offline",
        ])
        .output()
        .expect("cargo tree");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("gimli v"),
        "unexpected cargo tree output: {text}"
    );
    let with_std: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("feature \"std\""))
        .collect();
    assert!(
        with_std.is_empty(),
        "dependencies build with std: {with_std:?}\n{text}"
    );
}

#[test]
#[ignore = "slow: builds core/alloc from source (~30 s)"]
fn builds_for_a_target_without_std() {
    let target_dir = std::env::temp_dir().join("umbra-report-nostd-check");
    let out = cargo()
        .args([
            "build",
            "-p",
            "umbra-report",
            "--target",
            "x86_64-unknown-none",
            "-Zbuild-std=core,alloc",
            "--target-dir",
        ])
        .arg(&target_dir)
        .output()
        .expect("cargo build");
    assert!(
        out.status.success(),
        "no_std build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
