//! Race-free sharing through the standard library: `Arc<Mutex<_>>`, channels,
//! scoped threads, release/acquire atomics.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};

/// Sums `0..n` in four threads under a mutex.
///
/// ```
/// assert_eq!(clean_fixture::mutex_sum(100), 4 * 4950);
/// ```
pub fn mutex_sum(n: u64) -> u64 {
    let total = Arc::new(Mutex::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let total = Arc::clone(&total);
            std::thread::spawn(move || {
                for i in 0..n {
                    *total.lock().unwrap() += i;
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let sum = *total.lock().unwrap();
    sum
}

/// Sends boxed values through a channel; the receiver owns them.
pub fn channel_sum(n: u64) -> u64 {
    let (tx, rx) = mpsc::channel();
    let producer = std::thread::spawn(move || {
        for i in 0..n {
            tx.send(Box::new(i)).unwrap();
        }
    });
    let sum = rx.iter().map(|b| *b).sum();
    producer.join().unwrap();
    sum
}

/// Scoped threads fill the halves of a vector (std::thread::scope: the threads
/// are not joined through pthread_join, and the next thread may reuse their stacks).
pub fn scoped_fill(len: usize) -> Vec<usize> {
    let mut v = vec![0; len];
    let (a, b) = v.split_at_mut(len / 2);
    std::thread::scope(|s| {
        s.spawn(|| a.iter_mut().enumerate().for_each(|(i, x)| *x = i));
        s.spawn(|| b.iter_mut().enumerate().for_each(|(i, x)| *x = i));
    });
    v
}

/// Publishes a value with a release store, reads it after an acquire load.
pub fn publish() -> u64 {
    static READY: AtomicBool = AtomicBool::new(false);
    static mut VALUE: u64 = 0;
    // The previous call joined its thread: this store is ordered after its accesses.
    READY.store(false, Ordering::Relaxed);
    let t = std::thread::spawn(|| {
        unsafe { VALUE = 42 };
        READY.store(true, Ordering::Release);
    });
    while !READY.load(Ordering::Acquire) {
        std::hint::spin_loop();
    }
    let v = unsafe { VALUE };
    t.join().unwrap();
    v
}

#[test]
fn sharing_without_races() {
    // Several rounds: later threads reuse the stacks and TLS of finished ones.
    for _ in 0..10 {
        assert_eq!(mutex_sum(1000), 4 * 499_500);
        assert_eq!(channel_sum(1000), 499_500);
        assert_eq!(scoped_fill(10)[7], 2);
        assert_eq!(publish(), 42);
    }
}
