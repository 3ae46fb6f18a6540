// umbra: race
//! A shared `UnsafeCell` (wrongly marked `Sync`) written by two threads.

use std::cell::UnsafeCell;
use std::thread;

struct Racy(UnsafeCell<u32>);
unsafe impl Sync for Racy {}

static CELL: Racy = Racy(UnsafeCell::new(0));

fn main() {
    let t = thread::spawn(|| {
        unsafe { *CELL.0.get() = 1 }; // RACE
    });
    unsafe { *CELL.0.get() = 2 }; // RACE
    t.join().unwrap();
}
