//! The happens-before matrix (issue 13's differential stress test, Rust side).
//!
//! One scenario per run: main writes `X`; threads spawned in between ("noise") run;
//! then main publishes to a reader thread through one `LINK`, and the reader reads
//! `X`. Whether the write happens before the read is known by construction from
//! the link alone (the noise threads never synchronize with the reader), so each
//! scenario states its own expected verdict:
//!
//! ```text
//! hb_matrix --list              every scenario, one `LINK NOISE` per line
//! hb_matrix LINK NOISE          runs one; prints `expect: race|clean` and
//!                               `stock: same|differs` first
//! ```
//!
//! NOISE is `none`, or `N-joined`, `N-unjoined`, `N-readers` (the noise threads
//! also read `X`), `N-syncing` (they lock a mutex and clone an `Arc` among
//! themselves) for N threads. `stock: differs` marks scenarios stock TSan does not
//! model (fences, release sequences ended by another thread's store) and racy ones
//! with noise threads, where stock's view of std's thread start-up links a reader
//! that starts late to the noise threads, which know the write (issue 13; it also
//! loses the write's record to reader noise on some toolchains).

use std::sync::atomic::{fence, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

static mut X: u64 = 0;
static GO: AtomicUsize = AtomicUsize::new(0);
static FLAG: Mutex<bool> = Mutex::new(false);
static CV: Condvar = Condvar::new();

/// Every link: (name, synchronizes, modelled by stock TSan).
const LINKS: &[(&str, bool, bool)] = &[
    ("relaxed", false, true),
    ("release-acquire", true, true),
    ("seqcst", true, true),
    ("fences", true, false),
    ("release-fence-only", false, true),
    ("acquire-fence-only", false, true),
    ("rmw-chain", true, true),
    ("relaxed-rmw", false, true),
    ("other-thread-store", false, false),
    ("mutex", true, true),
    ("condvar", true, true),
    ("channel", true, true),
    ("arc-get-mut", true, true),
    ("arc-strong-count", false, true),
    ("spawn-after", true, true),
    ("join-then-relaxed", false, true),
    ("join-then-release", true, true),
];

const NOISE: &[&str] = &["none", "2-joined", "6-joined", "6-unjoined", "6-readers", "12-syncing"];

fn spin_until(mut done: impl FnMut() -> bool) {
    while !done() {
        std::hint::spin_loop();
        thread::yield_now();
    }
}

/// What the reader does before reading `X`.
fn wait(link: &str, rx: &mpsc::Receiver<()>, token: &mut Arc<()>) {
    match link {
        "relaxed" | "release-fence-only" => spin_until(|| GO.load(Ordering::Relaxed) != 0),
        "release-acquire" | "relaxed-rmw" => spin_until(|| GO.load(Ordering::Acquire) != 0),
        "seqcst" => spin_until(|| GO.load(Ordering::SeqCst) != 0),
        "fences" | "acquire-fence-only" => {
            spin_until(|| GO.load(Ordering::Relaxed) != 0);
            fence(Ordering::Acquire);
        }
        // Relaxed while waiting: an acquire load that read main's own release store
        // (the value 1) would synchronize with it whatever follows.
        "rmw-chain" | "other-thread-store" => {
            spin_until(|| GO.load(Ordering::Relaxed) == 2);
            GO.load(Ordering::Acquire);
        }
        "mutex" => spin_until(|| *FLAG.lock().unwrap()),
        "condvar" => {
            let mut flag = FLAG.lock().unwrap();
            while !*flag {
                flag = CV.wait(flag).unwrap();
            }
        }
        "channel" => rx.recv().unwrap(),
        "arc-get-mut" => spin_until(|| Arc::get_mut(token).is_some()),
        "arc-strong-count" => spin_until(|| Arc::strong_count(token) == 1),
        "join-then-relaxed" => spin_until(|| GO.load(Ordering::Relaxed) != 0),
        "spawn-after" => {}
        "join-then-release" => spin_until(|| GO.load(Ordering::Acquire) != 0),
        other => unreachable!("{other}"),
    }
}

/// What main does to publish, after the write and the noise.
fn publish(link: &str, tx: &mpsc::Sender<()>, token: &mut Option<Arc<()>>) {
    match link {
        "relaxed" | "acquire-fence-only" | "join-then-relaxed" => GO.store(1, Ordering::Relaxed),
        "release-acquire" | "rmw-chain" | "other-thread-store" | "join-then-release" => GO.store(1, Ordering::Release),
        "seqcst" => GO.store(1, Ordering::SeqCst),
        "fences" | "release-fence-only" => {
            fence(Ordering::Release);
            GO.store(1, Ordering::Relaxed);
        }
        "relaxed-rmw" => {
            GO.fetch_add(1, Ordering::Relaxed);
        }
        "mutex" => *FLAG.lock().unwrap() = true,
        "condvar" => {
            *FLAG.lock().unwrap() = true;
            CV.notify_all();
        }
        "channel" => tx.send(()).unwrap(),
        "arc-get-mut" | "arc-strong-count" => drop(token.take()),
        other => unreachable!("{other}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--list") {
        for (link, _, _) in LINKS {
            for noise in NOISE {
                println!("{link} {noise}");
            }
        }
        return;
    }
    let [link, noise] = &args[..] else {
        eprintln!("usage: hb_matrix --list | hb_matrix LINK NOISE");
        std::process::exit(2);
    };
    let Some(&(link, synchronizes, stock_models)) = LINKS.iter().find(|l| l.0 == link) else {
        eprintln!("hb_matrix: unknown link '{link}'");
        std::process::exit(2);
    };
    let (count, mode) = match noise.split_once('-') {
        Some((n, mode)) => (n.parse::<usize>().expect("noise count"), mode),
        None if noise == "none" => (0, "none"),
        None => panic!("bad noise '{noise}'"),
    };
    let mode: &'static str = Box::leak(mode.to_owned().into_boxed_str());
    // Stock TSan sees std's thread start-up synchronization (issue 13): a reader that
    // starts after noise threads, which know the write, acquires their start-up
    // releases, and stock misses the race in those runs.
    let stock_same = stock_models && (synchronizes || count == 0);
    println!("expect: {}", if synchronizes { "clean" } else { "race" });
    println!("stock: {}", if stock_same { "same" } else { "differs" });

    let (tx, rx) = mpsc::channel::<()>();
    let mut main_token = Some(Arc::new(()));
    let mut reader_token = main_token.clone().unwrap();
    let read = move || {
        wait(link, &rx, &mut reader_token);
        unsafe { std::ptr::read_volatile(&raw const X) }
    };
    // A helper for the release-sequence links: it continues (RMW) or ends (plain
    // store) main's release sequence once main has published.
    let helper = matches!(link, "rmw-chain" | "other-thread-store").then(|| {
        thread::spawn(move || {
            spin_until(|| GO.load(Ordering::Relaxed) == 1);
            if link == "rmw-chain" {
                GO.fetch_add(1, Ordering::Relaxed);
            } else {
                GO.store(2, Ordering::Relaxed);
            }
        })
    });
    let mut read = Some(read);
    let early_reader = (link != "spawn-after").then(|| thread::spawn(read.take().unwrap()));
    // The write: by main, or (join links) by a thread main joins.
    if link.starts_with("join-then") {
        thread::spawn(|| unsafe { std::ptr::write_volatile(&raw mut X, 42) }).join().unwrap();
    } else {
        unsafe { std::ptr::write_volatile(&raw mut X, 42) };
    }
    let noise_lock = Arc::new(Mutex::new(0u64));
    let noise_threads: Vec<_> = (0..count)
        .map(|_| {
            let lock = noise_lock.clone();
            thread::spawn(move || match mode {
                "readers" => unsafe { std::ptr::read_volatile(&raw const X) },
                "syncing" => {
                    let mut n = lock.lock().unwrap();
                    *n += 1;
                    let copy = Arc::clone(&lock);
                    drop(copy);
                    *n
                }
                _ => 1,
            })
        })
        .collect();
    let mut noise_threads = Some(noise_threads);
    if mode != "unjoined" {
        for t in noise_threads.take().unwrap() {
            t.join().unwrap();
        }
    }
    let value = match early_reader {
        Some(reader) => {
            publish(link, &tx, &mut main_token);
            reader.join().unwrap()
        }
        None => thread::spawn(read.take().unwrap()).join().unwrap(),
    };
    if let Some(h) = helper {
        h.join().unwrap();
    }
    for t in noise_threads.into_iter().flatten() {
        t.join().unwrap();
    }
    println!("read {value}");
}
