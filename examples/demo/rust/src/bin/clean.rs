//! Race-free: shared state behind `Arc<Mutex<_>>`, and an `Arc` clone/drop storm
//! (its release decrement + acquire fence is invisible to stock TSan).
use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

static mut PAYLOAD: u64 = 0;
static READY: AtomicBool = AtomicBool::new(false);

fn main() {
    let total = Arc::new(Mutex::new(0u64));
    let workers: Vec<_> = (0..4)
        .map(|i| {
            let total = Arc::clone(&total);
            thread::spawn(move || {
                for _ in 0..100 {
                    let copy = Arc::clone(&total);
                    *copy.lock().unwrap() += i;
                }
            })
        })
        .collect();
    let producer = thread::spawn(|| {
        unsafe { PAYLOAD = 42 };
        fence(Ordering::Release);
        READY.store(true, Ordering::Relaxed);
    });
    while !READY.load(Ordering::Relaxed) {
        std::hint::spin_loop();
    }
    fence(Ordering::Acquire);
    let payload = unsafe { PAYLOAD };
    for w in workers {
        w.join().unwrap();
    }
    producer.join().unwrap();
    println!("total = {}, payload = {}", total.lock().unwrap(), payload);
}
