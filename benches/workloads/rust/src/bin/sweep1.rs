//! Private-array sweep, one thread: a[i] += i ^ p over 1 Mi u64, argv[1] passes.
use std::hint::black_box;

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
    let mut a = vec![0u64; 1 << 20];
    println!("{}", sweep(&mut a, passes));
}
