//! The stack depot: call stacks interned as paths in a global call tree
//! (`(parent, pc) → node`), so a history event, a heap block or a sync object
//! names a whole stack with one `u32`. The tree is bounded (see [`StackDepot`]):
//! stacks interned two generations ago are forgotten. Threads intern their shadow
//! stack lazily, only up to the frames that changed since their last interned
//! access (`ThreadCtx::stack_id`).

use alloc::vec::Vec;

use umbra_sys::SpinMutex;

/// Call-tree nodes per depot generation (about 48 bytes each with the index).
const GEN_NODES: usize = 1 << 20;
const GEN_SHIFT: u32 = 24;
const INDEX_MASK: u32 = (1 << GEN_SHIFT) - 1;

/// The global call tree. Id 0 is the root (empty stack); other ids are
/// `generation << 24 | node index + 1`.
///
/// Recursive parallel code (rayon's `join` nests two ways at every level, on
/// whichever thread steals) has exponentially many distinct call paths, so the tree
/// is bounded: nodes live in generations of [`GEN_NODES`]; when the current one is
/// full it becomes the previous one and the one before is dropped. Ids of a
/// dropped generation unwind to nothing (a report then shows only the access's own
/// frame); threads notice the new generation and re-intern their stacks.
pub struct StackDepot {
    inner: SpinMutex<DepotInner>,
    /// The current generation (read without the lock by threads checking whether
    /// their interned prefix is still current), on its own cache line: the lock
    /// next to it is written by every interning thread.
    generation: Padded,
}

/// A value alone on its cache lines (128 bytes: adjacent-line prefetch).
#[repr(align(128))]
struct Padded(core::sync::atomic::AtomicU32);

#[derive(Default)]
struct Generation {
    /// Node index i.
    nodes: Vec<Node>,
    /// Open-addressing index `(pc, parent) → id`; id 0 marks an empty slot.
    table: Vec<IndexSlot>,
}

/// A call-tree node: `pc` called from the stack `parent`.
#[derive(Clone, Copy)]
struct Node {
    pc: u64,
    parent: u32,
}

/// An entry of a generation's index: the node `id` is `pc` under `parent`.
#[derive(Clone, Copy)]
struct IndexSlot {
    pc: u64,
    parent: u32,
    id: u32,
}

impl IndexSlot {
    const EMPTY: IndexSlot = IndexSlot {
        pc: 0,
        parent: 0,
        id: 0,
    };
}

impl Generation {
    fn slot(&self, parent: u32, pc: u64) -> usize {
        crate::hash::slot(pc ^ (parent as u64).rotate_left(32), self.table.len())
    }

    fn find(&self, parent: u32, pc: u64) -> Result<u32, usize> {
        let mut i = self.slot(parent, pc);
        loop {
            let e = self.table[i];
            if e.id == 0 {
                return Err(i);
            }
            if e.pc == pc && e.parent == parent {
                return Ok(e.id);
            }
            i = (i + 1) & (self.table.len() - 1);
        }
    }

    fn grow(&mut self) {
        let cap = (self.table.len() * 2).max(1024);
        let old = core::mem::replace(&mut self.table, alloc::vec![IndexSlot::EMPTY; cap]);
        for e in old.into_iter().filter(|e| e.id != 0) {
            if let Err(i) = self.find(e.parent, e.pc) {
                self.table[i] = e;
            }
        }
    }
}

struct DepotInner {
    gen: u32,
    cur: Generation,
    prev: Generation,
}

pub static DEPOT: StackDepot = StackDepot {
    inner: SpinMutex::new(DepotInner {
        gen: 0,
        cur: Generation {
            nodes: Vec::new(),
            table: Vec::new(),
        },
        prev: Generation {
            nodes: Vec::new(),
            table: Vec::new(),
        },
    }),
    generation: Padded(core::sync::atomic::AtomicU32::new(0)),
};

fn gen_of(id: u32) -> u32 {
    id >> GEN_SHIFT
}

impl DepotInner {
    /// The nodes of `id`'s generation, if it is still kept, and its index there.
    fn locate(&self, id: u32) -> Option<(&Generation, usize)> {
        let g = if gen_of(id) == self.gen & 0xff {
            &self.cur
        } else if gen_of(id) == self.gen.wrapping_sub(1) & 0xff && self.gen > 0 {
            &self.prev
        } else {
            return None;
        };
        let i = (id & INDEX_MASK) as usize;
        (i >= 1 && i <= g.nodes.len()).then_some((g, i - 1))
    }

    fn intern(&mut self, parent: u32, pc: u64) -> u32 {
        // A parent from the previous generation (the generation turned while its
        // thread was interning) is copied into the current one first; one from a
        // dropped generation is lost (the stack restarts at the root).
        let parent = if parent == 0 || gen_of(parent) == self.gen & 0xff {
            parent
        } else {
            let mut chain = Vec::new();
            let mut id = parent;
            while id != 0 {
                match self.locate(id) {
                    Some((g, i)) => {
                        chain.push(g.nodes[i].pc);
                        id = g.nodes[i].parent;
                    }
                    None => break,
                }
            }
            let mut p = 0;
            for &pc in chain.iter().rev() {
                p = self.intern_current(p, pc);
            }
            p
        };
        self.intern_current(parent, pc)
    }

    fn intern_current(&mut self, parent: u32, pc: u64) -> u32 {
        if self.cur.nodes.len() >= GEN_NODES {
            self.prev = core::mem::take(&mut self.cur);
            self.gen += 1;
            DEPOT
                .generation
                .0
                .store(self.gen, core::sync::atomic::Ordering::Relaxed);
            // The parent now belongs to the previous generation: `intern` copies
            // its path into the new one.
            return self.intern(parent, pc);
        }
        if self.cur.table.len() < 2 * (self.cur.nodes.len() + 1) {
            self.cur.grow();
        }
        match self.cur.find(parent, pc) {
            Ok(id) => id,
            Err(slot) => {
                self.cur.nodes.push(Node { pc, parent });
                let id = (self.gen & 0xff) << GEN_SHIFT | self.cur.nodes.len() as u32;
                self.cur.table[slot] = IndexSlot { pc, parent, id };
                id
            }
        }
    }
}

impl StackDepot {
    /// The node for `pc` called from the stack `parent`.
    pub fn intern(&self, parent: u32, pc: u64) -> u32 {
        self.inner.lock().intern(parent, pc)
    }

    /// The current generation; ids interned in an older one should be re-interned.
    pub fn generation(&self) -> u32 {
        // Relaxed: a hint; `intern` copes with parents of the previous generation.
        self.generation
            .0
            .load(core::sync::atomic::Ordering::Relaxed)
    }

    /// Number of call-tree nodes kept (for `verbosity` statistics).
    pub fn len(&self) -> usize {
        let g = self.inner.lock();
        g.cur.nodes.len() + g.prev.nodes.len()
    }

    pub fn fork_lock(&self) {
        self.inner.lock_raw();
    }

    /// # Safety
    /// After [`StackDepot::fork_lock`], in parent or child.
    pub unsafe fn fork_unlock(&self) {
        // SAFETY: taken by fork_lock.
        unsafe { self.inner.force_unlock() };
    }

    /// The pcs of stack `id`, innermost first; empty if its generation was dropped.
    pub fn unwind(&self, mut id: u32) -> Vec<u64> {
        let g = self.inner.lock();
        let mut out = Vec::new();
        while id != 0 {
            let Some((gen, i)) = g.locate(id) else { break };
            let node = gen.nodes[i];
            out.push(node.pc);
            id = node.parent;
        }
        out
    }
}
