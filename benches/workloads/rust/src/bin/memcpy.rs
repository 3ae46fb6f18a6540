//! Large memcpy: argv[1] copies of a 64 MiB buffer back and forth.
use std::hint::black_box;

fn main() {
    let reps = umbra_bench_workloads::arg_or(6);
    const SIZE: usize = 64 << 20;
    let mut a = vec![1u8; SIZE];
    let mut b = vec![2u8; SIZE];
    for r in 0..reps {
        if r & 1 == 1 {
            a.copy_from_slice(black_box(&b));
        } else {
            b.copy_from_slice(black_box(&a));
        }
        a[r as usize] = r as u8;
    }
    println!("{}", a[0] as u32 + b[SIZE - 1] as u32);
}
