//! The one hashing helper of the runtime's direct-mapped caches and sharded
//! tables: Fibonacci hashing (multiply by 2^64 / φ, keep the top bits), which
//! spreads keys that differ only in a few middle bits, such as aligned addresses
//! or return addresses, over every slot.

/// 2^64 / φ, rounded to odd.
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The slot of `key` in a table of `len` slots (a power of two, at least 2).
#[inline(always)]
pub fn slot(key: u64, len: usize) -> usize {
    debug_assert!(len.is_power_of_two() && len >= 2);
    (key.wrapping_mul(GOLDEN) >> (64 - len.trailing_zeros())) as usize
}
