// umbra: race
//! Fence-based publication with the reader's `fence(Acquire)` missing: a race.

use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::thread;

static mut PAYLOAD: u64 = 0;
static READY: AtomicBool = AtomicBool::new(false);

fn main() {
    let t = thread::spawn(|| {
        unsafe { PAYLOAD = 42 }; // RACE
        fence(Ordering::Release);
        READY.store(true, Ordering::Relaxed);
    });
    while !READY.load(Ordering::Relaxed) {
        std::hint::spin_loop();
    }
    let seen = unsafe { PAYLOAD }; // RACE
    t.join().unwrap();
    println!("{seen}");
}
