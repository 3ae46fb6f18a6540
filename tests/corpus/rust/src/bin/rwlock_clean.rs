// umbra: clean
//! Writers append under `RwLock::write`, readers sum under `RwLock::read`.

use std::sync::{Arc, RwLock};
use std::thread;

fn main() {
    let data = Arc::new(RwLock::new(Vec::<u64>::new()));
    let mut handles = Vec::new();
    for w in 0..2u64 {
        let data = Arc::clone(&data);
        handles.push(thread::spawn(move || {
            for i in 0..500 {
                data.write().unwrap().push(w * 1000 + i);
            }
        }));
    }
    for _ in 0..2 {
        let data = Arc::clone(&data);
        handles.push(thread::spawn(move || {
            let mut total = 0u64;
            for _ in 0..500 {
                total += data.read().unwrap().iter().take(10).sum::<u64>();
            }
            assert!(total < u64::MAX);
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(data.read().unwrap().len(), 1000);
}
