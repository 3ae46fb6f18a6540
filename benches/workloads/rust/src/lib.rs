//! Helpers shared by the workload binaries: each takes its size from argv[1]
//! (a default sized for ~0.2-1 s under TSan) and prints a checksum to stdout.

pub fn arg_or(default: u64) -> u64 {
    std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(default)
}
