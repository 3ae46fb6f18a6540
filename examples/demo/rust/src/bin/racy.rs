//! A data race: a `static mut` written by two threads without synchronization.
use std::thread;

static mut HITS: u64 = 0;

fn bump() {
    // SAFETY: none — this is the race umbra reports.
    unsafe { HITS += 1 };
}

fn main() {
    let t = thread::spawn(bump);
    bump();
    t.join().unwrap();
    println!("hits = {}", unsafe { HITS });
}
