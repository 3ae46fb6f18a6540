// umbra: clean
//! Threads write their own slot, meet at a `std::sync::Barrier`, read every slot, and
//! meet again before the next round.

use std::sync::{Arc, Barrier};
use std::thread;

struct Slots(std::cell::UnsafeCell<[u64; 4]>);
unsafe impl Sync for Slots {}

fn main() {
    let barrier = Arc::new(Barrier::new(4));
    let slots = Arc::new(Slots(std::cell::UnsafeCell::new([0; 4])));
    let handles: Vec<_> = (0..4)
        .map(|me| {
            let (barrier, slots) = (Arc::clone(&barrier), Arc::clone(&slots));
            thread::spawn(move || {
                let mut total = 0;
                for round in 0..50u64 {
                    unsafe { (*slots.0.get())[me] = round + me as u64 };
                    barrier.wait();
                    total += unsafe { (*slots.0.get()).iter().sum::<u64>() };
                    barrier.wait();
                }
                total
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}
