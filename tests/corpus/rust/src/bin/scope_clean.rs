// umbra: clean
//! `thread::scope`: scoped threads write disjoint halves of a local array; after the
//! scope the main thread reads all of it.

use std::thread;

fn main() {
    let mut data = [0u64; 64];
    let (left, right) = data.split_at_mut(32);
    thread::scope(|s| {
        s.spawn(|| left.iter_mut().enumerate().for_each(|(i, x)| *x = i as u64));
        s.spawn(|| {
            right
                .iter_mut()
                .enumerate()
                .for_each(|(i, x)| *x = 100 + i as u64)
        });
    });
    data[0] = 1;
    assert_eq!(
        data.iter().sum::<u64>(),
        1 + 31 * 32 / 2 + 3200 + 31 * 32 / 2
    );
}
