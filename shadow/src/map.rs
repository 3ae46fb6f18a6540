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
//!
//! Resets (free, munmap, mmap over old memory, madvise) cost what exists in the range,
//! not what it spans: chunks without shadow are skipped, whole shadow pages are handed
//! back to the kernel with `madvise(MADV_DONTNEED)` instead of being zeroed (they then
//! read as zeros, "no record"), and a bitmap after the meta words, one bit per meta page
//! ever given a sync object, lets sync objects be found without reading every meta
//! word. After the bitmap come the extension cells: four more cells per word, used
//! only by words that need more than two records (see [`crate::access`]), so only
//! their pages are ever committed:
//! `[pairs: 128 GiB][meta: 16 GiB][meta-page bitmap: 512 KiB][extension: 256 GiB]`.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use crate::cell::CellPair;

/// Bytes of application memory per shadow pair.
pub const WORD: usize = 8;
const CHUNK_SHIFT: u32 = 36;
const CHUNK: usize = 1 << CHUNK_SHIFT;
const DIR_LEN: usize = 1 << (47 - CHUNK_SHIFT);
const PAIRS_BYTES: usize = CHUNK * 2;
const META_BYTES: usize = CHUNK / 2;
const PAGE: usize = 4096;
/// Application bytes whose meta words fill one meta page (4 bytes per 8-byte word).
const META_PAGE_SPAN: usize = PAGE * 2;
/// One bit per meta page.
const BITMAP_BYTES: usize = META_BYTES / PAGE / 8;
/// Extension cells per word (see [`ext_cells`]).
pub const EXT_CELLS: usize = 4;
/// Where the extension cells start in a region (page aligned: the parts before are).
const EXT_OFFSET: usize = PAIRS_BYTES + META_BYTES + BITMAP_BYTES;
const EXT_BYTES: usize = CHUNK / WORD * EXT_CELLS * 8;
const REGION_BYTES: usize = EXT_OFFSET + EXT_BYTES;
/// Application bytes whose pairs fill one shadow page (16 bytes per 8-byte word).
const PAIR_PAGE_SPAN: usize = PAGE / 2;
/// Resets spanning fewer whole shadow pages than this zero them word by word: a
/// `madvise` costs a system call and TLB shootdowns on every CPU running the program.
const DROP_MIN: usize = 16 * 1024;
/// The end of the user address space the directory covers.
const USER_END: usize = CHUNK * DIR_LEN;

/// Bytes of resident shadow handed back to the kernel (counted only while
/// [`COUNT_RELEASED`] is set: it costs a `mincore` per release).
pub static RELEASED: AtomicUsize = AtomicUsize::new(0);
/// Whether to count [`RELEASED`] (set by the runtime when statistics are printed).
pub static COUNT_RELEASED: AtomicBool = AtomicBool::new(false);

/// The directory. `delta[i]` is `region_base - chunk_start * 2` (wrapping) for
/// chunk `i`, or 0 while the chunk has no shadow.
pub struct ShadowMap {
    delta: [AtomicUsize; DIR_LEN],
}

#[allow(clippy::declare_interior_mutable_const)]
const UNMAPPED: AtomicUsize = AtomicUsize::new(0);

pub static MAP: ShadowMap = ShadowMap {
    delta: [UNMAPPED; DIR_LEN],
};

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
    let p = ((addr & !(WORD - 1)) & (CHUNK * DIR_LEN - 1))
        .wrapping_mul(2)
        .wrapping_add(d);
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
    let p = ((addr & !(WORD - 1)) & (CHUNK * DIR_LEN - 1))
        .wrapping_mul(2)
        .wrapping_add(d);
    // SAFETY: as in `pair_for`; `p` lies inside a mapped region, so it is not null
    // (telling the compiler saves a test on the fast path).
    unsafe {
        core::hint::assert_unchecked(p != 0);
        Some(&*(p as *const CellPair))
    }
}

/// The extension cells of the word containing `addr`, whose pair is `pair` (from
/// [`pair_for`] or [`pair_if_mapped`] of the same address). Four cells, 32 bytes
/// per word, after the pairs: the pair lies at `region + 2 × offset` and the cells at
/// `region + EXT_OFFSET + 4 × offset`, so they are found from the pair without
/// another directory load (the fast path uses this).
#[inline(always)]
pub fn ext_cells(addr: usize, pair: &CellPair) -> &'static [AtomicU64; EXT_CELLS] {
    let p = pair as *const CellPair as usize;
    let offset = chunk_offset(addr) & !(WORD - 1);
    let e = p + offset * 2 + EXT_OFFSET;
    // SAFETY: `pair` lies at `region + 2 × offset` of the region mapped for `addr`'s
    // chunk (the caller's contract), so `e` is `region + EXT_OFFSET + 4 × offset`:
    // inside the extension part (offset/8 × 32 < EXT_BYTES), 32-byte aligned, mapped
    // forever; atomics accept any bit pattern.
    unsafe { &*(e as *const [AtomicU64; EXT_CELLS]) }
}

/// The base of the region of `addr`'s chunk, given the chunk's delta.
#[inline]
fn region_base(addr: usize, delta: usize) -> usize {
    let chunk_start = addr & (USER_END - 1) & !(CHUNK - 1);
    delta.wrapping_add(chunk_start * 2)
}

/// The base of the region of `addr`'s chunk, if the chunk has shadow.
#[inline]
fn region_if_mapped(addr: usize) -> Option<usize> {
    let d = MAP.delta(addr);
    (d != 0).then(|| region_base(addr, d))
}

/// Offset of `addr` inside its chunk.
#[inline]
fn chunk_offset(addr: usize) -> usize {
    addr & (CHUNK - 1)
}

fn meta_at(region: usize, addr: usize) -> &'static AtomicU32 {
    let p = region + PAIRS_BYTES + (chunk_offset(addr) >> 3) * 4;
    // SAFETY: `p` is inside the meta part of the chunk's region (offset/8 × 4 <
    // META_BYTES), 4-byte aligned, mapped forever; AtomicU32 accepts any bits.
    unsafe { &*(p as *const AtomicU32) }
}

/// The bitmap word holding the bit of meta page `page` of the chunk at `region`.
fn bitmap_word(region: usize, page: usize) -> &'static AtomicU64 {
    let p = region + PAIRS_BYTES + META_BYTES + (page >> 6) * 8;
    // SAFETY: `page` < META_BYTES / PAGE, so `p` is inside the bitmap part of the
    // region (BITMAP_BYTES = one bit per meta page), 8-byte aligned, mapped forever.
    unsafe { &*(p as *const AtomicU64) }
}

/// The meta word of the word containing `addr` (0 = no sync object).
#[inline]
pub fn meta_word(addr: usize) -> &'static AtomicU32 {
    let d = MAP.delta_or_map(addr);
    meta_at(region_base(addr, d), addr)
}

/// The meta word of `addr`, for storing a new sync object's index into: marks its
/// meta page as used, so [`take_meta_range`] looks there.
pub fn meta_word_for_create(addr: usize) -> &'static AtomicU32 {
    let region = region_base(addr, MAP.delta_or_map(addr));
    let page = chunk_offset(addr) / META_PAGE_SPAN;
    let w = bitmap_word(region, page);
    let bit = 1u64 << (page & 63);
    // Relaxed: the bit only has to be seen by a later reset of this memory, which
    // the program orders after the creation (a free after the last use), and that
    // ordering makes the store visible; a reset racing with the creation is a bug of
    // the program, whose worst outcome is a sync object left behind. Load first: the
    // page's bit is usually set already, and a store would bounce the line.
    if w.load(Ordering::Relaxed) & bit == 0 {
        w.fetch_or(bit, Ordering::Relaxed);
    }
    meta_at(region, addr)
}

/// Clears the meta word of every word of `[addr, addr+size)` that has one, calling
/// `f(index)` for each index taken. Reads only the meta pages ever given a sync
/// object (see [`meta_word_for_create`]) in chunks that have shadow, so the cost
/// follows the sync objects in the range, not its size.
pub fn take_meta_range(addr: usize, size: usize, mut f: impl FnMut(u32)) {
    take_meta_range_at(addr, size, |_, i| f(i));
}

/// Like [`take_meta_range`], calling `f(word, index)` with the address of the word
/// each index was taken from (to move sync objects elsewhere).
pub fn take_meta_range_at(addr: usize, size: usize, mut f: impl FnMut(usize, u32)) {
    let start = addr & !(WORD - 1);
    let end = addr.saturating_add(size).min(USER_END);
    let mut lo = start;
    while lo < end {
        let hi = end.min((lo | (CHUNK - 1)) + 1);
        if let Some(region) = region_if_mapped(lo) {
            let chunk_start = lo & !(CHUNK - 1);
            let (p0, p1) = (
                chunk_offset(lo) / META_PAGE_SPAN,
                (hi - 1 - chunk_start) / META_PAGE_SPAN,
            );
            let mut w = p0 & !63;
            while w <= p1 {
                let word = bitmap_word(region, w);
                // Relaxed: see `meta_word_for_create`.
                let mut bits = word.load(Ordering::Relaxed);
                if w < p0 {
                    bits &= !0 << (p0 - w);
                }
                if p1 - w < 63 {
                    bits &= !(!0u64 << (p1 - w + 1));
                }
                while bits != 0 {
                    let page = w + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    let page_lo = chunk_start + page * META_PAGE_SPAN;
                    let (a0, a1) = (page_lo.max(lo), (page_lo + META_PAGE_SPAN).min(hi));
                    if a0 == page_lo && a1 == page_lo + META_PAGE_SPAN {
                        // The whole page is reset: no sync object is left on it.
                        // Relaxed: as for setting it.
                        word.fetch_and(!(1u64 << (page & 63)), Ordering::Relaxed);
                    }
                    let mut a = a0;
                    while a < a1 {
                        let m = meta_at(region, a);
                        // Relaxed load first: most words have no sync object. The
                        // swap is AcqRel: it takes the index published with Release
                        // by the creator, and the caller frees what it indexes.
                        if m.load(Ordering::Relaxed) != 0 {
                            let i = m.swap(0, Ordering::AcqRel);
                            if i != 0 {
                                f(a, i);
                            }
                        }
                        a += WORD;
                    }
                }
                w += 64;
            }
        }
        lo = hi;
    }
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
pub fn reset_range_with(addr: usize, size: usize, first: u64, spilled: impl FnMut(usize, usize)) {
    reset_range_marking(addr, size, first, usize::MAX, spilled);
}

/// Resets the shadow of `[addr, addr+size)`: the words of its first `marked` bytes
/// get `first` in their first cell (a freed marker; nothing if `first` is 0), all
/// others are emptied. Emptying skips chunks that never had shadow and hands whole
/// shadow pages back to the kernel, so it costs what the range holds, commits
/// nothing, and gives memory back. `spilled` is called as for [`reset_range_with`].
pub fn reset_range_marking(
    addr: usize,
    size: usize,
    first: u64,
    marked: usize,
    mut spilled: impl FnMut(usize, usize),
) {
    let start = addr & !(WORD - 1);
    let end = ((addr.saturating_add(size).min(USER_END)) + WORD - 1) & !(WORD - 1);
    let mark_end = if first == 0 {
        start
    } else {
        ((start.saturating_add(marked)).min(end) + WORD - 1) & !(WORD - 1)
    };
    set_words(start, mark_end, first, &mut spilled);
    let mut lo = mark_end;
    while lo < end {
        let hi = end.min((lo | (CHUNK - 1)) + 1);
        // A chunk without shadow holds no record: nothing to empty.
        if MAP.delta(lo) != 0 {
            // Shadow pages are page aligned in the region and cover PAIR_PAGE_SPAN
            // aligned application bytes each.
            let whole_lo = (lo + PAIR_PAGE_SPAN - 1) & !(PAIR_PAGE_SPAN - 1);
            let whole_hi = hi & !(PAIR_PAGE_SPAN - 1);
            if whole_hi > whole_lo && whole_hi - whole_lo >= DROP_MIN {
                set_words(lo, whole_lo, 0, &mut spilled);
                drop_pairs(whole_lo, whole_hi);
                spilled(whole_lo, whole_hi);
                set_words(whole_hi, hi, 0, &mut spilled);
            } else {
                set_words(lo, hi, 0, &mut spilled);
            }
        }
        lo = hi;
    }
}

/// Stores `first` into the first cell (and 0 into the second) of every word of
/// `[lo, hi)` (8-byte aligned), reporting spilled words.
fn set_words(lo: usize, hi: usize, first: u64, spilled: &mut impl FnMut(usize, usize)) {
    let mut a = lo;
    while a < hi {
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

/// Hands the shadow pages of `[lo, hi)` (whole shadow pages of one chunk that has
/// shadow) back to the kernel. Another thread may be accessing that memory (a bug of
/// the program: it races with the free or unmap that got us here); its loads then
/// read zeros, "no record", and its stores land in a fresh page. Neither can fault:
/// the region stays mapped.
fn drop_pairs(lo: usize, hi: usize) {
    let p = pair_for(lo) as *const CellPair as usize;
    let bytes = (hi - lo) * 2;
    // Relaxed: a flag read on its own.
    if COUNT_RELEASED.load(Ordering::Relaxed) {
        // Relaxed: a statistic.
        RELEASED.fetch_add(resident_bytes(p, bytes), Ordering::Relaxed);
    }
    let e = ext_cells(lo, pair_for(lo)) as *const _ as usize;
    if COUNT_RELEASED.load(Ordering::Relaxed) {
        // Relaxed: as above.
        RELEASED.fetch_add(resident_bytes(e, bytes * 2), Ordering::Relaxed);
    }
    // SAFETY: these shadow pages belong to words of `[lo, hi)` only (16 bytes per
    // word, page aligned, inside one chunk's region), private anonymous memory whose
    // contents we are discarding on purpose.
    unsafe { umbra_sys::madvise_dontneed(p as *mut u8, bytes) };
    // The words' extension cells go too (twice the pairs' bytes, also whole pages).
    // They are read only while a word's first cell is a spill marker, which the
    // pages just dropped no longer hold, so this only gives memory back.
    // SAFETY: as above, for the extension cells of the same words.
    unsafe { umbra_sys::madvise_dontneed(e as *mut u8, bytes * 2) };
}

/// Bytes of `[p, p+bytes)` (page aligned) that are resident.
fn resident_bytes(p: usize, bytes: usize) -> usize {
    let mut vec = [0u8; 4096];
    let step = vec.len() * PAGE;
    let mut total = 0;
    let mut a = p;
    while a < p + bytes {
        let len = step.min(p + bytes - a);
        if umbra_sys::mincore(a, len, &mut vec) == 0 {
            total += vec[..len / PAGE].iter().filter(|&&b| b & 1 != 0).count() * PAGE;
        }
        a += len;
    }
    total
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
            dirty += (p.cells[0].load(Ordering::Relaxed) | p.cells[1].load(Ordering::Relaxed) != 0)
                as usize;
        });
        assert_eq!(dirty, 0);
        reset_range_to(a + 8, 16, 0x400);
        assert_eq!(pair_for(a).cells[0].load(Ordering::Relaxed), 0);
        assert_eq!(pair_for(a + 8).cells[0].load(Ordering::Relaxed), 0x400);
        assert_eq!(pair_for(a + 16).cells[0].load(Ordering::Relaxed), 0x400);
        assert_eq!(pair_for(a + 24).cells[0].load(Ordering::Relaxed), 0);
    }

    fn cells(a: usize) -> (u64, u64) {
        let p = pair_for(a);
        (
            p.cells[0].load(Ordering::Relaxed),
            p.cells[1].load(Ordering::Relaxed),
        )
    }

    #[test]
    fn marking_reset_marks_the_head_and_empties_the_rest_keeping_neighbours() {
        // 1 MiB plus odd edges, so both ends fall inside shadow pages.
        let v = vec![0u64; (1 << 17) + 64];
        let base = (v.as_ptr() as usize + 4095) & !4095;
        let (lo, hi) = (base + 24, base + (1 << 20) + 40);
        for_each_word(base, 1 << 20 | 256, |_, p, _| {
            p.cells[0].store(0x1ff, Ordering::Relaxed);
            p.cells[1].store(0x2ff, Ordering::Relaxed);
        });
        reset_range_marking(lo, hi - lo, 0x400, 4096, |_, _| {});
        assert_eq!(cells(lo - 8), (0x1ff, 0x2ff), "word before the range");
        assert_eq!(cells(hi), (0x1ff, 0x2ff), "word after the range");
        assert_eq!(cells(lo), (0x400, 0));
        assert_eq!(cells(lo + 4088), (0x400, 0), "last marked word");
        assert_eq!(cells(lo + 4096), (0, 0), "first unmarked word");
        assert_eq!(cells(lo + (1 << 19)), (0, 0), "a dropped page");
        assert_eq!(cells(hi - 8), (0, 0), "last word of the range");
        // Small blocks are marked whole.
        reset_range_marking(lo + 8192, 64, 0x500, 4096, |_, _| {});
        assert_eq!(cells(lo + 8192 + 56), (0x500, 0));
        assert_eq!(cells(lo + 8192 + 64), (0, 0));
    }

    #[test]
    fn resets_of_chunks_without_shadow_map_nothing() {
        // A chunk no test touches (addresses inside 47 bits, far from the heap,
        // stacks and code of a test process).
        let far = 0x3a5 << CHUNK_SHIFT;
        reset_range(far - (32 << 30), 128 << 30);
        reset_range_with(far, 64 << 30, 0, |_, _| panic!("nothing was spilled there"));
        let mut taken = 0;
        take_meta_range(far - (32 << 30), 128 << 30, |_| taken += 1);
        assert_eq!(taken, 0);
        assert!(pair_if_mapped(far).is_none());
        assert!(pair_if_mapped(far + (1 << 30)).is_none());
    }

    #[test]
    fn take_meta_range_finds_created_meta_words_only_inside_the_range() {
        // Its own chunk, so other tests' meta words do not interfere.
        let c = 0x3b7 << CHUNK_SHIFT;
        let addrs = [
            c + 8,
            c + 8192 - 8,
            c + 8192,
            c + (5 << 30) + 24,
            c + CHUNK - 8,
        ];
        for (k, &a) in addrs.iter().enumerate() {
            meta_word_for_create(a).store(k as u32 + 1, Ordering::Relaxed);
        }
        // A meta word written without the bitmap bit is not looked at (the runtime
        // stores indexes only through `meta_word_for_create`).
        let mut seen = vec![];
        take_meta_range(c + 16, CHUNK - 24, |i| seen.push(i));
        seen.sort();
        assert_eq!(seen, vec![2, 3, 4]);
        assert_eq!(
            meta_word(c + 8).load(Ordering::Relaxed),
            1,
            "before the range: kept"
        );
        assert_eq!(
            meta_word(c + CHUNK - 8).load(Ordering::Relaxed),
            5,
            "after the range: kept"
        );
        assert_eq!(meta_word(c + 8192).load(Ordering::Relaxed), 0);
        // The whole second meta page was cleared, so its bit went with it; the
        // first page keeps its bit (its first word was outside the range).
        let region = region_if_mapped(c).unwrap();
        assert_eq!(bitmap_word(region, 0).load(Ordering::Relaxed) & 0b11, 0b01);
        let mut rest = vec![];
        take_meta_range(c, CHUNK, |i| rest.push(i));
        rest.sort();
        assert_eq!(rest, vec![1, 5]);
    }

    #[test]
    fn for_each_word_masks_edges() {
        let mut seen = vec![];
        for_each_word(0x1006, 12, |w, _, m| seen.push((w, m)));
        assert_eq!(
            seen,
            vec![(0x1000, 0b1100_0000), (0x1008, 0xff), (0x1010, 0b11)]
        );
    }
}
