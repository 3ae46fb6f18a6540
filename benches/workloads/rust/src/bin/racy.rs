//! A racy loop: two threads increment a plain shared counter argv[1] times each,
//! unsynchronized. Measures what a reported race keeps costing.
//!
//! The threads meet at a barrier first, so their loops always overlap. Without it,
//! a first thread that finished before the second started would be ordered before
//! it: std takes a global lock (`stack_overflow::thread_info::LOCK`) at every
//! thread's start and exit whenever it installed its own SIGSEGV handler, which it
//! does under umbra but not under stock TSan (whose runtime owns SIGSEGV). The
//! race would then not exist in that execution, and umbra would rightly not
//! report it.
use std::ptr::{addr_of_mut, read_volatile, write_volatile};
use std::sync::{Arc, Barrier};
use std::thread;

static mut COUNTER: u64 = 0;

fn main() {
    let iters = umbra_bench_workloads::arg_or(3_000_000);
    let start = Arc::new(Barrier::new(2));
    let hs: Vec<_> = (0..2)
        .map(|_| {
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                for _ in 0..iters {
                    // SAFETY: none; this is the data race being measured.
                    unsafe {
                        let p = addr_of_mut!(COUNTER);
                        write_volatile(p, read_volatile(p) + 1);
                    }
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    // SAFETY: all writers joined.
    println!("{}", unsafe { read_volatile(addr_of_mut!(COUNTER)) });
}
