//! Relinks the umbra build whenever the runtime archive it links
//! (`-Clink-arg=$UMBRA_RT_ARCHIVE`, set by `umbra bench`) changes: cargo cannot see a
//! change to a file named only in RUSTFLAGS.

fn main() {
    println!("cargo::rerun-if-env-changed=UMBRA_RT_ARCHIVE");
    if let Some(archive) = std::env::var_os("UMBRA_RT_ARCHIVE") {
        println!("cargo::rerun-if-changed={}", archive.to_string_lossy());
    }
}
