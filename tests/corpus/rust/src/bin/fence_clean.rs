// umbra: clean
// stock: race
//! Fence-based publication: payload write, `fence(Release)`, relaxed store; relaxed load
//! that sees it, then `fence(Acquire)`, then the payload read. This synchronises; stock
//! TSan ignores standalone fences and reports a false race on the payload.

use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::thread;

static mut PAYLOAD: u64 = 0;
static READY: AtomicBool = AtomicBool::new(false);

fn main() {
    let t = thread::spawn(|| {
        unsafe { PAYLOAD = 42 };
        fence(Ordering::Release);
        READY.store(true, Ordering::Relaxed);
    });
    while !READY.load(Ordering::Relaxed) {
        std::hint::spin_loop();
    }
    fence(Ordering::Acquire);
    let seen = unsafe { PAYLOAD };
    t.join().unwrap();
    assert_eq!(seen, 42);
}
