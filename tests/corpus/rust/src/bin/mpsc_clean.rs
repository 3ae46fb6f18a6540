// umbra: clean
//! Workers fill a heap buffer each and send it over an `mpsc` channel; the receiver
//! mutates the received buffers.

use std::sync::mpsc;
use std::thread;

fn main() {
    let (tx, rx) = mpsc::channel::<Vec<u64>>();
    let mut handles = Vec::new();
    for w in 0..4u64 {
        let tx = tx.clone();
        handles.push(thread::spawn(move || {
            for round in 0..50 {
                tx.send((0..16).map(|i| w + i + round).collect()).unwrap();
            }
        }));
    }
    drop(tx);
    let mut total = 0u64;
    for mut buffer in rx {
        buffer[0] = 0;
        total += buffer.iter().sum::<u64>();
    }
    for h in handles {
        h.join().unwrap();
    }
    assert!(total > 0);
}
