// umbra: clean
//! A `OnceLock` initialised by whichever of four threads gets there first; all read it.

use std::sync::OnceLock;
use std::thread;

static TABLE: OnceLock<Vec<u64>> = OnceLock::new();

fn table() -> &'static [u64] {
    TABLE.get_or_init(|| (0..64).map(|i| i * i).collect())
}

fn main() {
    let handles: Vec<_> = (0..4)
        .map(|_| thread::spawn(|| table().iter().sum::<u64>()))
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), table().iter().sum::<u64>());
    }
}
