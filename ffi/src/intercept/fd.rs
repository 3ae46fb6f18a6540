//! The libc calls that create, duplicate, pass, use and close file descriptors,
//! each turned into the fd model of `crate::fdtable` as compiler-rt's interceptors
//! do: creations (open, pipe, socket, eventfd, epoll, ...), duplications (dup,
//! dup2, dup3, fcntl F_DUPFD), transfers (accept, connect, fds received with
//! SCM_RIGHTS), data moving through an fd (a write releases before the call, a
//! read acquires after a successful one), and closes (before the real close).
//! Variadic functions (open, openat, fcntl) take their optional argument as a
//! fixed one: on x86-64 a variadic integer argument travels in the same register
//! as a fixed one, and the real function ignores it when it has no meaning.

use core::ffi::{c_char, c_int, c_uint};

use crate::entry::caller_pc;
use crate::fdtable::{self, CloseAccess, FdKind};
use crate::intercept::scope::ScopedInterceptor;
use crate::real::Ptr;
use crate::thread::Unknown;

/// The real functions behind this module's interceptors (not in `crate::real`:
/// only these interceptors call them).
mod libc {
    use core::ffi::{c_char, c_int, c_uint};

    use crate::real::{real_fns, Ptr};

    real_fns! {
    fn open(path: *const c_char, flags: c_int, mode: c_uint) -> c_int;
    fn open64(path: *const c_char, flags: c_int, mode: c_uint) -> c_int;
    fn openat(dirfd: c_int, path: *const c_char, flags: c_int, mode: c_uint) -> c_int;
    fn openat64(dirfd: c_int, path: *const c_char, flags: c_int, mode: c_uint) -> c_int;
    fn creat(path: *const c_char, mode: c_uint) -> c_int;
    fn creat64(path: *const c_char, mode: c_uint) -> c_int;
    fn dup(fd: c_int) -> c_int;
    fn dup2(fd: c_int, newfd: c_int) -> c_int;
    fn dup3(fd: c_int, newfd: c_int, flags: c_int) -> c_int;
    fn fcntl(fd: c_int, cmd: c_int, arg: usize) -> c_int;
    fn fcntl64(fd: c_int, cmd: c_int, arg: usize) -> c_int;
    fn socket(domain: c_int, ty: c_int, proto: c_int) -> c_int;
    fn connect(fd: c_int, addr: Ptr, len: u32) -> c_int;
    fn accept(fd: c_int, addr: Ptr, len: Ptr) -> c_int;
    fn accept4(fd: c_int, addr: Ptr, len: Ptr, flags: c_int) -> c_int;
    fn bind(fd: c_int, addr: Ptr, len: u32) -> c_int;
    fn listen(fd: c_int, backlog: c_int) -> c_int;
    fn epoll_create(size: c_int) -> c_int;
    fn epoll_create1(flags: c_int) -> c_int;
    fn epoll_ctl(epfd: c_int, op: c_int, fd: c_int, ev: Ptr) -> c_int;
    fn epoll_wait(epfd: c_int, ev: Ptr, n: c_int, timeout: c_int) -> c_int;
    fn epoll_pwait(epfd: c_int, ev: Ptr, n: c_int, timeout: c_int, mask: Ptr) -> c_int;
    fn epoll_pwait2(epfd: c_int, ev: Ptr, n: c_int, timeout: Ptr, mask: Ptr) -> c_int;
    fn eventfd(init: c_uint, flags: c_int) -> c_int;
    fn eventfd_read(fd: c_int, value: *mut u64) -> c_int;
    fn eventfd_write(fd: c_int, value: u64) -> c_int;
    fn signalfd(fd: c_int, mask: Ptr, flags: c_int) -> c_int;
    fn timerfd_create(clock: c_int, flags: c_int) -> c_int;
    fn inotify_init() -> c_int;
    fn inotify_init1(flags: c_int) -> c_int;
    fn __close(fd: c_int) -> c_int;
    fn fopen(path: *const c_char, mode: *const c_char) -> Ptr;
    fn fopen64(path: *const c_char, mode: *const c_char) -> Ptr;
    fn fdopen(fd: c_int, mode: *const c_char) -> Ptr;
    fn fclose(f: Ptr) -> c_int;
    fn tmpfile() -> Ptr;
    fn tmpfile64() -> Ptr;
    fn fileno(f: Ptr) -> c_int;
    fn pread(fd: c_int, b: Ptr, n: usize, off: i64) -> isize;
    fn pwrite(fd: c_int, b: Ptr, n: usize, off: i64) -> isize;
    }
}

/// Interceptors that move data into an fd: released before the real call.
macro_rules! writer {
    ($($name:ident ( $fd:ident : c_int $(, $a:ident : $t:ty)* ) -> $r:ty;)*) => {$(
        #[no_mangle]
        pub unsafe extern "C" fn $name($fd: c_int $(, $a: $t)*) -> $r {
            let icpt = ScopedInterceptor::enter(Unknown::Attach);
            fdtable::release(&icpt, $fd, caller_pc());
            // SAFETY: forwarded.
            unsafe { crate::real::$name($fd $(, $a)*) }
        }
    )*};
}

/// Interceptors that take data out of an fd: acquired after a successful call.
macro_rules! reader {
    ($($name:ident ( $fd:ident : c_int $(, $a:ident : $t:ty)* ) -> $r:ty;)*) => {$(
        #[no_mangle]
        pub unsafe extern "C" fn $name($fd: c_int $(, $a: $t)*) -> $r {
            let icpt = ScopedInterceptor::enter(Unknown::Attach);
            let pc = caller_pc();
            fdtable::access(&icpt, $fd, pc);
            // SAFETY: forwarded.
            let r = unsafe { crate::real::$name($fd $(, $a)*) };
            if r >= 0 {
                fdtable::acquire(&icpt, $fd, pc);
            }
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
}

#[no_mangle]
pub unsafe extern "C" fn pread(fd: c_int, b: Ptr, n: usize, off: i64) -> isize {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    let pc = caller_pc();
    fdtable::access(&icpt, fd, pc);
    // SAFETY: forwarded.
    let r = unsafe { libc::pread(fd, b, n, off) };
    if r >= 0 {
        fdtable::acquire(&icpt, fd, pc);
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn pwrite(fd: c_int, b: Ptr, n: usize, off: i64) -> isize {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    fdtable::release(&icpt, fd, caller_pc());
    // SAFETY: forwarded.
    unsafe { libc::pwrite(fd, b, n, off) }
}

/// The fds passed in `msg`'s SCM_RIGHTS control messages (x86-64 `msghdr` and
/// `cmsghdr` layouts), each given to `f`.
///
/// # Safety
/// `msg` is a `struct msghdr` that a successful `recvmsg` filled.
unsafe fn received_fds(msg: *const u8, mut f: impl FnMut(c_int)) {
    const SOL_SOCKET: i32 = 1;
    const SCM_RIGHTS: i32 = 1;
    const CMSG_HDR: usize = 16;
    // SAFETY: (whole body) reading the kernel-filled header and control buffer,
    // never past msg_controllen.
    unsafe {
        let control = *(msg.add(32) as *const *const u8);
        let len = *(msg.add(40) as *const usize);
        if control.is_null() {
            return;
        }
        let mut off = 0usize;
        while off + CMSG_HDR <= len {
            let c = control.add(off);
            let clen = *(c as *const usize);
            if clen < CMSG_HDR || off + clen > len {
                break;
            }
            let (level, ty) = (*(c.add(8) as *const i32), *(c.add(12) as *const i32));
            if level == SOL_SOCKET && ty == SCM_RIGHTS {
                for i in 0..(clen - CMSG_HDR) / 4 {
                    f(*(c.add(CMSG_HDR + i * 4) as *const c_int));
                }
            }
            off += (clen + 7) & !7;
        }
    }
}

/// recvmsg: an acquire, and every fd received is a new fd with its own object.
#[no_mangle]
pub unsafe extern "C" fn recvmsg(fd: c_int, m: Ptr, f: c_int) -> isize {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    let pc = caller_pc();
    fdtable::access(&icpt, fd, pc);
    // SAFETY: forwarded.
    let r = unsafe { crate::real::recvmsg(fd, m, f) };
    if r >= 0 {
        fdtable::acquire(&icpt, fd, pc);
        if !m.is_null() {
            // SAFETY: recvmsg succeeded and filled `m`.
            unsafe {
                received_fds(m as *const u8, |new| {
                    fdtable::created(&icpt, new, FdKind::Own, pc)
                })
            };
        }
    }
    r
}

/// An interceptor for a call that returns a new fd of `kind` (or -1).
macro_rules! creator {
    ($($name:ident ( $($a:ident : $t:ty),* ) => $kind:expr;)*) => {$(
        #[no_mangle]
        pub unsafe extern "C" fn $name($($a: $t),*) -> c_int {
            let icpt = ScopedInterceptor::enter(Unknown::Attach);
            let pc = caller_pc();
            // SAFETY: forwarded.
            let fd = unsafe { libc::$name($($a),*) };
            if fd >= 0 {
                fdtable::created(&icpt, fd, $kind, pc);
            }
            fd
        }
    )*};
}

creator! {
    open(path: *const c_char, flags: c_int, mode: c_uint) => FdKind::File;
    open64(path: *const c_char, flags: c_int, mode: c_uint) => FdKind::File;
    openat(dirfd: c_int, path: *const c_char, flags: c_int, mode: c_uint) => FdKind::File;
    openat64(dirfd: c_int, path: *const c_char, flags: c_int, mode: c_uint) => FdKind::File;
    creat(path: *const c_char, mode: c_uint) => FdKind::File;
    creat64(path: *const c_char, mode: c_uint) => FdKind::File;
    socket(domain: c_int, ty: c_int, proto: c_int) => FdKind::Socket;
    epoll_create(size: c_int) => FdKind::Own;
    epoll_create1(flags: c_int) => FdKind::Own;
    eventfd(init: c_uint, flags: c_int) => FdKind::Own;
    timerfd_create(clock: c_int, flags: c_int) => FdKind::Unsynced;
    inotify_init() => FdKind::Unsynced;
    inotify_init1(flags: c_int) => FdKind::Unsynced;
}

/// dup, dup2, dup3, fcntl F_DUPFD: `newfd` shares `oldfd`'s object. dup2 and dup3
/// over an open fd count as a read of the fd replaced (see `CloseAccess::Read`).
fn dup_done(icpt: &ScopedInterceptor, oldfd: c_int, newfd: c_int, replace: CloseAccess, pc: u64) {
    if oldfd >= 0 && newfd >= 0 && newfd != oldfd {
        fdtable::duplicated(icpt, oldfd, newfd, replace, pc);
    }
}

#[no_mangle]
pub unsafe extern "C" fn dup(fd: c_int) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    let r = unsafe { libc::dup(fd) };
    dup_done(&icpt, fd, r, CloseAccess::Write, caller_pc());
    r
}

#[no_mangle]
pub unsafe extern "C" fn dup2(fd: c_int, newfd: c_int) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    let r = unsafe { libc::dup2(fd, newfd) };
    dup_done(&icpt, fd, r, CloseAccess::Read, caller_pc());
    r
}

#[no_mangle]
pub unsafe extern "C" fn dup3(fd: c_int, newfd: c_int, flags: c_int) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    let r = unsafe { libc::dup3(fd, newfd, flags) };
    dup_done(&icpt, fd, r, CloseAccess::Read, caller_pc());
    r
}

const F_DUPFD: c_int = 0;
const F_DUPFD_CLOEXEC: c_int = 1030;

#[no_mangle]
pub unsafe extern "C" fn fcntl(fd: c_int, cmd: c_int, arg: usize) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded, the optional argument in its register.
    let r = unsafe { libc::fcntl(fd, cmd, arg) };
    if cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC {
        dup_done(&icpt, fd, r, CloseAccess::Write, caller_pc());
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn fcntl64(fd: c_int, cmd: c_int, arg: usize) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded, the optional argument in its register.
    let r = unsafe { libc::fcntl64(fd, cmd, arg) };
    if cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC {
        dup_done(&icpt, fd, r, CloseAccess::Write, caller_pc());
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn pipe(fds: *mut c_int) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    let r = unsafe { crate::real::pipe(fds) };
    if r == 0 {
        // SAFETY: pipe filled both.
        unsafe { fdtable::pair_created(&icpt, *fds, *fds.add(1), caller_pc()) };
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn pipe2(fds: *mut c_int, f: c_int) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    let r = unsafe { crate::real::pipe2(fds, f) };
    if r == 0 {
        // SAFETY: pipe2 filled both.
        unsafe { fdtable::pair_created(&icpt, *fds, *fds.add(1), caller_pc()) };
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn socketpair(d: c_int, t: c_int, p: c_int, fds: *mut c_int) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    let r = unsafe { crate::real::socketpair(d, t, p, fds) };
    if r == 0 {
        // SAFETY: socketpair filled both.
        unsafe { fdtable::pair_created(&icpt, *fds, *fds.add(1), caller_pc()) };
    }
    r
}

/// connect: released for the `accept` on the other side; on success the fd is
/// a socket anew.
#[no_mangle]
pub unsafe extern "C" fn connect(fd: c_int, addr: Ptr, len: u32) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    let pc = caller_pc();
    fdtable::connecting(&icpt, fd);
    // SAFETY: forwarded.
    let r = unsafe { libc::connect(fd, addr, len) };
    if r == 0 {
        fdtable::created(&icpt, fd, FdKind::Socket, pc);
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn accept(fd: c_int, addr: Ptr, len: Ptr) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    let r = unsafe { libc::accept(fd, addr, len) };
    if r >= 0 {
        fdtable::accepted(&icpt, fd, r, caller_pc());
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn accept4(fd: c_int, addr: Ptr, len: Ptr, flags: c_int) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    let r = unsafe { libc::accept4(fd, addr, len, flags) };
    if r >= 0 {
        fdtable::accepted(&icpt, fd, r, caller_pc());
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn bind(fd: c_int, addr: Ptr, len: u32) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    let r = unsafe { libc::bind(fd, addr, len) };
    if r == 0 {
        fdtable::access(&icpt, fd, caller_pc());
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn listen(fd: c_int, backlog: c_int) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    let r = unsafe { libc::listen(fd, backlog) };
    if r == 0 {
        fdtable::access(&icpt, fd, caller_pc());
    }
    r
}

const EPOLL_CTL_ADD: c_int = 1;

/// epoll_ctl: adding an fd releases into the epoll fd (what happened before the
/// add is visible to whoever is woken for the fd) and ties the fd's later writes
/// to it.
#[no_mangle]
pub unsafe extern "C" fn epoll_ctl(epfd: c_int, op: c_int, fd: c_int, ev: Ptr) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    let pc = caller_pc();
    fdtable::access(&icpt, epfd, pc);
    if epfd >= 0 {
        fdtable::access(&icpt, fd, pc);
    }
    if op == EPOLL_CTL_ADD {
        fdtable::added_to_epoll(&icpt, epfd, fd);
        fdtable::release(&icpt, epfd, pc);
    }
    // SAFETY: forwarded.
    unsafe { libc::epoll_ctl(epfd, op, fd, ev) }
}

/// The epoll waits: events delivered acquire the epoll fd's object.
macro_rules! epoll_waiter {
    ($($name:ident ( $epfd:ident : c_int $(, $a:ident : $t:ty)* );)*) => {$(
        #[no_mangle]
        pub unsafe extern "C" fn $name($epfd: c_int $(, $a: $t)*) -> c_int {
            let icpt = ScopedInterceptor::enter(Unknown::Attach);
            let pc = caller_pc();
            fdtable::access(&icpt, $epfd, pc);
            // SAFETY: forwarded.
            let r = unsafe { libc::$name($epfd $(, $a)*) };
            if r > 0 {
                fdtable::acquire(&icpt, $epfd, pc);
            }
            r
        }
    )*};
}

epoll_waiter! {
    epoll_wait(epfd: c_int, ev: Ptr, n: c_int, timeout: c_int);
    epoll_pwait(epfd: c_int, ev: Ptr, n: c_int, timeout: c_int, mask: Ptr);
    epoll_pwait2(epfd: c_int, ev: Ptr, n: c_int, timeout: Ptr, mask: Ptr);
}

#[no_mangle]
pub unsafe extern "C" fn eventfd_read(fd: c_int, value: *mut u64) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    let pc = caller_pc();
    fdtable::access(&icpt, fd, pc);
    // SAFETY: forwarded.
    let r = unsafe { libc::eventfd_read(fd, value) };
    if r == 0 {
        fdtable::acquire(&icpt, fd, pc);
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn eventfd_write(fd: c_int, value: u64) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    fdtable::release(&icpt, fd, caller_pc());
    // SAFETY: forwarded.
    unsafe { libc::eventfd_write(fd, value) }
}

/// signalfd: an existing fd passed in is replaced (closed, then created anew).
#[no_mangle]
pub unsafe extern "C" fn signalfd(fd: c_int, mask: Ptr, flags: c_int) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    let pc = caller_pc();
    fdtable::close(&icpt, fd, pc);
    // SAFETY: forwarded.
    let r = unsafe { libc::signalfd(fd, mask, flags) };
    if r >= 0 {
        fdtable::created(&icpt, r, FdKind::Unsynced, pc);
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn close(fd: c_int) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    fdtable::close(&icpt, fd, caller_pc());
    // SAFETY: forwarded.
    unsafe { crate::real::close(fd) }
}

#[no_mangle]
pub unsafe extern "C" fn __close(fd: c_int) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    fdtable::close(&icpt, fd, caller_pc());
    // SAFETY: forwarded.
    unsafe { libc::__close(fd) }
}

/// A stream just opened: its fd is a file.
fn stream_opened(icpt: &ScopedInterceptor, f: Ptr, pc: u64) -> Ptr {
    if !f.is_null() {
        // SAFETY: a stream the real function just returned.
        let fd = unsafe { libc::fileno(f) };
        if fd >= 0 {
            fdtable::created(icpt, fd, FdKind::File, pc);
        }
    }
    f
}

#[no_mangle]
pub unsafe extern "C" fn fopen(path: *const c_char, mode: *const c_char) -> Ptr {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    stream_opened(&icpt, unsafe { libc::fopen(path, mode) }, caller_pc())
}

#[no_mangle]
pub unsafe extern "C" fn fopen64(path: *const c_char, mode: *const c_char) -> Ptr {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    stream_opened(&icpt, unsafe { libc::fopen64(path, mode) }, caller_pc())
}

#[no_mangle]
pub unsafe extern "C" fn fdopen(fd: c_int, mode: *const c_char) -> Ptr {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    stream_opened(&icpt, unsafe { libc::fdopen(fd, mode) }, caller_pc())
}

#[no_mangle]
pub unsafe extern "C" fn tmpfile() -> Ptr {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    stream_opened(&icpt, unsafe { libc::tmpfile() }, caller_pc())
}

#[no_mangle]
pub unsafe extern "C" fn tmpfile64() -> Ptr {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    stream_opened(&icpt, unsafe { libc::tmpfile64() }, caller_pc())
}

#[no_mangle]
pub unsafe extern "C" fn fclose(f: Ptr) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    if !f.is_null() {
        // SAFETY: the caller's open stream.
        let fd = unsafe { libc::fileno(f) };
        fdtable::close(&icpt, fd, caller_pc());
    }
    // SAFETY: forwarded.
    unsafe { libc::fclose(f) }
}

/// `close(fd)` made by a raw syscall at `pc` (the `__sanitizer_syscall_pre_impl_close` hook).
pub fn syscall_close(fd: c_int, pc: u64) {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    fdtable::close(&icpt, fd, pc);
}

/// An acquire from `fd` by a raw syscall at `pc` (epoll waits' `post` hooks).
pub fn syscall_acquire(fd: c_int, pc: u64) {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    fdtable::acquire(&icpt, fd, pc);
}
