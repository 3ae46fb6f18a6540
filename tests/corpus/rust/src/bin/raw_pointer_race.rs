// umbra: race
//! A stack variable of the main thread written by another thread through a raw pointer
//! (smuggled as a usize) while the main thread reads it.

use std::thread;

fn main() {
    let mut local: u64 = 0;
    let address = &mut local as *mut u64 as usize;
    let t = thread::spawn(move || {
        unsafe { *(address as *mut u64) = 7 }; // RACE
    });
    let seen = local; // RACE
    t.join().unwrap();
    println!("{seen} {local}");
}
