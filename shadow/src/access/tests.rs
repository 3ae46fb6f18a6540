//! Unit tests of the access rules, and a property test that checks the compact
//! shadow against a reference detector that keeps *every* access (a plain vector
//! clock detector: an access races with any earlier conflicting access that does
//! not happen before it). Both must report a race on exactly the same accesses.

use super::*;
use crate::cell::{mask_of, ShadowCell};
use umbra_clocks::{ThreadClock, VectorClock};

/// An application word of the test's own, with empty shadow: the box keeps its
/// address from being reused by another test running meanwhile.
struct Word {
    _keep: Box<u64>,
    addr: usize,
    pair: &'static CellPair,
}

impl Word {
    fn new() -> Word {
        let keep = Box::new(0u64);
        let addr = &*keep as *const u64 as usize;
        crate::map::reset_range(addr, 8);
        Word {
            _keep: keep,
            addr,
            pair: crate::map::pair_for(addr),
        }
    }
}

impl core::ops::Deref for Word {
    type Target = CellPair;
    fn deref(&self) -> &CellPair {
        self.pair
    }
}

fn fresh() -> (SpillTable, Word) {
    (SpillTable::new(), Word::new())
}

fn acc(t: &ThreadClock, mask: u8, read: bool, atomic: bool) -> ShadowCell {
    ShadowCell::access(t.sid, t.epoch(), mask, read, atomic)
}

fn run(spill: &SpillTable, pair: &Word, t: &ThreadClock, cur: ShadowCell) -> bool {
    let mut s = Vec::new();
    matches!(
        check_and_update(spill, pair.addr, pair, cur, &t.clock, &mut s),
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
    // Three records now: spilled to the extension cells, none lost.
    assert!(load(&p).0.is_spill_marker() && !load(&p).0.is_table_marker());
    assert_eq!(sp.records(p.addr, &p).len(), 3);
    assert!(sp.is_empty());
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
    assert_eq!(check_only(&sp, p.addr, &p, free, &a.clock), None);
    p.cells[0].store(ShadowCell::freed(a.sid, a.epoch()).0, Ordering::Relaxed);
    match check_and_update(
        &sp,
        p.addr,
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
        p.addr,
        &p,
        acc(&a, 0x0f, true, false),
        &a.clock,
        &mut s,
    );
    let before = load(&p);
    let found = check_only(&sp, p.addr, &p, acc(&b, 0xff, false, false), &b.clock);
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
    // How often the run reached each representation and skipped an access, so the
    // test fails if the generator stops exercising them.
    let (mut in_ext, mut in_table, mut skipped) = (0, 0, 0);
    for seed in 1..3000u64 {
        let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1);
        // Up to 9 threads: words with more than four records (side table) and
        // slots sharing an extension cell.
        let nthreads = 2 + rng.below(if seed % 2 == 0 { 3 } else { 8 }) as usize;
        let mut threads: Vec<ThreadClock> = (0..nthreads)
            .map(|i| ThreadClock::start(i as u16, 1, None))
            .collect();
        let mut syncs = vec![VectorClock::new(); 2];
        let (sp, p) = fresh();
        let mut history: Vec<ShadowCell> = Vec::new();
        let mut scratch = Vec::new();
        for step in 0..60 {
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
                    // The fast path (plain accesses) and the slow path's first look
                    // may skip an access only if the word's records already record
                    // it (then an earlier access of the same thread and epoch, with
                    // at most the same clock, had every race this one could have).
                    let records = sp.records(p.addr, &p);
                    let covered = records.iter().any(|&r| already_recorded(r, cur));
                    if !cur.is_atomic() && fast(&p, cur) || recorded_in_cells(p.addr, &p, cur) {
                        assert!(
                            covered,
                            "seed {seed} step {step}: skipped {cur:?}, records {records:?}"
                        );
                        skipped += 1;
                    }
                    let c0 = load(&p).0;
                    in_table += c0.is_table_marker() as usize;
                    in_ext += (c0.is_spill_marker() && !c0.is_table_marker()) as usize;
                    let want = history
                        .iter()
                        .any(|&old| races(old, cur, &threads[t].clock));
                    let got = matches!(
                        check_and_update(&sp, p.addr, &p, cur, &threads[t].clock, &mut scratch),
                        AccessOutcome::Race { .. }
                    );
                    assert_eq!(
                        got,
                        want,
                        "seed {seed} step {step}: {cur:?} history {history:?} shadow {:?}",
                        sp.records(p.addr, &p)
                    );
                    history.push(cur);
                }
            }
        }
    }
    eprintln!("steps in extension cells {in_ext}, in the side table {in_table}, skipped {skipped}");
    assert!(in_ext > 1000 && in_table > 1000 && skipped > 1000);
}

#[test]
fn concurrent_updates_keep_every_record() {
    // Threads each write their own byte of one word concurrently: afterwards the
    // word holds one record per byte, no update lost to a CAS race or a spill (3 and
    // 4 threads: extension cells; 8: side table).
    use std::sync::Arc;
    for n in [3u16, 4, 8] {
        let sp = Arc::new(SpillTable::new());
        let p = Arc::new(Word::new());
        let hs: Vec<_> = (0..n)
            .map(|i| {
                let (sp, p) = (sp.clone(), p.clone());
                std::thread::spawn(move || {
                    let t = ThreadClock::start(i, 1, None);
                    let mut s = Vec::new();
                    for _ in 0..1000 {
                        let r = check_and_update(
                            &sp,
                            p.addr,
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
        let recs = sp.records(p.addr, &p);
        assert_eq!(recs.len(), n as usize, "{recs:?}");
        assert_eq!(load(&p).0.is_table_marker(), n > 4);
    }
}

/// The fast path's check for `cur` on `w`, as the entry points make it.
fn fast(w: &Word, cur: ShadowCell) -> bool {
    recorded_fast(w.addr, w, cur.0, cur.is_write())
}

#[test]
fn read_shared_word_repeats_end_on_the_fast_path() {
    // One write, then N readers (slots 1..=N) that all know it, each reading the
    // word in turn, again and again: from the second round on every read is a
    // fast-path hit while each extension cell serves one reader's slot (N <= 4: up
    // to three readers with the write in the cells, four with the records in the
    // side table and the cells as per-slot hints).
    for n in 1..=4u16 {
        let (sp, p) = fresh();
        let mut w = ThreadClock::start(0, 1, None);
        assert!(!run(&sp, &p, &w, acc(&w, 0xff, false, false)));
        let mut s = VectorClock::new();
        w.release(&mut s);
        let readers: Vec<ThreadClock> = (1..=n)
            .map(|i| {
                let mut t = ThreadClock::start(i, 1, None);
                t.acquire(&s);
                t
            })
            .collect();
        for round in 0..3 {
            for t in &readers {
                let cur = acc(t, 0xff, true, false);
                if round > 0 {
                    assert!(fast(&p, cur), "n {n} round {round} slot {}", t.sid);
                }
                assert!(!run(&sp, &p, t, cur));
            }
        }
        assert_eq!(sp.records(p.addr, &p).len(), n as usize + 1);
        assert_eq!(load(&p).0.is_table_marker(), n + 1 > 4);
        // A write by the writer, which does not know the reads, races with them.
        assert!(run(&sp, &p, &w, acc(&w, 0x01, false, false)));
    }
}

#[test]
fn a_reset_ends_what_the_extension_cells_show() {
    // Three records spill to the extension cells; after the word is reset and
    // refilled inline, the fast path no longer looks there.
    let (sp, p) = fresh();
    let ts: Vec<ThreadClock> = (0..3).map(|i| ThreadClock::start(i, 1, None)).collect();
    for t in &ts {
        assert!(!run(&sp, &p, t, acc(t, 0xff, true, false)));
    }
    assert!(fast(&p, acc(&ts[1], 0xff, true, false)));
    crate::map::reset_range(p.addr, 8);
    assert!(!fast(&p, acc(&ts[1], 0xff, true, false)));
    assert!(!run(&sp, &p, &ts[0], acc(&ts[0], 0xff, true, false)));
    assert!(!fast(&p, acc(&ts[1], 0xff, true, false)));
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
