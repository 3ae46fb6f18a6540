// umbra: race
//! Two scoped threads increment the same `static mut` counter. Both first meet at a
//! barrier, so both are running when they increment: a thread that finished before the
//! other started would be ordered before it through std's own thread bookkeeping (a
//! global lock taken at thread exit and start), and the increments would not race in
//! that execution.

use std::sync::Barrier;
use std::thread;

static mut HITS: u64 = 0;

fn hit(both_started: &Barrier) {
    both_started.wait();
    unsafe { HITS += 1 }; // RACE
}

fn main() {
    let both_started = Barrier::new(2);
    thread::scope(|s| {
        let first = s.spawn(|| hit(&both_started));
        let second = s.spawn(|| hit(&both_started));
        first.join().unwrap();
        second.join().unwrap();
    });
    println!("{}", unsafe { HITS });
}
