//! The rust-src check of `umbra demo`, `cargo umbra` and the test harness
//! (src/rust_src.rs), against a fake `rustc` (printing a fake sysroot) and a fake
//! `rustup` (recording its arguments), so the real toolchain is never touched.

#[allow(dead_code)] // ensure() and nightly_toolchain() use the real rustc and rustup
#[path = "../src/rust_src.rs"]
mod rust_src;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rust_src::{ensure_with, nightly_toolchain_from, Outcome, Tools, SENTINEL};

/// A scratch directory with `sysroot/`, a fake `rustc` printing it, and the files the
/// fakes write: `rustc-toolchain` (the RUSTUP_TOOLCHAIN rustc saw) and `rustup-args`.
struct Fake {
    dir: PathBuf,
}

impl Fake {
    fn new(name: &str) -> Fake {
        let dir =
            std::env::temp_dir().join(format!("umbra-rust-src-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("sysroot")).unwrap();
        let fake = Fake { dir };
        let d = fake.dir.display();
        fake.script(
            "rustc",
            &format!("echo \"$RUSTUP_TOOLCHAIN\" > {d}/rustc-toolchain\necho {d}/sysroot"),
        );
        fake
    }

    fn script(&self, name: &str, body: &str) -> PathBuf {
        let path = self.dir.join(name);
        fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// A fake rustup that records its arguments, then runs `then`.
    fn rustup(&self, then: &str) -> PathBuf {
        self.script(
            "rustup",
            &format!("echo \"$@\" >> {}/rustup-args\n{then}", self.dir.display()),
        )
    }

    /// A rustup that installs rust-src into the fake sysroot.
    fn installing_rustup(&self) -> PathBuf {
        let lock = self.sentinel();
        self.rustup(&format!(
            "mkdir -p {}\ntouch {}",
            lock.parent().unwrap().display(),
            lock.display()
        ))
    }

    fn sentinel(&self) -> PathBuf {
        self.dir.join("sysroot").join(SENTINEL)
    }

    fn tools(&self, rustup: &Path) -> Tools {
        Tools {
            rustc: self.dir.join("rustc").into(),
            rustup: rustup.into(),
        }
    }

    fn rustup_args(&self) -> Option<String> {
        fs::read_to_string(self.dir.join("rustup-args")).ok()
    }

    /// Runs the check; returns its result and the lines it announced.
    fn ensure(&self, rustup: &Path, toolchain: &str) -> (Result<Outcome, String>, Vec<String>) {
        let mut said = Vec::new();
        let r = ensure_with(&self.tools(rustup), toolchain, &mut |l| {
            said.push(l.to_owned())
        });
        (r, said)
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn present_rust_src_runs_no_rustup() {
    let fake = Fake::new("present");
    fs::create_dir_all(fake.sentinel().parent().unwrap()).unwrap();
    fs::write(fake.sentinel(), "").unwrap();
    let rustup = fake.installing_rustup();
    let (r, said) = fake.ensure(&rustup, "nightly");
    assert_eq!(r, Ok(Outcome::Present));
    assert!(said.is_empty(), "{said:?}");
    assert_eq!(fake.rustup_args(), None, "rustup must not run");
    // The toolchain is passed to rustc as rustup proxies read it.
    assert_eq!(
        fs::read_to_string(fake.dir.join("rustc-toolchain"))
            .unwrap()
            .trim(),
        "nightly"
    );
}

#[test]
fn missing_rust_src_is_installed_with_one_line() {
    let fake = Fake::new("install");
    let rustup = fake.installing_rustup();
    let (r, said) = fake.ensure(&rustup, "nightly");
    assert_eq!(r, Ok(Outcome::Installed));
    assert_eq!(
        said,
        ["umbra: installing rust-src for the nightly toolchain (needed for -Zbuild-std)"]
    );
    assert_eq!(
        fake.rustup_args().as_deref(),
        Some("component add rust-src --toolchain nightly\n")
    );
    assert!(fake.sentinel().is_file());
}

#[test]
fn the_named_toolchain_gets_the_component() {
    let fake = Fake::new("named");
    let rustup = fake.installing_rustup();
    let (r, said) = fake.ensure(&rustup, "nightly-2026-05-01");
    assert_eq!(r, Ok(Outcome::Installed));
    assert!(
        said[0].contains("for the nightly-2026-05-01 toolchain"),
        "{said:?}"
    );
    assert_eq!(
        fake.rustup_args().as_deref(),
        Some("component add rust-src --toolchain nightly-2026-05-01\n")
    );
    assert_eq!(
        fs::read_to_string(fake.dir.join("rustc-toolchain"))
            .unwrap()
            .trim(),
        "nightly-2026-05-01"
    );
}

#[test]
fn failing_rustup_names_the_command() {
    let fake = Fake::new("fail");
    let rustup = fake.rustup(
        "echo 'info: downloading component' >&2\necho 'error: could not download file' >&2\nexit 1",
    );
    let (r, said) = fake.ensure(&rustup, "nightly");
    let e = r.unwrap_err();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(e.contains("error: could not download file"), "{e}");
    assert!(
        e.ends_with("; run: rustup component add rust-src --toolchain nightly"),
        "{e}"
    );
    assert!(!e.contains('\n'), "one line: {e}");
}

#[test]
fn rustup_that_installs_nothing_is_an_error() {
    let fake = Fake::new("nothing");
    let rustup = fake.rustup("exit 0");
    let e = fake.ensure(&rustup, "nightly").0.unwrap_err();
    assert!(e.contains("rustup did not create"), "{e}");
    assert!(
        e.ends_with("; run: rustup component add rust-src --toolchain nightly"),
        "{e}"
    );
}

#[test]
fn missing_rustup_names_the_command() {
    let fake = Fake::new("norustup");
    let e = fake
        .ensure(&fake.dir.join("no-such-rustup"), "nightly")
        .0
        .unwrap_err();
    assert!(e.contains("rustup is not installed"), "{e}");
    assert!(
        e.ends_with("run: rustup component add rust-src --toolchain nightly"),
        "{e}"
    );
    assert!(!e.contains('\n'), "one line: {e}");
}

#[test]
fn uninstalled_toolchain_names_the_install_command() {
    let fake = Fake::new("notoolchain");
    fake.script(
        "rustc",
        "echo \"error: toolchain 'nightly' is not installed\" >&2\nexit 1",
    );
    let rustup = fake.installing_rustup();
    let e = fake.ensure(&rustup, "nightly").0.unwrap_err();
    assert!(e.contains("toolchain 'nightly' is not installed"), "{e}");
    assert!(
        e.ends_with("run: rustup toolchain install nightly --component rust-src"),
        "{e}"
    );
    assert_eq!(fake.rustup_args(), None, "rustup must not run");
}

#[test]
fn toolchain_from_rustup_toolchain() {
    let tc = |v: Option<&str>| nightly_toolchain_from(v.map(str::to_owned));
    assert_eq!(tc(None), "nightly");
    assert_eq!(tc(Some("stable")), "nightly");
    assert_eq!(tc(Some("1.95.0-x86_64-unknown-linux-gnu")), "nightly");
    // What rustup exports under rust-toolchain.toml's `channel = "nightly"`.
    assert_eq!(tc(Some("nightly-x86_64-unknown-linux-gnu")), "nightly");
    assert_eq!(tc(Some("nightly-2026-05-01")), "nightly-2026-05-01");
    assert_eq!(
        tc(Some("nightly-2026-05-01-aarch64-unknown-linux-gnu")),
        "nightly-2026-05-01"
    );
}
