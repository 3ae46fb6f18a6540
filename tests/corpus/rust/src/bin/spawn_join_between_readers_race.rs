// umbra: race
//! As spawn_join_between_race, but the six threads spawned after the write also
//! read `X`: their reads are ordered after the write (spawn), so they race with
//! nothing, and the late thread's read still races with the write. umbra keeps
//! every record; stock TSan, which keeps four per word, was seen to lose the
//! write's record here with rustc 1.97 (issue 13: 0 of 30) but reports it with
//! 1.101.

use std::sync::atomic::{AtomicUsize, Ordering};

static mut X: u64 = 0;
static GO: AtomicUsize = AtomicUsize::new(0);

fn main() {
    let late = std::thread::spawn(|| {
        while GO.load(Ordering::Relaxed) == 0 {
            std::hint::spin_loop();
        }
        unsafe { std::ptr::read_volatile(&raw const X) } // RACE
    });
    unsafe { std::ptr::write_volatile(&raw mut X, 42) }; // RACE
    let others: Vec<_> = (0..6)
        .map(|_| std::thread::spawn(|| unsafe { std::ptr::read_volatile(&raw const X) }))
        .collect();
    let sum: u64 = others.into_iter().map(|r| r.join().unwrap()).sum();
    GO.store(1, Ordering::Relaxed);
    let v = late.join().unwrap();
    println!("{sum} {v}");
}
