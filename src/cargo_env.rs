//! The environment a nested cargo must not inherit. umbra's commands and tests start
//! cargo (and the programs it builds) from inside a cargo invocation or a user's shell
//! whose exports would change that build: flags, wrappers, target dir, toolchain,
//! jobserver, a preload, TSan options. One list, shared by the CLI, `cargo umbra` and
//! the tests (by `#[path]`).

use std::process::Command;

/// Variables removed besides every `CARGO_*` but `CARGO_HOME`.
const REMOVED: &[&str] = &[
    "CARGO",
    "RUSTC",
    "RUSTDOC",
    "RUSTFLAGS",
    "RUSTDOCFLAGS",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "RUSTUP_TOOLCHAIN",
    "MAKEFLAGS",
    "MFLAGS",
    "LD_PRELOAD",
    "TSAN_OPTIONS",
    "UMBRA_OPTIONS",
];

/// Removes from `cmd`'s environment what the current process inherited that would
/// change a nested build. Settings the caller wants (a toolchain, say) go on after.
pub fn scrub_cargo_env(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        let Some(name) = key.to_str() else { continue };
        if (name.starts_with("CARGO_") && name != "CARGO_HOME") || REMOVED.contains(&name) {
            cmd.env_remove(name);
        }
    }
}
