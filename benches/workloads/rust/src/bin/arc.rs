//! Arc clone/drop storm: two threads clone and drop a shared Arc argv[1] times
//! each (atomic increments, release decrements and the acquire on the last drop).
use std::hint::black_box;
use std::sync::Arc;
use std::thread;

fn main() {
    let iters = umbra_bench_workloads::arg_or(2_000_000);
    let shared = Arc::new(vec![1u64; 16]);
    let hs: Vec<_> = (0..2)
        .map(|_| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let mut s = 0u64;
                for _ in 0..iters {
                    let c = black_box(Arc::clone(&shared));
                    s = s.wrapping_add(c[0]);
                }
                s
            })
        })
        .collect();
    let s = hs.into_iter().map(|h| h.join().unwrap()).fold(0u64, u64::wrapping_add);
    println!("{s} {}", Arc::strong_count(&shared));
}
