// umbra: race
//! Two threads increment a `static mut` without synchronisation.

use std::thread;

static mut COUNTER: u64 = 0;

fn bump() {
    unsafe { COUNTER += 1 }; // RACE
}

fn main() {
    let t = thread::spawn(bump);
    bump();
    t.join().unwrap();
}
