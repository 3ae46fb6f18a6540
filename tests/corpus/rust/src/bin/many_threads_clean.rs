// umbra: clean
//! 2000 short threads spawned and joined one after another, each bumping a plain
//! counter: the spawn/join chain orders every increment.

use std::thread;

static mut COUNTER: u64 = 0;

fn main() {
    for _ in 0..2000 {
        thread::spawn(|| unsafe { COUNTER += 1 }).join().unwrap();
    }
    assert_eq!(unsafe { COUNTER }, 2000);
}
