// umbra: race
//! Threads spawned and joined between a write and a read that only a relaxed flag
//! links (issue 13): the late thread's read races with main's write. The six
//! threads spawned after the write know it, and std's thread start-up links
//! threads in the order they happen to start, which must not hide the race.

use std::sync::atomic::{AtomicUsize, Ordering};

static mut X: u64 = 0;
static GO: AtomicUsize = AtomicUsize::new(0);

fn main() {
    let late = std::thread::spawn(|| {
        while GO.load(Ordering::Relaxed) == 0 {
            std::hint::spin_loop();
        }
        unsafe { std::ptr::read_volatile(&raw const X) } // RACE
    });
    unsafe { std::ptr::write_volatile(&raw mut X, 42) }; // RACE
    let others: Vec<_> = (0..6).map(|_| std::thread::spawn(|| 1u64)).collect();
    let sum: u64 = others.into_iter().map(|r| r.join().unwrap()).sum();
    GO.store(1, Ordering::Relaxed);
    let v = late.join().unwrap();
    println!("{sum} {v}");
}
