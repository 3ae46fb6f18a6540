//! Private-array sweep, two threads, each over its own 1 Mi-u64 array.
use std::hint::black_box;
use std::thread;

fn sweep(a: &mut [u64], passes: u64) -> u64 {
    for p in 0..passes {
        for (i, x) in a.iter_mut().enumerate() {
            *x = x.wrapping_add(i as u64 ^ p);
        }
        black_box(&mut *a);
    }
    a.iter().fold(0u64, |s, x| s.wrapping_add(*x))
}

fn main() {
    let passes = umbra_bench_workloads::arg_or(40);
    let hs: Vec<_> = (0..2)
        .map(|_| thread::spawn(move || sweep(&mut vec![0u64; 1 << 20], passes)))
        .collect();
    let s = hs.into_iter().map(|h| h.join().unwrap()).fold(0u64, u64::wrapping_add);
    println!("{s}");
}
