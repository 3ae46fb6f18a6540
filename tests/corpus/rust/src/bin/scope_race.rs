// umbra: race
//! Two scoped threads increment the same `static mut` counter.

use std::thread;

static mut HITS: u64 = 0;

fn hit() {
    unsafe { HITS += 1 }; // RACE
}

fn main() {
    thread::scope(|s| {
        s.spawn(hit);
        s.spawn(hit);
    });
    println!("{}", unsafe { HITS });
}
