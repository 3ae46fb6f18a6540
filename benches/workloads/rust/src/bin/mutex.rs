//! Mutex-protected counter: two threads, argv[1] lock/increment/unlock each.
use std::sync::{Arc, Mutex};
use std::thread;

fn main() {
    let iters = umbra_bench_workloads::arg_or(1_000_000);
    let m = Arc::new(Mutex::new(0u64));
    let hs: Vec<_> = (0..2)
        .map(|_| {
            let m = Arc::clone(&m);
            thread::spawn(move || {
                for _ in 0..iters {
                    *m.lock().unwrap() += 1;
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    let n = *m.lock().unwrap();
    println!("{n}");
    assert_eq!(n, 2 * iters);
}
