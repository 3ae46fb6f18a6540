//! Unit tests of the access rules, and a property test that checks the compact
//! shadow against a reference detector that keeps *every* access (a plain vector
//! clock detector: an access races with any earlier conflicting access that does
//! not happen before it). Both must report a race on exactly the same accesses.

use super::*;
use crate::cell::{mask_of, ShadowCell};
use umbra_clocks::{ThreadClock, VectorClock};

fn fresh() -> (SpillTable, Box<CellPair>) {
    (
        SpillTable::new(),
        Box::new(CellPair {
            cells: [AtomicU64::new(0), AtomicU64::new(0)],
        }),
    )
}

fn acc(t: &ThreadClock, mask: u8, read: bool, atomic: bool) -> ShadowCell {
    ShadowCell::access(t.sid, t.epoch(), mask, read, atomic)
}

fn run(spill: &SpillTable, pair: &CellPair, t: &ThreadClock, cur: ShadowCell) -> bool {
    let mut s = Vec::new();
    matches!(
        check_and_update(spill, 0x1000, pair, cur, &t.clock, &mut s),
        AccessOutcome::Race { .. }
    )
}

#[test]
fn write_write_race_and_ordered_writes() {
    let (sp, p) = fresh();
    let mut a = ThreadClock::start(0, 1, None);
    let mut b = ThreadClock::start(1, 1, None);
    assert!(!run(&sp, &p, &a, acc(&a, 0xff, false, false)));
    assert!(run(&sp, &p, &b, acc(&b, 0xff, false, false)));
    // After synchronization no race.
    let mut s = VectorClock::new();
    b.release_store(&mut s);
    a.acquire(&s);
    assert!(!run(&sp, &p, &a, acc(&a, 0xff, false, false)));
}

#[test]
fn adjacent_bytes_do_not_race_and_reads_share() {
    let (sp, p) = fresh();
    let a = ThreadClock::start(0, 1, None);
    let b = ThreadClock::start(1, 1, None);
    let c = ThreadClock::start(2, 1, None);
    assert!(!run(&sp, &p, &a, acc(&a, 0b01, false, false)));
    assert!(!run(&sp, &p, &b, acc(&b, 0b10, false, false)));
    assert!(!run(&sp, &p, &c, acc(&c, 0b100, false, false)));
    // Three records now: spilled, none lost.
    assert_eq!(sp.len(), 1);
    assert!(
        run(&sp, &p, &c, acc(&c, 0b01, true, false)),
        "C's read of byte 0 races with A's write"
    );
}

#[test]
fn atomics_do_not_race_with_atomics_but_do_with_plain() {
    let (sp, p) = fresh();
    let a = ThreadClock::start(0, 1, None);
    let b = ThreadClock::start(1, 1, None);
    assert!(!run(&sp, &p, &a, acc(&a, 0x0f, false, true)));
    assert!(!run(&sp, &p, &b, acc(&b, 0x0f, false, true)));
    assert!(run(&sp, &p, &b, acc(&b, 0x0f, true, false)));
}

#[test]
fn freed_marker_races_with_unordered_access() {
    let (sp, p) = fresh();
    let a = ThreadClock::start(0, 1, None);
    let b = ThreadClock::start(1, 1, None);
    let mut s = Vec::new();
    let free = acc(&a, 0xff, false, false);
    assert_eq!(check_only(&sp, 0x1000, &p, free, &a.clock), None);
    p.cells[0].store(ShadowCell::freed(a.sid, a.epoch()).0, Ordering::Relaxed);
    match check_and_update(
        &sp,
        0x1000,
        &p,
        acc(&b, 0x01, true, false),
        &b.clock,
        &mut s,
    ) {
        AccessOutcome::Race { prev } => assert!(prev.is_freed()),
        r => panic!("{r:?}"),
    }
}

#[test]
fn check_only_finds_a_race_and_records_nothing() {
    let (sp, p) = fresh();
    let a = ThreadClock::start(0, 1, None);
    let b = ThreadClock::start(1, 1, None);
    let mut s = Vec::new();
    check_and_update(
        &sp,
        0x1000,
        &p,
        acc(&a, 0x0f, true, false),
        &a.clock,
        &mut s,
    );
    let before = load(&p);
    let found = check_only(&sp, 0x1000, &p, acc(&b, 0xff, false, false), &b.clock);
    assert_eq!(found, Some(acc(&a, 0x0f, true, false)));
    assert_eq!(load(&p), before);
}

#[test]
fn mask_helper_matches_access_sizes() {
    assert_eq!(mask_of(3, 1), 0b1000);
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Reference: all accesses ever made to the word, each with the clock of its
/// thread at that time... only the epoch is needed: race iff conflicting and
/// `e > C_cur[sid]`.
#[test]
fn compact_shadow_reports_exactly_what_full_history_reports() {
    for seed in 1..3000u64 {
        let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1);
        let nthreads = 2 + rng.below(3) as usize;
        let mut threads: Vec<ThreadClock> = (0..nthreads)
            .map(|i| ThreadClock::start(i as u16, 1, None))
            .collect();
        let mut syncs = vec![VectorClock::new(); 2];
        let (sp, p) = fresh();
        let mut history: Vec<ShadowCell> = Vec::new();
        let mut scratch = Vec::new();
        for step in 0..40 {
            let t = rng.below(nthreads as u64) as usize;
            match rng.below(6) {
                0 => {
                    let s = rng.below(2) as usize;
                    threads[t].release(&mut syncs[s]);
                }
                1 => {
                    let s = rng.below(2) as usize;
                    threads[t].acquire(&syncs[s].clone());
                }
                _ => {
                    let sizes = [1usize, 2, 4, 8];
                    let size = sizes[rng.below(4) as usize];
                    let off = (rng.below(8) as usize / size) * size;
                    let mask = mask_of(off, size);
                    let cur = acc(&threads[t], mask, rng.below(2) == 0, rng.below(4) == 0);
                    let want = history
                        .iter()
                        .any(|&old| races(old, cur, &threads[t].clock));
                    let got = matches!(
                        check_and_update(&sp, 0x1000, &p, cur, &threads[t].clock, &mut scratch),
                        AccessOutcome::Race { .. }
                    );
                    assert_eq!(
                        got,
                        want,
                        "seed {seed} step {step}: {cur:?} history {history:?} shadow {:?}",
                        sp.records(0x1000, &p)
                    );
                    history.push(cur);
                }
            }
        }
    }
}

#[test]
fn concurrent_updates_keep_every_record() {
    // Many threads each write their own byte of one word concurrently: afterwards
    // the word holds one record per byte, no update lost to a CAS race.
    use std::sync::Arc;
    let sp = Arc::new(SpillTable::new());
    let p = Arc::new(CellPair {
        cells: [AtomicU64::new(0), AtomicU64::new(0)],
    });
    let hs: Vec<_> = (0..8u16)
        .map(|i| {
            let (sp, p) = (sp.clone(), p.clone());
            std::thread::spawn(move || {
                let t = ThreadClock::start(i, 1, None);
                let mut s = Vec::new();
                for _ in 0..1000 {
                    let r = check_and_update(
                        &sp,
                        0x2000,
                        &p,
                        acc(&t, 1 << i, false, false),
                        &t.clock,
                        &mut s,
                    );
                    assert_eq!(r, AccessOutcome::Ok);
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    let recs = sp.records(0x2000, &p);
    assert_eq!(recs.len(), 8, "{recs:?}");
}

#[test]
fn cas16_basic() {
    let p = Box::new(CellPair {
        cells: [AtomicU64::new(0), AtomicU64::new(0)],
    });
    let a = (ShadowCell(0), ShadowCell(0));
    let b = (ShadowCell(0x1234), ShadowCell(0x5678));
    assert!(cas_pair(&p, a, b));
    assert_eq!(load(&p), b);
    assert!(!cas_pair(&p, a, a));
    assert_eq!(load(&p), b);
}
