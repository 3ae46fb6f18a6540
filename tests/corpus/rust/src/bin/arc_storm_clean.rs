// umbra: clean
//! Arc clone/drop storm: four threads clone and drop an `Arc` thousands of times;
//! whichever thread drops the last reference frees the (Drop-checked) contents.

use std::sync::Arc;
use std::thread;

struct Payload {
    values: Vec<u64>,
}

impl Drop for Payload {
    fn drop(&mut self) {
        self.values[0] = 0;
        self.values.clear();
    }
}

fn main() {
    let shared = Arc::new(Payload {
        values: (0..32).collect(),
    });
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let mine = Arc::clone(&shared);
            thread::spawn(move || {
                let mut sum = 0;
                for _ in 0..2000 {
                    let extra = Arc::clone(&mine);
                    sum += extra.values[5];
                    drop(extra);
                }
                sum
            })
        })
        .collect();
    drop(shared);
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(total, 4 * 2000 * 5);
}
