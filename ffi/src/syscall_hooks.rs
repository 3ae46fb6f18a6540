//! `__sanitizer_syscall_pre_impl_NAME` / `_post_impl_NAME`: the hooks that code
//! making raw syscalls calls around them (`<sanitizer/linux_syscall_hooks.h>`), one
//! pair for each of the 325 syscalls stock TSan knows. Under TSan a hook checks
//! the memory the kernel will read (or write, for a few) as an access of the
//! caller, and turns fd closes, epoll waits, AIO completions and forks into the
//! runtime's own events; memory the kernel wrote is not an access (TSan's
//! `POST_WRITE` does nothing), so most post hooks do nothing. The table of
//! effects is `syscall_hooks.txt`; `build.rs` generates the exported functions.

use core::ffi::c_int;

use crate::entry::{caller_pc, range_access, AccessKind};

/// Whether the kernel reads or writes the memory.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// How many bytes.
#[derive(Clone, Copy)]
pub enum Len {
    Bytes(usize),
    /// Argument K times N.
    ArgTimes(usize, usize),
    /// The NUL-terminated string at the address, its NUL included.
    CStr,
}

/// What one hook does (see `syscall_hooks.txt`).
#[derive(Clone, Copy)]
pub enum Effect {
    Memory {
        kind: Access,
        arg: usize,
        offset: usize,
        len: Len,
    },
    FdClose(usize),
    FdAcquire(usize),
    ForkPre,
    ForkPost,
    CapData(usize, usize),
    PerfAttr(usize),
    IoSubmit(usize, usize),
    IoEvents(usize),
    IoCancel(usize),
}

/// `struct iocb` (x86_64): where its fields are, and the opcodes that read memory.
const IOCB_DATA: usize = 0;
const IOCB_OPCODE: usize = 16;
const IOCB_BUF: usize = 24;
const IOCB_NBYTES: usize = 32;
const IOCB_CMD_PWRITE: u16 = 1;
const IOCB_CMD_PWRITEV: u16 = 8;
/// `struct io_event` is 32 bytes, its `data` first.
const IO_EVENT_SIZE: usize = 32;
/// `_LINUX_CAPABILITY_VERSION_1`: one 12-byte `__user_cap_data_struct`; later
/// versions pass two.
const CAP_VERSION_1: u32 = 0x1998_0330;

/// Length of the NUL-terminated string at `p`, NUL included.
///
/// # Safety
/// `p` points to a NUL-terminated string.
unsafe fn cstr_len(p: usize) -> usize {
    // SAFETY: the caller passes a NUL-terminated string.
    unsafe { core::ffi::CStr::from_ptr(p as *const core::ffi::c_char) }
        .to_bytes()
        .len()
        + 1
}

/// Reads a `T` the program passed (unaligned: raw syscall arguments promise
/// nothing).
///
/// # Safety
/// `p` is readable for `size_of::<T>()` bytes.
unsafe fn load<T: Copy>(p: usize) -> T {
    // SAFETY: as the caller promises.
    unsafe { (p as *const T).read_unaligned() }
}

fn check(addr: usize, size: usize, kind: Access, pc: u64) {
    if addr != 0 && size != 0 {
        let kind = if kind == Access::Write {
            AccessKind::Write
        } else {
            AccessKind::Read
        };
        range_access(addr, size, kind, pc);
    }
}

/// Runs a hook's effects: `res` is the syscall's result for a post hook.
///
/// # Safety
/// `args` are the syscall's arguments, as the program passes them to the kernel
/// (pointers into its memory where the syscall takes pointers).
pub unsafe fn run(effects: &[Effect], res: Option<isize>, args: [usize; 6], pc: u64) {
    for &e in effects {
        match e {
            Effect::Memory {
                kind,
                arg,
                offset,
                len,
            } => {
                let base = args[arg];
                if base == 0 {
                    continue;
                }
                let size = match len {
                    Len::Bytes(n) => n,
                    Len::ArgTimes(k, n) => args[k].wrapping_mul(n),
                    // SAFETY: the syscall takes a string there.
                    Len::CStr => unsafe { cstr_len(base + offset) },
                };
                check(base + offset, size, kind, pc);
            }
            Effect::FdClose(a) => crate::intercept::fd::syscall_close(args[a] as c_int, pc),
            Effect::FdAcquire(a) => {
                if res.is_some_and(|r| r >= 0) {
                    crate::intercept::fd::syscall_acquire(args[a] as c_int, pc);
                }
            }
            Effect::ForkPre => fork_pre(),
            // SAFETY: a fork's post hook follows its pre hook.
            Effect::ForkPost => unsafe { fork_post(res.unwrap_or(-1)) },
            Effect::CapData(header, data) => {
                if args[header] != 0 && args[data] != 0 {
                    // SAFETY: capset reads the header's version first.
                    let version: u32 = unsafe { load(args[header]) };
                    let size = if version == CAP_VERSION_1 { 12 } else { 24 };
                    check(args[data], size, Access::Read, pc);
                }
            }
            Effect::PerfAttr(a) => {
                if args[a] != 0 {
                    // SAFETY: perf_event_attr starts with its type and size (u32 each).
                    let size: u32 = unsafe { load(args[a] + 4) };
                    check(args[a], size as usize, Access::Read, pc);
                }
            }
            // SAFETY: io_submit's arguments: a count and an array of iocb pointers.
            Effect::IoSubmit(n, v) => unsafe { io_submit(args[n], args[v], pc) },
            Effect::IoEvents(v) => {
                let events = args[v];
                let n = res.unwrap_or(0);
                if events != 0 && n > 0 {
                    for i in 0..n as usize {
                        // SAFETY: the kernel filled `res` events there.
                        let data: u64 = unsafe { load(events + i * IO_EVENT_SIZE) };
                        crate::thread::with_thread(|thr| crate::sync::acquire(thr, data as usize));
                    }
                }
            }
            Effect::IoCancel(r) => {
                if res == Some(0) && args[r] != 0 {
                    // SAFETY: the kernel filled the io_event there.
                    let data: u64 = unsafe { load(args[r]) };
                    crate::thread::with_thread(|thr| crate::sync::acquire(thr, data as usize));
                }
            }
        }
    }
}

/// io_submit: each request's write buffer (or, for a vectored write, each of its
/// buffers) is read by the kernel, and the submission releases to the request's
/// `aio_data`, which the completion (`io_getevents`, `io_cancel`) acquires from.
///
/// # Safety
/// `iocbs` holds `n` pointers to `struct iocb`.
unsafe fn io_submit(n: usize, iocbs: usize, pc: u64) {
    // A negative count fails in the kernel and reads nothing.
    if iocbs == 0 || (n as isize) <= 0 {
        return;
    }
    for i in 0..n {
        // SAFETY: as the caller promises.
        let cb: usize = unsafe { load(iocbs + i * 8) };
        if cb == 0 {
            continue;
        }
        // SAFETY: a `struct iocb` the program submits.
        let (data, op, buf, len) = unsafe {
            (
                load::<u64>(cb + IOCB_DATA),
                load::<u16>(cb + IOCB_OPCODE),
                load::<u64>(cb + IOCB_BUF) as usize,
                load::<u64>(cb + IOCB_NBYTES) as usize,
            )
        };
        if op == IOCB_CMD_PWRITE {
            check(buf, len, Access::Read, pc);
        } else if op == IOCB_CMD_PWRITEV && buf != 0 {
            for v in 0..len {
                // SAFETY: `len` iovecs (base, length) at `buf`.
                let (base, size): (usize, usize) =
                    unsafe { (load(buf + v * 16), load(buf + v * 16 + 8)) };
                check(base, size, Access::Read, pc);
            }
        }
        crate::thread::with_thread(|thr| crate::sync::release(thr, data as usize));
    }
}

/// Before a raw fork: the runtime scope is entered and its locks taken, so the
/// child finds none held by a thread it does not have (as the `fork` interceptor).
fn fork_pre() {
    let t = crate::thread::cur();
    t.in_rt.set(t.in_rt.get() + 1);
    // SeqCst compiler fence: as in `thread::in_runtime`, the raise is seen by this
    // thread's signal handler before any lock is taken.
    core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
    crate::intercept::process::lock_all();
}

/// After a raw fork (`res` 0 in the child): the locks are released in both
/// processes, the child notes it is one, and the runtime scope is left.
///
/// # Safety
/// Follows `fork_pre` on this thread.
unsafe fn fork_post(res: isize) {
    if res == 0 {
        crate::rt::note_pid();
    }
    // SAFETY: `fork_pre` took every lock in this process (or its parent).
    unsafe { crate::intercept::process::unlock_all() };
    if res == 0 {
        // The caller's thread id (none when the runtime does not know the thread).
        let me = crate::thread::with_known_thread(|thr| thr.tid).unwrap_or(u32::MAX);
        crate::thread::forked_child(me);
    }
    let t = crate::thread::cur();
    // SeqCst compiler fence: as in `thread::in_runtime`, the drop comes after the
    // unlocks and before the pending-signal check.
    core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
    t.in_rt.set(t.in_rt.get() - 1);
    core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
    if t.in_rt.get() == 0 {
        crate::signals::leave_runtime();
    }
}

include!(concat!(env!("OUT_DIR"), "/syscall_hooks.rs"));
