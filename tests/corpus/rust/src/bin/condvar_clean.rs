// umbra: clean
//! Producer/consumer over a `Mutex<VecDeque>` and a `Condvar`; items are heap boxes.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

fn main() {
    let queue = Arc::new((Mutex::new(VecDeque::<Box<[u64; 4]>>::new()), Condvar::new()));
    let producer = {
        let queue = Arc::clone(&queue);
        thread::spawn(move || {
            for i in 0..1000u64 {
                let item = Box::new([i, i + 1, i + 2, i + 3]);
                let (lock, cvar) = &*queue;
                lock.lock().unwrap().push_back(item);
                cvar.notify_one();
            }
        })
    };
    let (lock, cvar) = &*queue;
    let mut sum = 0u64;
    for _ in 0..1000 {
        let mut guard = lock.lock().unwrap();
        while guard.is_empty() {
            guard = cvar.wait(guard).unwrap();
        }
        let mut item = guard.pop_front().unwrap();
        drop(guard);
        item[0] += 1;
        sum += item.iter().sum::<u64>();
    }
    producer.join().unwrap();
    assert!(sum > 0);
}
