//! Read-shared array: main fills 1 Mi u64, two threads read all of it argv[1] times.
use std::hint::black_box;
use std::sync::Arc;
use std::thread;

fn main() {
    let passes = umbra_bench_workloads::arg_or(40);
    let a: Arc<Vec<u64>> = Arc::new((0..1u64 << 20).collect());
    let hs: Vec<_> = (0..2)
        .map(|_| {
            let a = Arc::clone(&a);
            thread::spawn(move || {
                let mut s = 0u64;
                for p in 0..passes {
                    for x in black_box(&a[..]) {
                        s = s.wrapping_add(x ^ p);
                    }
                }
                s
            })
        })
        .collect();
    let s = hs.into_iter().map(|h| h.join().unwrap()).fold(0u64, u64::wrapping_add);
    println!("{s}");
}
