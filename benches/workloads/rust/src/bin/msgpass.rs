//! Acquire/release message passing: two threads ping-pong argv[1] rounds. Each
//! side writes a plain payload, then release-stores the turn; the other
//! acquire-loads the turn, then reads the payload.
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;

struct Shared {
    turn: AtomicU32,
    payload: UnsafeCell<[u64; 2]>,
}
// SAFETY: `payload` is only touched by the thread whose turn it is.
unsafe impl Sync for Shared {}

static S: Shared = Shared { turn: AtomicU32::new(0), payload: UnsafeCell::new([0; 2]) };

fn wait_turn(me: u32) {
    let mut spins = 0u32;
    while S.turn.load(Ordering::Acquire) != me {
        spins += 1;
        if spins % 128 == 0 {
            thread::yield_now();
        }
    }
}

fn main() {
    let rounds = umbra_bench_workloads::arg_or(200_000);
    let pong = thread::spawn(move || {
        for _ in 0..rounds {
            wait_turn(1);
            // SAFETY: our turn.
            unsafe { (*S.payload.get())[1] = (*S.payload.get())[0] + 1 };
            S.turn.store(0, Ordering::Release);
        }
    });
    let mut s = 0u64;
    for r in 0..rounds {
        wait_turn(0);
        // SAFETY: our turn.
        unsafe {
            s = s.wrapping_add((*S.payload.get())[1]);
            (*S.payload.get())[0] = r;
        }
        S.turn.store(1, Ordering::Release);
    }
    pong.join().unwrap();
    println!("{s}");
}
