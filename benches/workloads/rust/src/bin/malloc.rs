//! malloc/free churn: argv[1] allocations of 16-512 bytes (Vec<u64>), 64 live at
//! a time; the first and last word of each block are written.
use std::hint::black_box;

fn main() {
    let n = umbra_bench_workloads::arg_or(2_000_000);
    let mut live: Vec<Option<Vec<u64>>> = (0..64).map(|_| None).collect();
    let mut x: u64 = 88172645463325252;
    let mut s = 0u64;
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let words = (16 + (x % 497) as usize) / 8;
        let mut v: Vec<u64> = Vec::with_capacity(words);
        // SAFETY: capacity `words`; only the ends are written, and read only there.
        unsafe {
            v.as_mut_ptr().write(i);
            v.as_mut_ptr().add(words - 1).write(i);
            v.set_len(1);
        }
        if let Some(old) = live[(i & 63) as usize].replace(black_box(v)) {
            s = s.wrapping_add(old[0]);
        }
    }
    println!("{s}");
}
