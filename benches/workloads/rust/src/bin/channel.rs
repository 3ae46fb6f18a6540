//! Producer/consumer through std's bounded mpsc channel (256 slots): argv[1] items.
use std::sync::mpsc;
use std::thread;

fn main() {
    let items = umbra_bench_workloads::arg_or(300_000);
    let (tx, rx) = mpsc::sync_channel::<u64>(256);
    let producer = thread::spawn(move || {
        for i in 0..items {
            tx.send(i).unwrap();
        }
    });
    let s: u64 = rx.iter().sum();
    producer.join().unwrap();
    println!("{s}");
    assert_eq!(s, items * (items - 1) / 2);
}
