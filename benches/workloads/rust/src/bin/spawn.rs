//! Spawn/join: argv[1] threads, created in batches of 8, each returning a value.
use std::thread;

fn main() {
    let n = umbra_bench_workloads::arg_or(2000);
    let mut s = 0u64;
    let mut i = 0;
    while i < n {
        let k = (n - i).min(8);
        let hs: Vec<_> = (i..i + k).map(|j| thread::spawn(move || j * 2 + 1)).collect();
        s += hs.into_iter().map(|h| h.join().unwrap()).sum::<u64>();
        i += k;
    }
    println!("{s}");
}
