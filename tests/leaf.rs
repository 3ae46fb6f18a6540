//! The access fast path and function entry/exit of libumbra.so are leaf code: no
//! push, pop or call on their own instructions (README, "Fast path"). Builds the
//! runtime like the corpus test does, then disassembles it (src/bench/leaf.rs).

#[path = "../src/bench/leaf.rs"]
mod leaf;

use std::path::Path;
use std::process::Command;

#[test]
fn fast_path_entry_points_are_leaf_code() {
    let out = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("umbra-test-rt");
    let status = Command::new(env!("CARGO_BIN_EXE_umbra"))
        .arg("build")
        .arg("--out")
        .arg(&out)
        .env_remove("LD_PRELOAD")
        .env_remove("TSAN_OPTIONS")
        .status()
        .expect("cannot run `umbra build`");
    assert!(
        status.success(),
        "`umbra build --out {}` failed: {status}",
        out.display()
    );
    let found = leaf::check_leaf_entry_points(&out.join("libumbra.so")).expect("disassembly check");
    assert!(
        found.is_empty(),
        "push/pop/call on the straight-line code of the fast-path entry points:\n  {}",
        found.join("\n  ")
    );
}
