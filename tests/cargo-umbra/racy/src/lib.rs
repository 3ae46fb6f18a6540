//! Two threads increment a `static mut` counter with nothing ordering them.

static mut HITS: u64 = 0;

/// Called by a spawned thread.
pub fn hit_from_thread() {
    unsafe { HITS += 1 } // RACE (spawned thread)
}

/// Called by the thread that spawned it, before joining.
pub fn hit_from_main() {
    unsafe { HITS += 1 } // RACE (main thread)
}

pub fn race() {
    let t = std::thread::spawn(hit_from_thread);
    hit_from_main();
    t.join().unwrap();
}

#[test]
fn racing_increments() {
    race();
}
