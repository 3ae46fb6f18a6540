// umbra: clean
//! A payload published through an `AtomicBool` with `Release` / `Acquire`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

static mut PAYLOAD: u64 = 0;
static READY: AtomicBool = AtomicBool::new(false);

fn main() {
    let t = thread::spawn(|| {
        unsafe { PAYLOAD = 42 };
        READY.store(true, Ordering::Release);
    });
    while !READY.load(Ordering::Acquire) {
        std::hint::spin_loop();
    }
    let seen = unsafe { PAYLOAD };
    unsafe { PAYLOAD = 0 };
    t.join().unwrap();
    assert_eq!(seen, 42);
}
