//! Lock-order inversions (`lock-order-inversion (potential deadlock)`), after
//! sanitizer_common's deadlock detector as TSan uses it: a global graph with an
//! edge `A → B` for every time a thread acquired mutex B while holding mutex A, and
//! per thread the list of mutexes it holds. Before a thread waits for a mutex M
//! (not a try-lock), M is checked: if the graph has a path from M to a mutex the
//! thread holds and whose edge to M is new, acquiring M closes a cycle, which is
//! reported once (its edges are in the graph from then on, so the same inversion
//! is not found again). After a lock the new edges go in (a try-lock adds none: it
//! cannot wait, though later locks made while holding it do). Each edge keeps the
//! thread that made it, where it acquired the second mutex and, with
//! `second_deadlock_stack`, where it had acquired the first.
//!
//! Mutexes are graph nodes by the serial of their sync object, so a mutex
//! re-initialized, or new memory at a freed mutex's address, is a new node. Stacks
//! are interned only when they may be printed: when an edge is new, and for every
//! held mutex with `second_deadlock_stack`. A thread that holds no mutex, or only
//! mutexes whose edges to the new one it has already seen, takes no global lock.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use umbra_report::options::Options;
use umbra_sys::SpinMutex;

use crate::depot::DEPOT;
use crate::thread::ThreadCtx;

/// Longest cycle reported (sanitizer_common's `DDReport::kMaxLoopSize`); a longer
/// one is a one-line warning.
const MAX_CYCLE: usize = 20;

/// `detect_deadlocks` and `second_deadlock_stack`, set from the options.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Off = 0,
    /// Edges keep where their second mutex was acquired.
    On = 1,
    /// Edges also keep where their first mutex was acquired.
    SecondStack = 2,
}

/// The current [`Mode`] as its discriminant.
static MODE: AtomicU8 = AtomicU8::new(Mode::On as u8);

/// Called whenever the options are (re)parsed.
pub fn configure(o: &Options) {
    let mode = match (o.detect_deadlocks, o.second_deadlock_stack) {
        (false, _) => Mode::Off,
        (true, false) => Mode::On,
        (true, true) => Mode::SecondStack,
    };
    // Relaxed: a setting read on its own; it changes only while options are parsed
    // at start-up.
    MODE.store(mode as u8, Ordering::Relaxed);
}

fn mode() -> Mode {
    // Relaxed: see `configure`.
    match MODE.load(Ordering::Relaxed) {
        0 => Mode::Off,
        1 => Mode::On,
        _ => Mode::SecondStack,
    }
}

/// Where a thread acquired a mutex: the return address of the lock call and the
/// depot id of the frames above it (pc 0: unknown).
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
struct StackRef {
    pc: u64,
    stack: u32,
}

impl StackRef {
    /// The current thread's stack at `pc` (interns its frames).
    fn here(thr: &mut ThreadCtx, pc: u64) -> StackRef {
        StackRef {
            pc,
            stack: thr.stack_id(),
        }
    }

    /// Return addresses, innermost first; empty when unknown.
    fn unwind(self) -> Vec<u64> {
        if self.pc == 0 {
            return Vec::new();
        }
        let mut v = Vec::with_capacity(16);
        v.push(self.pc);
        v.extend(DEPOT.unwind(self.stack));
        v
    }
}

/// `from → to`: a thread acquired `to` while holding `from`.
struct Edge {
    to: u64,
    tid: u32,
    /// Where `to` was acquired.
    acquired: StackRef,
    /// Where `from` had been acquired (`second_deadlock_stack`).
    held_since: StackRef,
}

struct Node {
    addr: usize,
    edges: Vec<Edge>,
}

/// The lock-order graph: nodes by sync-object serial.
struct Graph {
    nodes: BTreeMap<u64, Node>,
}

static GRAPH: SpinMutex<Graph> = SpinMutex::new(Graph {
    nodes: BTreeMap::new(),
});

/// Nodes in the graph; destroys look at the graph only when it has any.
static NODES: AtomicUsize = AtomicUsize::new(0);

impl Graph {
    fn node(&mut self, serial: u64, addr: usize) -> &mut Node {
        self.nodes.entry(serial).or_insert_with(|| {
            // Relaxed: a hint read only to skip the lock when zero; the graph
            // itself is read under its lock.
            NODES.fetch_add(1, Ordering::Relaxed);
            Node {
                addr,
                edges: Vec::new(),
            }
        })
    }

    fn edge(&self, from: u64, to: u64) -> Option<&Edge> {
        self.nodes.get(&from)?.edges.iter().find(|e| e.to == to)
    }

    /// The shortest path from `start` to any of `targets`, as the serials along it
    /// (`start` first, the target reached last), if one exists.
    fn path_to_any(&self, start: u64, targets: &[u64]) -> Option<Vec<u64>> {
        let mut parent: BTreeMap<u64, u64> = BTreeMap::new();
        let mut queue = VecDeque::new();
        parent.insert(start, start);
        queue.push_back(start);
        while let Some(n) = queue.pop_front() {
            if n != start && targets.contains(&n) {
                let mut path = alloc::vec![n];
                let mut cur = n;
                while cur != start {
                    cur = parent[&cur];
                    path.push(cur);
                }
                path.reverse();
                return Some(path);
            }
            for e in self
                .nodes
                .get(&n)
                .map(|n| n.edges.as_slice())
                .unwrap_or(&[])
            {
                if let alloc::collections::btree_map::Entry::Vacant(v) = parent.entry(e.to) {
                    v.insert(n);
                    queue.push_back(e.to);
                }
            }
        }
        None
    }
}

/// A mutex the thread holds.
struct Held {
    serial: u64,
    addr: usize,
    /// Where it was acquired (its depot id only with `second_deadlock_stack`).
    acquired: StackRef,
}

/// Edges this thread knows are in the graph, direct-mapped by their ends.
const KNOWN_EDGES: usize = 64;

struct ThreadLocks {
    held: Vec<Held>,
    known: [(u64, u64); KNOWN_EDGES],
}

impl ThreadLocks {
    fn slot(from: u64, to: u64) -> usize {
        ((from.wrapping_mul(31) ^ to).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as usize
    }

    fn knows(&self, from: u64, to: u64) -> bool {
        self.known[Self::slot(from, to)] == (from, to)
    }

    fn learn(&mut self, from: u64, to: u64) {
        self.known[Self::slot(from, to)] = (from, to);
    }

    /// Whether every held mutex other than `serial` has an edge to it on record.
    fn knows_all_edges_to(&self, serial: u64) -> bool {
        self.held
            .iter()
            .all(|h| h.serial == serial || self.knows(h.serial, serial))
    }
}

#[thread_local]
static mut THREAD_LOCKS: ThreadLocks = ThreadLocks {
    held: Vec::new(),
    known: [(0, 0); KNOWN_EDGES],
};

/// Runs `f` on the current thread's held-mutex list.
fn with_thread_locks<R>(f: impl FnOnce(&mut ThreadLocks) -> R) -> R {
    // SAFETY: thread-local, and only reached from inside the runtime scope, where
    // no signal handler runs; `f` does not call back into this module, so this is
    // the only reference while it lives.
    f(unsafe { &mut *core::ptr::addr_of_mut!(THREAD_LOCKS) })
}

/// Whether the current thread holds any mutex in the graph's eyes (cheap: no
/// lock). Call inside the runtime scope, as every function of this module.
pub fn holds_any() -> bool {
    mode() != Mode::Off && with_thread_locks(|t| !t.held.is_empty())
}

/// One edge of a cycle to report: the thread that acquired the next mutex of the
/// cycle while holding `addr`, where, and where it had acquired `addr`.
pub struct CycleEdge {
    pub addr: usize,
    pub tid: u32,
    pub acquired: Vec<u64>,
    pub held_since: Option<Vec<u64>>,
}

/// The current thread is about to wait for the mutex `serial` (at `addr`) at `pc`:
/// reports the cycle its edges would close, if any. (Without a cycle the edges go
/// in after the lock, with the stack of its end, as in TSan.)
pub fn before_lock(thr: &mut ThreadCtx, serial: u64, addr: usize, pc: u64) {
    let mode = mode();
    if mode == Mode::Off {
        return;
    }
    let Some(missing) = with_thread_locks(|t| {
        if t.held.iter().any(|h| h.serial == serial) || t.knows_all_edges_to(serial) {
            return None;
        }
        let missing: Vec<HeldEdge> = t
            .held
            .iter()
            .filter(|h| !t.knows(h.serial, serial))
            .map(HeldEdge::from)
            .collect();
        Some(missing)
    }) else {
        return;
    };
    let here = StackRef::here(thr, pc);
    let tid = thr.tid;
    let cycle = {
        let mut g = GRAPH.lock();
        let targets: Vec<u64> = missing
            .iter()
            .map(|h| h.serial)
            .filter(|&h| g.edge(h, serial).is_none())
            .collect();
        match g.path_to_any(serial, &targets) {
            Some(path) if !targets.is_empty() => {
                // The edges go in now, not after the lock (which may never come),
                // so that the report has every stack and the cycle is not found
                // again.
                add_edges(&mut g, &missing, serial, addr, tid, here);
                Some(cycle_edges(&g, &path))
            }
            _ => None,
        }
    };
    if cycle.is_some() {
        with_thread_locks(|t| {
            for h in &missing {
                t.learn(h.serial, serial);
            }
        });
    }
    match cycle {
        Some(edges) if edges.len() > MAX_CYCLE => {
            crate::report::write_text("WARNING: too long mutex cycle found\n")
        }
        Some(edges) => {
            let edges: Vec<CycleEdge> = edges
                .into_iter()
                .map(|(addr, e)| CycleEdge {
                    addr,
                    tid: e.tid,
                    acquired: e.acquired.unwind(),
                    held_since: (mode == Mode::SecondStack).then(|| e.held_since.unwind()),
                })
                .collect();
            crate::report::report_deadlock(&edges);
        }
        None => {}
    }
}

/// A held mutex, as the start of an edge to the mutex being locked.
struct HeldEdge {
    serial: u64,
    addr: usize,
    acquired: StackRef,
}

impl From<&Held> for HeldEdge {
    fn from(h: &Held) -> HeldEdge {
        HeldEdge {
            serial: h.serial,
            addr: h.addr,
            acquired: h.acquired,
        }
    }
}

/// Adds the edges `held → serial` that are not in the graph yet, made by thread
/// `tid` acquiring `serial` (at `addr`) at `acquired`.
fn add_edges(
    g: &mut Graph,
    held: &[HeldEdge],
    serial: u64,
    addr: usize,
    tid: u32,
    acquired: StackRef,
) {
    g.node(serial, addr);
    for h in held {
        if h.serial == serial || g.edge(h.serial, serial).is_some() {
            continue;
        }
        g.node(h.serial, h.addr).edges.push(Edge {
            to: serial,
            tid,
            acquired,
            held_since: h.acquired,
        });
    }
}

/// An edge of a cycle as the graph has it: thread and stacks.
#[derive(Clone, Copy, Default)]
struct EdgeInfo {
    tid: u32,
    acquired: StackRef,
    held_since: StackRef,
}

/// The edges of the cycle `path` (then back to its start), each with the address
/// of the mutex it starts from. (Unwound by the caller, outside the graph's lock.)
fn cycle_edges(g: &Graph, path: &[u64]) -> Vec<(usize, EdgeInfo)> {
    let mut edges = Vec::with_capacity(path.len());
    for (i, &from) in path.iter().enumerate() {
        let to = path[(i + 1) % path.len()];
        let addr = g.nodes.get(&from).map_or(0, |n| n.addr);
        let info = g.edge(from, to).map_or(EdgeInfo::default(), |e| EdgeInfo {
            tid: e.tid,
            acquired: e.acquired,
            held_since: e.held_since,
        });
        edges.push((addr, info));
    }
    edges
}

/// The current thread now holds the mutex `serial` (at `addr`), locked at `pc`:
/// the edges from the mutexes it already held go in (not for a try-lock), and it
/// joins the held list.
pub fn after_lock(thr: &mut ThreadCtx, serial: u64, addr: usize, pc: u64, try_lock: bool) {
    let mode = mode();
    if mode == Mode::Off {
        return;
    }
    let missing: Vec<HeldEdge> = with_thread_locks(|t| {
        if try_lock || t.knows_all_edges_to(serial) {
            return Vec::new();
        }
        t.held
            .iter()
            .filter(|h| h.serial != serial && !t.knows(h.serial, serial))
            .map(HeldEdge::from)
            .collect()
    });
    let mut acquired = StackRef { pc, stack: 0 };
    if !missing.is_empty() || mode == Mode::SecondStack {
        acquired = StackRef::here(thr, pc);
    }
    if !missing.is_empty() {
        let tid = thr.tid;
        add_edges(&mut GRAPH.lock(), &missing, serial, addr, tid, acquired);
    }
    with_thread_locks(|t| {
        for h in &missing {
            t.learn(h.serial, serial);
        }
        t.held.push(Held {
            serial,
            addr,
            acquired,
        });
    });
}

/// The current thread releases (one hold of) the mutex `serial`.
pub fn before_unlock(serial: u64) {
    with_thread_locks(|t| {
        if let Some(i) = t.held.iter().rposition(|h| h.serial == serial) {
            t.held.remove(i);
        }
    });
}

/// The mutex `serial` is destroyed: it leaves the graph, with every edge to it.
pub fn forget(serial: u64) {
    before_unlock_all(serial);
    // Relaxed: see `Graph::node`.
    if NODES.load(Ordering::Relaxed) == 0 {
        return;
    }
    let mut g = GRAPH.lock();
    if g.nodes.remove(&serial).is_some() {
        // Relaxed: as above.
        NODES.fetch_sub(1, Ordering::Relaxed);
        for n in g.nodes.values_mut() {
            n.edges.retain(|e| e.to != serial);
        }
    }
}

fn before_unlock_all(serial: u64) {
    with_thread_locks(|t| t.held.retain(|h| h.serial != serial));
}

/// The current thread ends: its held list goes (its memory with it).
pub fn thread_finished() {
    with_thread_locks(|t| t.held = Vec::new());
}

pub fn fork_lock() {
    GRAPH.lock_raw();
}

/// # Safety
/// After [`fork_lock`], in parent or child.
pub unsafe fn fork_unlock() {
    // SAFETY: taken by fork_lock.
    unsafe { GRAPH.force_unlock() };
}
