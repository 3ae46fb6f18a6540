//! Raw Linux x86_64 system calls and the few primitives every umbra crate needs:
//! anonymous `mmap` regions, a spin lock, and message output. The runtime sits
//! underneath the program's libc and intercepts much of it, so nothing here calls
//! libc: every kernel entry is an inline `syscall` instruction, nothing allocates,
//! and all of it is usable before the runtime is initialized and from any thread.
#![cfg_attr(not(test), no_std)]

use core::cell::UnsafeCell;
use core::fmt;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicU32, Ordering};

pub mod nr {
    pub const READ: usize = 0;
    pub const WRITE: usize = 1;
    pub const OPEN: usize = 2;
    pub const CLOSE: usize = 3;
    pub const FSTAT: usize = 5;
    pub const MMAP: usize = 9;
    pub const MPROTECT: usize = 10;
    pub const MUNMAP: usize = 11;
    pub const SCHED_YIELD: usize = 24;
    pub const MINCORE: usize = 27;
    pub const MADVISE: usize = 28;
    pub const NANOSLEEP: usize = 35;
    pub const GETPID: usize = 39;
    pub const EXIT: usize = 60;
    pub const KILL: usize = 62;
    pub const READLINK: usize = 89;
    pub const GETRUSAGE: usize = 98;
    pub const GETTID: usize = 186;
    pub const TGKILL: usize = 234;
    pub const FUTEX: usize = 202;
    pub const CLOCK_GETTIME: usize = 228;
    pub const EXIT_GROUP: usize = 231;
    pub const OPENAT: usize = 257;
}

/// Issues a system call with up to six arguments; returns the raw kernel result
/// (negative errno on failure).
#[inline(always)]
pub fn syscall6(
    n: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
    a6: usize,
) -> isize {
    let ret: isize;
    // SAFETY: the `syscall` instruction clobbers only rax (result), rcx and r11, which
    // are declared; the kernel does not touch our stack. Whether the call itself is
    // memory-safe depends on its arguments, which every wrapper below documents.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") n as isize => ret,
            in("rdi") a1, in("rsi") a2, in("rdx") a3, in("r10") a4, in("r8") a5, in("r9") a6,
            lateout("rcx") _, lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

#[inline(always)]
pub fn syscall3(n: usize, a1: usize, a2: usize, a3: usize) -> isize {
    syscall6(n, a1, a2, a3, 0, 0, 0)
}

pub const PROT_NONE: usize = 0;
pub const PROT_READ: usize = 1;
pub const PROT_WRITE: usize = 2;
pub const MAP_PRIVATE: usize = 0x02;
pub const MAP_FIXED: usize = 0x10;
pub const MAP_ANONYMOUS: usize = 0x20;
pub const MAP_NORESERVE: usize = 0x4000;
pub const MADV_DONTNEED: usize = 4;
pub const O_RDONLY: usize = 0;
pub const O_CLOEXEC: usize = 0o2000000;

/// Reserves `len` bytes of zero-filled anonymous memory. With `noreserve` the pages
/// are neither committed nor counted against overcommit until first touched, which
/// is how shadow regions much larger than the memory in use stay cheap.
/// Returns `None` when the kernel refuses.
pub fn mmap_anon(len: usize, noreserve: bool) -> Option<*mut u8> {
    let flags = MAP_PRIVATE | MAP_ANONYMOUS | if noreserve { MAP_NORESERVE } else { 0 };
    let r = syscall6(
        nr::MMAP,
        0,
        len,
        PROT_READ | PROT_WRITE,
        flags,
        usize::MAX,
        0,
    );
    if r < 0 {
        None
    } else {
        Some(r as *mut u8)
    }
}

/// Maps a whole file read-only; returns the address and length.
pub fn mmap_file(path: &[u8]) -> Option<(*const u8, usize)> {
    let fd = open_readonly(path)?;
    let mut st = [0u64; 18]; // struct stat is 144 bytes on x86_64
    let r = syscall3(nr::FSTAT, fd, st.as_mut_ptr() as usize, 0);
    let size = st[6] as usize; // st_size
    let out = if r < 0 || size == 0 {
        None
    } else {
        let p = syscall6(nr::MMAP, 0, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if p < 0 {
            None
        } else {
            Some((p as *const u8, size))
        }
    };
    close(fd);
    out
}

/// Opens `path` (without a trailing NUL; at most 4095 bytes) read-only.
pub fn open_readonly(path: &[u8]) -> Option<usize> {
    let mut buf = [0u8; 4096];
    if path.len() >= buf.len() {
        return None;
    }
    buf[..path.len()].copy_from_slice(path);
    let r = syscall3(nr::OPEN, buf.as_ptr() as usize, O_RDONLY | O_CLOEXEC, 0);
    if r < 0 {
        None
    } else {
        Some(r as usize)
    }
}

/// Creates (or truncates; with `append`, appends to) `path` for writing, mode 0644.
pub fn open_write(path: &[u8], append: bool) -> Option<usize> {
    const O_WRONLY: usize = 1;
    const O_CREAT: usize = 0o100;
    const O_TRUNC: usize = 0o1000;
    const O_APPEND: usize = 0o2000;
    let mut buf = [0u8; 4096];
    if path.len() >= buf.len() {
        return None;
    }
    buf[..path.len()].copy_from_slice(path);
    let flags = O_WRONLY | O_CREAT | O_CLOEXEC | if append { O_APPEND } else { O_TRUNC };
    let r = syscall3(nr::OPEN, buf.as_ptr() as usize, flags, 0o644);
    if r < 0 {
        None
    } else {
        Some(r as usize)
    }
}

pub fn read(fd: usize, buf: &mut [u8]) -> isize {
    syscall3(nr::READ, fd, buf.as_mut_ptr() as usize, buf.len())
}

pub fn close(fd: usize) {
    syscall3(nr::CLOSE, fd, 0, 0);
}

/// Releases a mapping made by [`mmap_anon`] or [`mmap_file`].
///
/// # Safety
/// `[addr, addr+len)` must be a mapping nothing references any more.
pub unsafe fn munmap(addr: *mut u8, len: usize) {
    syscall3(nr::MUNMAP, addr as usize, len, 0);
}

/// Returns the pages of `[addr, addr+len)` to the kernel; they read as zero afterwards.
///
/// # Safety
/// The range must be private anonymous memory owned by the caller whose contents may
/// be discarded.
pub unsafe fn madvise_dontneed(addr: *mut u8, len: usize) {
    syscall3(nr::MADVISE, addr as usize, len, MADV_DONTNEED);
}

/// Which pages of `[addr, addr+len)` are resident: one byte per page in `vec` (bit 0
/// set = resident), `len` at most `vec.len()` pages. Returns the raw kernel result
/// (0, or a negative errno such as -ENOMEM for a range that is not mapped).
pub fn mincore(addr: usize, len: usize, vec: &mut [u8]) -> isize {
    if len.div_ceil(4096) > vec.len() {
        return -22; // EINVAL: would overflow `vec`
    }
    syscall3(nr::MINCORE, addr, len, vec.as_mut_ptr() as usize)
}

/// Writes all of `bytes` to `fd`, retrying on short writes and EINTR.
pub fn write_all(fd: usize, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        let r = syscall3(nr::WRITE, fd, bytes.as_ptr() as usize, bytes.len());
        if r == -4 {
            continue; // EINTR
        }
        if r <= 0 {
            return;
        }
        bytes = &bytes[r as usize..];
    }
}

pub fn getpid() -> u32 {
    syscall3(nr::GETPID, 0, 0, 0) as u32
}

pub fn gettid() -> u32 {
    syscall3(nr::GETTID, 0, 0, 0) as u32
}

pub fn sched_yield() {
    syscall3(nr::SCHED_YIELD, 0, 0, 0);
}

/// Monotonic time in nanoseconds.
pub fn monotonic_ns() -> u64 {
    let mut ts = [0i64; 2];
    syscall3(nr::CLOCK_GETTIME, 1, ts.as_mut_ptr() as usize, 0);
    ts[0] as u64 * 1_000_000_000 + ts[1] as u64
}

/// Wall-clock time: nanoseconds since the Unix epoch (`CLOCK_REALTIME`).
pub fn realtime_ns() -> u64 {
    let mut ts = [0i64; 2];
    syscall3(nr::CLOCK_GETTIME, 0, ts.as_mut_ptr() as usize, 0);
    ts[0] as u64 * 1_000_000_000 + ts[1] as u64
}

/// Sleeps for `ns` nanoseconds (less if a signal interrupts the sleep).
pub fn sleep_ns(ns: u64) {
    let ts = [(ns / 1_000_000_000) as i64, (ns % 1_000_000_000) as i64];
    syscall3(nr::NANOSLEEP, ts.as_ptr() as usize, 0, 0);
}

/// Ends the whole process immediately, running no atexit handlers.
pub fn exit_group(code: i32) -> ! {
    loop {
        syscall3(nr::EXIT_GROUP, code as usize, 0, 0);
    }
}

/// Waits while `*word == expected` (FUTEX_WAIT_PRIVATE).
pub fn futex_wait(word: &AtomicU32, expected: u32) {
    syscall6(
        nr::FUTEX,
        word as *const AtomicU32 as usize,
        128,
        expected as usize,
        0,
        0,
        0,
    );
}

/// Wakes up to `n` waiters on `word` (FUTEX_WAKE_PRIVATE).
pub fn futex_wake(word: &AtomicU32, n: u32) {
    syscall6(
        nr::FUTEX,
        word as *const AtomicU32 as usize,
        129,
        n as usize,
        0,
        0,
        0,
    );
}

/// A fixed-capacity text buffer on the stack, for messages that must be formatted
/// without allocating (internal errors, option diagnostics before the heap exists).
pub struct StackBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> StackBuf<N> {
    pub const fn new() -> Self {
        StackBuf {
            buf: [0; N],
            len: 0,
        }
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl<const N: usize> Default for StackBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Write for StackBuf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(N - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Prints `umbra: <message>` to stderr without allocating.
pub fn eprint_fmt(args: fmt::Arguments) {
    let mut b = StackBuf::<1024>::new();
    let _ = fmt::Write::write_fmt(&mut b, args);
    write_all(2, b.as_bytes());
}

/// Prints `umbra: internal error: ...` and aborts the process (SIGABRT, like
/// `abort()`, without calling into libc).
#[cold]
pub fn internal_error(args: fmt::Arguments) -> ! {
    eprint_fmt(format_args!("umbra: internal error: {}\n", args));
    abort()
}

/// Raises SIGABRT on the calling thread and never returns.
pub fn abort() -> ! {
    let pid = getpid();
    let tid = gettid();
    syscall3(nr::TGKILL, pid as usize, tid as usize, 6);
    exit_group(134)
}

/// A test-and-test-and-set spin lock guarding `T`, with futex sleeping once spinning
/// has gone on for a while. Used for runtime-internal state on slow paths only; it
/// never calls into libc, so it is safe inside interceptors and allocators.
pub struct SpinMutex<T> {
    /// 0 = unlocked, 1 = locked, 2 = locked with possible sleepers.
    state: AtomicU32,
    value: UnsafeCell<T>,
}

// SAFETY: the lock serializes all access to `value`, so sharing the mutex between
// threads is as safe as sending `T` between them.
unsafe impl<T: Send> Sync for SpinMutex<T> {}
// SAFETY: owning the mutex is owning the `T`.
unsafe impl<T: Send> Send for SpinMutex<T> {}

impl<T> SpinMutex<T> {
    pub const fn new(value: T) -> Self {
        SpinMutex {
            state: AtomicU32::new(0),
            value: UnsafeCell::new(value),
        }
    }

    #[inline]
    pub fn lock(&self) -> SpinGuard<'_, T> {
        // Acquire: everything the previous holder wrote before its Release unlock is
        // visible to us.
        if self
            .state
            .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
        SpinGuard { m: self }
    }

    #[cold]
    fn lock_contended(&self) {
        let mut spins = 0u32;
        loop {
            let s = self.state.load(Ordering::Relaxed);
            if s == 0 && spins <= 100 {
                // Acquire, as in `lock`.
                if self
                    .state
                    .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
                {
                    return;
                }
            } else if spins < 100 {
                core::hint::spin_loop();
            } else {
                // Announce a sleeper, then sleep until an unlock wakes us. Acquire
                // because we may come out of the swap owning the lock.
                if self.state.swap(2, Ordering::Acquire) == 0 {
                    return;
                }
                futex_wait(&self.state, 2);
            }
            spins += 1;
        }
    }

    /// Takes the lock without a guard (held until [`SpinMutex::force_unlock`]); for
    /// holding every runtime lock across `fork`.
    pub fn lock_raw(&self) {
        core::mem::forget(self.lock());
    }

    /// Releases a lock taken with [`SpinMutex::lock_raw`].
    ///
    /// # Safety
    /// The caller must hold the lock through `lock_raw` (or be the only thread of a
    /// forked child, where every holder is gone) and hold no reference obtained
    /// through a guard.
    pub unsafe fn force_unlock(&self) {
        // Release: publishes writes made under the lock, as a guard's drop does.
        if self.state.swap(0, Ordering::Release) == 2 {
            futex_wake(&self.state, 1);
        }
    }

    /// Mutable access without locking, when the caller owns the mutex exclusively.
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }
}

pub struct SpinGuard<'a, T> {
    m: &'a SpinMutex<T>,
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while the lock is held.
        unsafe { &*self.m.value.get() }
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard exists only while the lock is held, and `&mut self`
        // makes this the only reference derived from it.
        unsafe { &mut *self.m.value.get() }
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    fn drop(&mut self) {
        // Release: publishes our writes to `value` to the next locker.
        if self.m.state.swap(0, Ordering::Release) == 2 {
            futex_wake(&self.m.state, 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn spin_mutex_counts_exactly() {
        let m = Arc::new(SpinMutex::new(0u64));
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        *m.lock() += 1;
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(*m.lock(), 80_000);
    }

    #[test]
    fn mmap_is_zeroed_and_writable() {
        let p = mmap_anon(1 << 20, true).unwrap();
        unsafe {
            assert_eq!(*p.add(12345), 0);
            *p.add(12345) = 7;
            assert_eq!(*p.add(12345), 7);
            madvise_dontneed(p, 1 << 20);
            assert_eq!(*p.add(12345), 0);
            munmap(p, 1 << 20);
        }
    }

    #[test]
    fn stack_buf_truncates() {
        use core::fmt::Write;
        let mut b = StackBuf::<4>::new();
        write!(b, "hello").unwrap();
        assert_eq!(b.as_bytes(), b"hell");
    }

    #[test]
    fn ids() {
        assert_eq!(getpid(), std::process::id());
        assert!(gettid() > 0);
    }
}
