//! Relaxed atomic counter: two threads, argv[1] relaxed fetch_adds each.
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn main() {
    let iters = umbra_bench_workloads::arg_or(5_000_000);
    let hs: Vec<_> = (0..2)
        .map(|_| {
            thread::spawn(move || {
                for _ in 0..iters {
                    COUNTER.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    let n = COUNTER.load(Ordering::Relaxed);
    println!("{n}");
    assert_eq!(n, 2 * iters);
}
