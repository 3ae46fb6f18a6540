//! Memory and string functions: the runtime's own copies, and the interceptors that
//! check the ranges a program's `memcpy`, `memset`, `strcpy`, ... touch.
//!
//! The runtime is linked into the program, so its own compiler-generated `memcpy`
//! calls would land in the interceptor. `umbra build` therefore renames every
//! reference to `memcpy`, `memmove`, `memset`, `memcmp` and `bcmp` inside the
//! runtime object to the `__umbra_rt_*` versions below (plain `rep movsb` and
//! friends, which the compiler cannot turn back into calls), and renames the
//! `umbra_export_*` trampolines to the libc names the program binds to.

use core::ffi::{c_char, c_int};

use crate::entry::AccessKind::{Read, Write};
use crate::entry::{caller_pc, range_access};
use crate::intercept::scope::ScopedInterceptor;
use crate::thread::Unknown;

#[no_mangle]
pub unsafe extern "C" fn __umbra_rt_memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller guarantees memcpy's contract (valid, non-overlapping).
    unsafe {
        core::arch::asm!("rep movsb", inout("rcx") n => _, inout("rdi") dst => _, inout("rsi") src => _, options(nostack, preserves_flags));
    }
    dst
}

#[no_mangle]
pub unsafe extern "C" fn __umbra_rt_memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize).wrapping_sub(src as usize) >= n {
        // Forward copy is safe: dst is below src or past the end of src.
        // SAFETY: memmove's contract.
        unsafe { __umbra_rt_memcpy(dst, src, n) };
    } else {
        // SAFETY: memmove's contract; copying backwards from the last byte with the
        // direction flag set, which is cleared again before returning.
        unsafe {
            core::arch::asm!("std", "rep movsb", "cld",
                inout("rcx") n => _, inout("rdi") dst.add(n).wrapping_sub(1) => _, inout("rsi") src.add(n).wrapping_sub(1) => _,
                options(nostack));
        }
    }
    dst
}

#[no_mangle]
pub unsafe extern "C" fn __umbra_rt_memset(dst: *mut u8, c: c_int, n: usize) -> *mut u8 {
    // SAFETY: memset's contract.
    unsafe {
        core::arch::asm!("rep stosb", inout("rcx") n => _, inout("rdi") dst => _, in("al") c as u8, options(nostack, preserves_flags));
    }
    dst
}

#[no_mangle]
pub unsafe extern "C" fn __umbra_rt_memcmp(a: *const u8, b: *const u8, n: usize) -> c_int {
    let mut i = 0;
    while i < n {
        // SAFETY: memcmp's contract; volatile keeps this loop from becoming a call.
        let (x, y) = unsafe {
            (
                core::ptr::read_volatile(a.add(i)),
                core::ptr::read_volatile(b.add(i)),
            )
        };
        if x != y {
            return x as c_int - y as c_int;
        }
        i += 1;
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn __umbra_rt_bcmp(a: *const u8, b: *const u8, n: usize) -> c_int {
    // SAFETY: forwarded.
    unsafe { __umbra_rt_memcmp(a, b, n) }
}

#[no_mangle]
pub unsafe extern "C" fn __umbra_rt_strlen(s: *const c_char) -> usize {
    // SAFETY: NUL-terminated per strlen's contract.
    unsafe { strlen(s) }
}

/// Is this call from the program (not the runtime, not before init)?
#[inline]
fn checked() -> bool {
    ScopedInterceptor::enter(Unknown::Skip).called_by_program()
}

unsafe fn strlen(s: *const c_char) -> usize {
    let mut n = 0;
    // SAFETY: NUL-terminated per the string function's contract.
    while unsafe { core::ptr::read_volatile(s.add(n)) } != 0 {
        n += 1;
    }
    n
}

/// `memcpy` and `memmove`: read `src`, write `dst` (memmove semantics for both, so
/// overlapping buffers passed to memcpy still come out right).
#[inline(always)]
unsafe fn copy_checked(dst: *mut u8, src: *const u8, n: usize, pc: u64) -> *mut u8 {
    if checked() {
        range_access(src as usize, n, Read, pc);
        range_access(dst as usize, n, Write, pc);
    }
    // SAFETY: the caller's memcpy/memmove contract.
    unsafe { __umbra_rt_memmove(dst, src, n) }
}

#[no_mangle]
pub unsafe extern "C" fn __umbra_icpt_memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: forwarded.
    unsafe { copy_checked(dst, src, n, caller_pc()) }
}

#[no_mangle]
pub unsafe extern "C" fn __umbra_icpt_memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: forwarded.
    unsafe { copy_checked(dst, src, n, caller_pc()) }
}

#[no_mangle]
pub unsafe extern "C" fn __umbra_icpt_memset(dst: *mut u8, c: c_int, n: usize) -> *mut u8 {
    if checked() {
        range_access(dst as usize, n, Write, caller_pc());
    }
    // SAFETY: forwarded.
    unsafe { __umbra_rt_memset(dst, c, n) }
}

#[no_mangle]
pub unsafe extern "C" fn __umbra_icpt_memcmp(a: *const u8, b: *const u8, n: usize) -> c_int {
    if checked() {
        let pc = caller_pc();
        range_access(a as usize, n, Read, pc);
        range_access(b as usize, n, Read, pc);
    }
    // SAFETY: forwarded.
    unsafe { __umbra_rt_memcmp(a, b, n) }
}

#[no_mangle]
pub unsafe extern "C" fn __umbra_icpt_bcmp(a: *const u8, b: *const u8, n: usize) -> c_int {
    // SAFETY: forwarded.
    unsafe { __umbra_icpt_memcmp(a, b, n) }
}

// The exported names; `umbra build` renames `umbra_export_X` to `X`.
core::arch::global_asm!(
    ".globl umbra_export_memcpy",
    ".type umbra_export_memcpy,@function",
    "umbra_export_memcpy: jmp __umbra_icpt_memcpy",
    ".globl umbra_export_memmove",
    ".type umbra_export_memmove,@function",
    "umbra_export_memmove: jmp __umbra_icpt_memmove",
    ".globl umbra_export_memset",
    ".type umbra_export_memset,@function",
    "umbra_export_memset: jmp __umbra_icpt_memset",
    ".globl umbra_export_memcmp",
    ".type umbra_export_memcmp,@function",
    "umbra_export_memcmp: jmp __umbra_icpt_memcmp",
    ".globl umbra_export_bcmp",
    ".type umbra_export_bcmp,@function",
    "umbra_export_bcmp: jmp __umbra_icpt_bcmp",
);

#[no_mangle]
pub unsafe extern "C" fn __tsan_memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: forwarded.
    unsafe { __umbra_icpt_memcpy(dst, src, n) }
}

#[no_mangle]
pub unsafe extern "C" fn __tsan_memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: forwarded.
    unsafe { __umbra_icpt_memmove(dst, src, n) }
}

#[no_mangle]
pub unsafe extern "C" fn __tsan_memset(dst: *mut u8, c: c_int, n: usize) -> *mut u8 {
    // SAFETY: forwarded.
    unsafe { __umbra_icpt_memset(dst, c, n) }
}

#[no_mangle]
pub unsafe extern "C" fn strcpy(dst: *mut c_char, src: *const c_char) -> *mut c_char {
    // SAFETY: strcpy's contract.
    let n = unsafe { strlen(src) } + 1;
    if checked() {
        let pc = caller_pc();
        range_access(src as usize, n, Read, pc);
        range_access(dst as usize, n, Write, pc);
    }
    // SAFETY: as above.
    unsafe { __umbra_rt_memcpy(dst as *mut u8, src as *const u8, n) };
    dst
}

#[no_mangle]
pub unsafe extern "C" fn strncpy(dst: *mut c_char, src: *const c_char, n: usize) -> *mut c_char {
    let mut len = 0;
    // SAFETY: strncpy reads at most n bytes or up to the NUL.
    while len < n && unsafe { *src.add(len) } != 0 {
        len += 1;
    }
    if checked() {
        let pc = caller_pc();
        range_access(src as usize, (len + 1).min(n), Read, pc);
        range_access(dst as usize, n, Write, pc);
    }
    // SAFETY: as above; the rest of dst is zero-filled as strncpy requires.
    unsafe {
        __umbra_rt_memcpy(dst as *mut u8, src as *const u8, len);
        __umbra_rt_memset((dst as *mut u8).add(len), 0, n - len);
    }
    dst
}

#[no_mangle]
pub unsafe extern "C" fn strcat(dst: *mut c_char, src: *const c_char) -> *mut c_char {
    // SAFETY: strcat's contract.
    let (d, s) = unsafe { (strlen(dst), strlen(src) + 1) };
    if checked() {
        let pc = caller_pc();
        range_access(src as usize, s, Read, pc);
        range_access(dst as usize, d, Read, pc);
        range_access(dst as usize + d, s, Write, pc);
    }
    // SAFETY: as above.
    unsafe { __umbra_rt_memcpy((dst as *mut u8).add(d), src as *const u8, s) };
    dst
}

#[no_mangle]
pub unsafe extern "C" fn strdup(src: *const c_char) -> *mut c_char {
    // SAFETY: strdup's contract.
    let n = unsafe { strlen(src) } + 1;
    if checked() {
        range_access(src as usize, n, Read, caller_pc());
    }
    // SAFETY: malloc returns n writable bytes or null.
    let p = unsafe { crate::intercept::app_heap::malloc(n) } as *mut u8;
    if !p.is_null() {
        // SAFETY: both ranges valid for n bytes.
        unsafe { __umbra_rt_memcpy(p, src as *const u8, n) };
    }
    p as *mut c_char
}
