//! Application address → shadow pair and meta word.
//!
//! The 47-bit user address space is cut into 64 GiB chunks. A directory entry per
//! chunk holds, once the chunk is first touched, the offset of a private
//! `MAP_NORESERVE` region laid out as `[pairs: 2 × 64 GiB][meta: 16 GiB]`:
//! 16 bytes of cells per 8-byte word (2x the application memory, like compiler-rt)
//! and a 4-byte meta word per 8-byte word (0.5x). Nothing is committed until written.
//! Because the directory is filled on demand, shadow follows wherever the kernel
//! places memory: no fixed layout, so high ASLR entropy cannot break it.
//!
//! The fast path is `pair = ((addr & !7) * 2) + delta[addr >> 36]`: one load from a
//! 16 KiB directory that stays in L1, a shift and an add.

use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use crate::cell::CellPair;

/// Bytes of application memory per shadow pair.
pub const WORD: usize = 8;
const CHUNK_SHIFT: u32 = 36;
const CHUNK: usize = 1 << CHUNK_SHIFT;
const DIR_LEN: usize = 1 << (47 - CHUNK_SHIFT);
const PAIRS_BYTES: usize = CHUNK * 2;
const META_BYTES: usize = CHUNK / 2;
const REGION_BYTES: usize = PAIRS_BYTES + META_BYTES;

/// The directory. `delta[i]` is `region_base - chunk_start * 2` (wrapping) for
/// chunk `i`, or 0 while the chunk has no shadow.
pub struct ShadowMap {
    delta: [AtomicUsize; DIR_LEN],
}

#[allow(clippy::declare_interior_mutable_const)]
const UNMAPPED: AtomicUsize = AtomicUsize::new(0);

pub static MAP: ShadowMap = ShadowMap { delta: [UNMAPPED; DIR_LEN] };

impl ShadowMap {
    #[inline(always)]
    fn delta(&self, addr: usize) -> usize {
        // Relaxed: the region's contents are zero pages from the kernel, nothing
        // written by the mapping thread needs to be seen first.
        self.delta[(addr >> CHUNK_SHIFT) & (DIR_LEN - 1)].load(Ordering::Relaxed)
    }

    /// Maps the chunk of `addr` (if no other thread did) and returns its delta.
    #[cold]
    #[inline(never)]
    fn map_chunk(&self, addr: usize) -> usize {
        let i = (addr >> CHUNK_SHIFT) & (DIR_LEN - 1);
        let region = match umbra_sys::mmap_anon(REGION_BYTES, true) {
            Some(p) => p as usize,
            None => umbra_sys::internal_error(format_args!(
                "cannot reserve {} GiB of shadow address space for {:#x}",
                REGION_BYTES >> 30,
                addr
            )),
        };
        let chunk_start = i << CHUNK_SHIFT;
        let mut delta = region.wrapping_sub(chunk_start * 2);
        if delta == 0 {
            // 0 means "unmapped"; a region exactly at 2 × chunk_start is possible
            // only in theory. Shift by one region's worth is not an option, so ask
            // again while holding this one.
            let again = self.map_chunk(addr);
            // SAFETY: `region` is ours and unreferenced.
            unsafe { umbra_sys::munmap(region as *mut u8, REGION_BYTES) };
            return again;
        }
        // AcqRel/Acquire: the winner's delta is what everybody uses; nothing else
        // is published through it.
        match self.delta[i].compare_exchange(0, delta, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => {}
            Err(existing) => {
                // SAFETY: we lost the race; `region` was never published.
                unsafe { umbra_sys::munmap(region as *mut u8, REGION_BYTES) };
                delta = existing;
            }
        }
        delta
    }

    #[inline(always)]
    fn delta_or_map(&self, addr: usize) -> usize {
        let d = self.delta(addr);
        if d != 0 {
            d
        } else {
            self.map_chunk(addr)
        }
    }
}

/// The shadow pair of the word containing `addr`, mapping shadow on first use.
#[inline(always)]
pub fn pair_for(addr: usize) -> &'static CellPair {
    let d = MAP.delta_or_map(addr);
    let p = ((addr & !(WORD - 1)) & (CHUNK * DIR_LEN - 1)).wrapping_mul(2).wrapping_add(d);
    // SAFETY: `p` lies in the pairs part of the region mapped for this chunk (the
    // offset of the word inside its chunk, times two), 16-byte aligned because the
    // word is 8-byte aligned and the region page aligned; the region is never
    // unmapped, and `CellPair` is plain atomics, valid for any bit pattern.
    unsafe { &*(p as *const CellPair) }
}

/// The shadow pair of `addr`'s word if its chunk already has shadow (the fast
/// path; `None` sends the caller to a slow path that maps it via [`pair_for`]).
#[inline(always)]
pub fn pair_if_mapped(addr: usize) -> Option<&'static CellPair> {
    let d = MAP.delta(addr);
    if d == 0 {
        return None;
    }
    let p = ((addr & !(WORD - 1)) & (CHUNK * DIR_LEN - 1)).wrapping_mul(2).wrapping_add(d);
    // SAFETY: as in `pair_for`; `p` lies inside a mapped region, so it is not null
    // (telling the compiler saves a test on the fast path).
    unsafe {
        core::hint::assert_unchecked(p != 0);
        Some(&*(p as *const CellPair))
    }
}

/// The meta word of the word containing `addr` (0 = no sync object).
#[inline]
pub fn meta_word(addr: usize) -> &'static AtomicU32 {
    let d = MAP.delta_or_map(addr);
    let a = addr & (CHUNK * DIR_LEN - 1);
    let chunk_start = a & !(CHUNK - 1);
    let region = d.wrapping_add(chunk_start * 2);
    let p = region + PAIRS_BYTES + ((a - chunk_start) >> 3) * 4;
    // SAFETY: `p` is inside the meta part of the chunk's region (offset/8 × 4 <
    // META_BYTES), 4-byte aligned, mapped forever; AtomicU32 accepts any bits.
    unsafe { &*(p as *const AtomicU32) }
}

/// Calls `f(pair, mask)` for every word overlapping `[addr, addr+size)`, with the
/// byte mask of the part of that word inside the range.
#[inline]
pub fn for_each_word(addr: usize, size: usize, mut f: impl FnMut(usize, &'static CellPair, u8)) {
    if size == 0 {
        return;
    }
    let end = addr.saturating_add(size);
    let mut a = addr;
    while a < end {
        let word = a & !(WORD - 1);
        let next = word + WORD;
        let hi = if end < next { end } else { next };
        let mask = crate::cell::mask_of(a, hi - a);
        f(word, pair_for(word), mask);
        a = next;
    }
}

/// Forgets every record of `[addr, addr+size)` (fresh memory: new heap block,
/// new mapping). Large ranges give their shadow pages back to the kernel.
pub fn reset_range(addr: usize, size: usize) {
    reset_range_to(addr, size, 0);
}

/// Like [`reset_range`], but leaves `first` in the first cell of every word (a freed
/// marker).
pub fn reset_range_to(addr: usize, size: usize, first: u64) {
    reset_range_with(addr, size, first, |_, _| {});
}

/// Like [`reset_range_to`], calling `spilled(lo, hi)` for application ranges whose
/// words may have had records in the spill table (a word found spilled, or a range
/// reset wholesale), so the caller can drop those records.
pub fn reset_range_with(addr: usize, size: usize, first: u64, mut spilled: impl FnMut(usize, usize)) {
    const PAGE: usize = 4096;
    let start = addr & !(WORD - 1);
    let end = (addr.saturating_add(size) + WORD - 1) & !(WORD - 1);
    let mut a = start;
    while a < end {
        // Whole shadow pages inside the range: hand them back (they read as zero).
        if first == 0 && end - a >= PAGE * 4 {
            let p = pair_for(a) as *const CellPair as usize;
            if p % PAGE == 0 && a + PAGE / 2 <= end {
                let words = (end - a) / WORD;
                let bytes = (words * 16) & !(PAGE - 1);
                // Stay within this chunk's region.
                let chunk_left = (CHUNK - (a & (CHUNK - 1))) * 2;
                let bytes = bytes.min(chunk_left);
                if bytes >= PAGE {
                    // SAFETY: these shadow pages belong to words in our range only
                    // (16 bytes per word, page aligned), private anonymous memory
                    // whose contents we are discarding on purpose.
                    unsafe { umbra_sys::madvise_dontneed(p as *mut u8, bytes) };
                    spilled(a, a + bytes / 2);
                    a += bytes / 2;
                    continue;
                }
            }
        }
        let pair = pair_for(a);
        // Relaxed: shadow stores need atomicity, not ordering. Store only where
        // something changes: reading an untouched shadow page costs no memory,
        // writing it would commit the page.
        let c0 = pair.cells[0].load(Ordering::Relaxed);
        if crate::cell::ShadowCell(c0).is_spill_marker() {
            spilled(a, a + WORD);
        }
        if c0 != first || pair.cells[1].load(Ordering::Relaxed) != 0 {
            pair.cells[0].store(first, Ordering::Relaxed);
            pair.cells[1].store(0, Ordering::Relaxed);
        }
        a += WORD;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_distinct_per_word_and_shared_within() {
        let v = vec![0u64; 1024];
        let a = v.as_ptr() as usize;
        let p0 = pair_for(a) as *const _ as usize;
        let p0b = pair_for(a + 7) as *const _ as usize;
        let p1 = pair_for(a + 8) as *const _ as usize;
        assert_eq!(p0, p0b);
        assert_eq!(p1, p0 + 16);
        assert_eq!(p0 % 16, 0);
        let m0 = meta_word(a) as *const _ as usize;
        let m1 = meta_word(a + 8) as *const _ as usize;
        assert_eq!(m1, m0 + 4);
    }

    #[test]
    fn far_apart_addresses_get_separate_chunks() {
        let stack_var = 0u8;
        let s = &stack_var as *const u8 as usize;
        let h = Box::new(0u64);
        let hp = &*h as *const u64 as usize;
        let code = pairs_are_distinct_per_word_and_shared_within as *const () as usize;
        for a in [s, hp, code, 0x1000, (1usize << 47) - 8] {
            let p = pair_for(a);
            p.cells[1].store(a as u64, Ordering::Relaxed);
            assert_eq!(p.cells[1].load(Ordering::Relaxed), a as u64);
            p.cells[1].store(0, Ordering::Relaxed);
        }
    }

    #[test]
    fn reset_clears_small_and_large_ranges() {
        let v = vec![0u64; 1 << 16];
        let a = v.as_ptr() as usize;
        for_each_word(a, v.len() * 8, |_, p, m| {
            assert_eq!(m, 0xff);
            p.cells[0].store(0x1ff, Ordering::Relaxed);
            p.cells[1].store(0x2ff, Ordering::Relaxed);
        });
        reset_range(a, v.len() * 8);
        let mut dirty = 0;
        for_each_word(a, v.len() * 8, |_, p, _| {
            dirty += (p.cells[0].load(Ordering::Relaxed) | p.cells[1].load(Ordering::Relaxed) != 0) as usize;
        });
        assert_eq!(dirty, 0);
        reset_range_to(a + 8, 16, 0x400);
        assert_eq!(pair_for(a).cells[0].load(Ordering::Relaxed), 0);
        assert_eq!(pair_for(a + 8).cells[0].load(Ordering::Relaxed), 0x400);
        assert_eq!(pair_for(a + 16).cells[0].load(Ordering::Relaxed), 0x400);
        assert_eq!(pair_for(a + 24).cells[0].load(Ordering::Relaxed), 0);
    }

    #[test]
    fn for_each_word_masks_edges() {
        let mut seen = vec![];
        for_each_word(0x1006, 12, |w, _, m| seen.push((w, m)));
        assert_eq!(seen, vec![(0x1000, 0b1100_0000), (0x1008, 0xff), (0x1010, 0b11)]);
    }
}
