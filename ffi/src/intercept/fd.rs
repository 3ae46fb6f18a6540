//! File descriptors as synchronization: data written to a pipe or socket happens
//! before it is read from the other end. Each fd has a sync object at a synthetic
//! address; writes release into it, reads acquire from it, and `pipe`/`socketpair`
//! make both ends share one object.

use core::ffi::c_int;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::intercept::scope::ScopedInterceptor;
use crate::real::{self, Ptr};
use crate::sync;
use crate::thread::Unknown;

const MAX_FD: usize = 1 << 16;
/// fd → index of the sync object it shares (0 = itself).
static FD_BASE: AtomicUsize = AtomicUsize::new(0);

fn region() -> usize {
    let b = FD_BASE.load(Ordering::Acquire);
    if b != 0 {
        return b;
    }
    let p = umbra_sys::mmap_anon(MAX_FD * 16, true)
        .map(|p| p as usize)
        .unwrap_or(0);
    match FD_BASE.compare_exchange(0, p, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => p,
        Err(o) => o,
    }
}

/// The synthetic address of fd's sync object (pipes: both ends share one).
fn addr(fd: c_int) -> Option<usize> {
    if fd < 0 || fd as usize >= MAX_FD {
        return None;
    }
    let r = region();
    // SAFETY: the region holds MAX_FD pairs of words: [link, sync word].
    let link = unsafe { *((r + fd as usize * 16) as *const usize) };
    Some(if link != 0 {
        link
    } else {
        r + fd as usize * 16 + 8
    })
}

fn link(a: c_int, b: c_int) {
    if let (Some(x), true) = (addr(a), (b as usize) < MAX_FD && b >= 0) {
        let r = region();
        sync::reset_range(x, 8);
        // SAFETY: inside the region, written only here and in `unlink`.
        unsafe { *((r + b as usize * 16) as *mut usize) = x };
    }
}

fn unlink(fd: c_int) {
    if fd >= 0 && (fd as usize) < MAX_FD {
        let r = region();
        // SAFETY: as in `link`.
        unsafe { *((r + fd as usize * 16) as *mut usize) = 0 };
        sync::reset_range(r + fd as usize * 16 + 8, 8);
    }
}

fn released(icpt: &ScopedInterceptor, fd: c_int) {
    icpt.rt(|thr| {
        if let Some(a) = addr(fd) {
            sync::release(thr, a)
        }
    });
}

fn acquired(icpt: &ScopedInterceptor, fd: c_int) {
    icpt.rt(|thr| {
        if let Some(a) = addr(fd) {
            sync::acquire(thr, a)
        }
    });
}

macro_rules! writer {
    ($($name:ident ( $fd:ident : c_int $(, $a:ident : $t:ty)* ) -> $r:ty;)*) => {$(
        #[no_mangle]
        pub unsafe extern "C" fn $name($fd: c_int $(, $a: $t)*) -> $r {
            let icpt = ScopedInterceptor::enter(Unknown::Attach);
            released(&icpt, $fd);
            // SAFETY: forwarded.
            unsafe { real::$name($fd $(, $a)*) }
        }
    )*};
}
macro_rules! reader {
    ($($name:ident ( $fd:ident : c_int $(, $a:ident : $t:ty)* ) -> $r:ty;)*) => {$(
        #[no_mangle]
        pub unsafe extern "C" fn $name($fd: c_int $(, $a: $t)*) -> $r {
            let icpt = ScopedInterceptor::enter(Unknown::Attach);
            // SAFETY: forwarded.
            let r = unsafe { real::$name($fd $(, $a)*) };
            if r >= 0 { acquired(&icpt, $fd); }
            r
        }
    )*};
}

writer! {
    write(fd: c_int, b: Ptr, n: usize) -> isize;
    pwrite64(fd: c_int, b: Ptr, n: usize, off: i64) -> isize;
    writev(fd: c_int, v: Ptr, n: c_int) -> isize;
    send(fd: c_int, b: Ptr, n: usize, f: c_int) -> isize;
    sendto(fd: c_int, b: Ptr, n: usize, f: c_int, a: Ptr, l: u32) -> isize;
    sendmsg(fd: c_int, m: Ptr, f: c_int) -> isize;
}
reader! {
    read(fd: c_int, b: Ptr, n: usize) -> isize;
    pread64(fd: c_int, b: Ptr, n: usize, off: i64) -> isize;
    readv(fd: c_int, v: Ptr, n: c_int) -> isize;
    recv(fd: c_int, b: Ptr, n: usize, f: c_int) -> isize;
    recvfrom(fd: c_int, b: Ptr, n: usize, f: c_int, a: Ptr, l: Ptr) -> isize;
    recvmsg(fd: c_int, m: Ptr, f: c_int) -> isize;
}

#[no_mangle]
pub unsafe extern "C" fn pipe(fds: *mut c_int) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    let r = unsafe { real::pipe(fds) };
    if r == 0 {
        // SAFETY: pipe filled both.
        icpt.rt_global(|| unsafe { link(*fds, *fds.add(1)) });
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn pipe2(fds: *mut c_int, f: c_int) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    let r = unsafe { real::pipe2(fds, f) };
    if r == 0 {
        // SAFETY: pipe2 filled both.
        icpt.rt_global(|| unsafe { link(*fds, *fds.add(1)) });
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn socketpair(d: c_int, t: c_int, p: c_int, fds: *mut c_int) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    let r = unsafe { real::socketpair(d, t, p, fds) };
    if r == 0 {
        // SAFETY: socketpair filled both.
        icpt.rt_global(|| unsafe { link(*fds, *fds.add(1)) });
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn close(fd: c_int) -> c_int {
    ScopedInterceptor::enter(Unknown::Attach).rt_global(|| unlink(fd));
    // SAFETY: forwarded.
    unsafe { real::close(fd) }
}

/// `close(fd)` made by a raw syscall (the `__sanitizer_syscall_pre_impl_close` hook).
pub fn syscall_close(fd: c_int) {
    crate::thread::in_runtime(|| unlink(fd));
}

/// An acquire from `fd` by a raw syscall (epoll waits' `post` hooks).
pub fn syscall_acquire(fd: c_int) {
    crate::thread::with_thread(|thr| {
        if let Some(a) = addr(fd) {
            sync::acquire(thr, a)
        }
    });
}
