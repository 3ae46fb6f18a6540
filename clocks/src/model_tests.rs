//! Property test: random programs of synchronization events, checked against a
//! plain happens-before model that builds the event graph explicitly (program
//! order plus synchronizes-with edges, each derived from the C11/C++11 definitions:
//! a release sequence continues through RMWs and through plain stores by its head's
//! thread) and
//! answers "a happens before b" by graph reachability. The clock implementation must
//! give the same answer for every ordered pair of events.

use crate::{ReleaseSequences, ThreadClock, VectorClock};
use std::collections::HashSet;

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

#[derive(Clone, Copy, Debug)]
enum Op {
    Access,
    Acquire(usize),
    Release(usize),
    ReleaseStore(usize),
    AcqRel(usize),
    RelaxedLoad(usize),
    RelaxedStore(usize),
    RelaxedRmw(usize),
    FenceRel,
    FenceAcq,
}

/// Model state: for each sync object, the set of events it carries (releases whose
/// clocks were stored into it); per thread, the events pending for an acquire fence
/// and the last release fence.
struct Model {
    edges: Vec<Vec<usize>>, // edges[b] = predecessors of event b
    thread_of: Vec<usize>,
}

impl Model {
    fn reaches(&self, a: usize, b: usize) -> bool {
        let mut seen = HashSet::new();
        let mut stack = vec![b];
        while let Some(x) = stack.pop() {
            if x == a {
                return true;
            }
            for &p in &self.edges[x] {
                if seen.insert(p) {
                    stack.push(p);
                }
            }
        }
        false
    }
}

fn run(seed: u64, threads: usize, objects: usize, steps: usize) {
    let mut rng = Rng(seed | 1);
    let mut clocks: Vec<ThreadClock> = (0..threads)
        .map(|t| ThreadClock::start(t as u16, 1, None))
        .collect();
    let mut sync: Vec<VectorClock> = vec![VectorClock::new(); objects];
    let mut seqs: Vec<ReleaseSequences> = vec![ReleaseSequences::default(); objects];

    let mut model = Model {
        edges: Vec::new(),
        thread_of: Vec::new(),
    };
    let mut last_event: Vec<Option<usize>> = vec![None; threads];
    let mut carried: Vec<HashSet<usize>> = vec![HashSet::new(); objects];
    let mut pending_acq: Vec<HashSet<usize>> = vec![HashSet::new(); threads];
    let mut last_fence_rel: Vec<Option<usize>> = vec![None; threads];
    // Accesses: (event id, epoch name at that point, thread).
    let mut accesses = Vec::new();
    // Per access event, the thread clock just after (to query "a hb b").
    let mut clock_at: Vec<Option<VectorClock>> = Vec::new();

    for _ in 0..steps {
        let t = rng.below(threads as u64) as usize;
        let o = rng.below(objects as u64) as usize;
        let op = match rng.below(10) {
            0 | 1 => Op::Access,
            2 => Op::Acquire(o),
            3 => Op::Release(o),
            4 => Op::ReleaseStore(o),
            5 => Op::AcqRel(o),
            6 => Op::RelaxedLoad(o),
            7 => Op::RelaxedStore(o),
            8 => match rng.below(3) {
                0 => Op::RelaxedRmw(o),
                1 => Op::FenceRel,
                _ => Op::FenceAcq,
            },
            _ => Op::FenceRel,
        };
        let ev = model.edges.len();
        let mut preds: Vec<usize> = last_event[t].into_iter().collect();
        let c = &mut clocks[t];
        let mut access_epoch = None;
        match op {
            Op::Access => access_epoch = Some(c.now()),
            Op::Acquire(o) => {
                preds.extend(carried[o].iter().copied());
                c.acquire(&sync[o]);
            }
            Op::Release(o) => {
                carried[o].insert(ev);
                c.release_rmw(&mut sync[o], &mut seqs[o]);
            }
            Op::ReleaseStore(o) => {
                carried[o] = [ev].into_iter().collect();
                c.release_store_atomic(&mut sync[o], &mut seqs[o]);
            }
            Op::AcqRel(o) => {
                preds.extend(carried[o].iter().copied());
                carried[o].insert(ev);
                c.acquire_release(&mut sync[o], &mut seqs[o]);
            }
            Op::RelaxedLoad(o) => {
                pending_acq[t].extend(carried[o].iter().copied());
                c.relaxed_load(&sync[o]);
            }
            Op::RelaxedStore(o) => {
                // Every carried event heads (or, for a fence, stands for) a sequence
                // of its own thread: only this thread's continue.
                let own: HashSet<usize> = carried[o]
                    .iter()
                    .copied()
                    .filter(|&e| model.thread_of[e] == t)
                    .collect();
                carried[o] = own.into_iter().chain(last_fence_rel[t]).collect();
                c.relaxed_store(&mut sync[o], &mut seqs[o]);
            }
            Op::RelaxedRmw(o) => {
                pending_acq[t].extend(carried[o].iter().copied());
                c.relaxed_load(&sync[o]);
                carried[o].extend(last_fence_rel[t]);
                c.relaxed_rmw_store(&mut sync[o], &mut seqs[o]);
            }
            Op::FenceRel => {
                last_fence_rel[t] = Some(ev);
                c.fence_release();
            }
            Op::FenceAcq => {
                preds.extend(pending_acq[t].iter().copied());
                c.fence_acquire();
            }
        }
        model.edges.push(preds);
        model.thread_of.push(t);
        last_event[t] = Some(ev);
        if let Some(e) = access_epoch {
            accesses.push((ev, e, t));
        }
        clock_at.push(if matches!(op, Op::Access) {
            Some(clocks[t].clock.clone())
        } else {
            None
        });
    }

    for &(a, ea, ta) in &accesses {
        for &(b, _, tb) in &accesses {
            if b <= a || ta == tb {
                continue;
            }
            let model_hb = model.reaches(a, b);
            let clock_hb = clock_at[b].as_ref().unwrap().knows(ea);
            assert_eq!(
                model_hb, clock_hb,
                "seed {seed}: access {a} (T{ta}) hb access {b} (T{tb}): model {model_hb}, clocks {clock_hb}"
            );
        }
    }
}

#[test]
fn clocks_agree_with_explicit_happens_before_graph() {
    for seed in 1..400u64 {
        run(
            seed.wrapping_mul(0x9E37_79B9_7F4A_7C15),
            2 + (seed % 3) as usize,
            1 + (seed % 3) as usize,
            60,
        );
    }
}

#[test]
fn clocks_agree_on_long_runs() {
    for seed in 1..20u64 {
        run(seed * 7919, 4, 3, 400);
    }
}
