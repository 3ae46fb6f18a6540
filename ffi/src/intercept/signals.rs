//! A SIGSEGV/SIGBUS handler, installed at start-up like stock TSan's
//! (`handle_segv=1`): it names the faulting address and pc, then lets the default
//! action (a core dump) happen. Beyond the message it keeps programs behaving as
//! they do under stock TSan: Rust's std installs its own stack-overflow handler
//! only when none is set, and with it takes a global lock at every thread start
//! and exit, an ordering that would hide races between threads that do not overlap
//! in time.

use core::ffi::{c_int, c_void};

const SIGBUS: c_int = 7;
const SIGSEGV: c_int = 11;
const SA_SIGINFO: c_int = 4;
const SA_ONSTACK: c_int = 0x0800_0000;
const SA_NODEFER: c_int = 0x4000_0000;
const SIG_DFL: usize = 0;

/// glibc's `struct sigaction` on x86_64.
#[repr(C)]
struct SigAction {
    handler: usize,
    mask: [u64; 16],
    flags: c_int,
    restorer: usize,
}

mod real {
    use core::ffi::{c_int, c_void};
    crate::real::real_fns! {
        fn sigaction(sig: c_int, act: *const c_void, old: *mut c_void) -> c_int;
    }
}

fn set_handler(sig: c_int, handler: usize, flags: c_int) {
    let act = SigAction { handler, mask: [0; 16], flags, restorer: 0 };
    // SAFETY: a valid struct sigaction for the libc's own sigaction.
    unsafe { real::sigaction(sig, &act as *const SigAction as *const c_void, core::ptr::null_mut()) };
}

extern "C" fn on_fault(sig: c_int, info: *mut c_void, uctx: *mut c_void) {
    // siginfo_t: si_addr at offset 16; ucontext_t: RIP in uc_mcontext.gregs[16]
    // at offset 40 + 16 * 8.
    // SAFETY: the kernel passes valid siginfo and ucontext pointers to an
    // SA_SIGINFO handler.
    let (addr, pc) = unsafe { (*((info as *const u8).add(16) as *const usize), *((uctx as *const u8).add(168) as *const usize)) };
    // The process is about to die: let reports other threads are writing finish
    // first (bounded; only atomics and sleeps, so safe in a handler).
    crate::report::wait_for_reports();
    umbra_sys::eprint_fmt(format_args!(
        "umbra: {} on address {:#x} (pc {:#x}, pid {})\n",
        if sig == SIGSEGV { "SEGV" } else { "BUS error" },
        addr,
        pc,
        umbra_sys::getpid()
    ));
    // Back to the default action: returning re-executes the faulting
    // instruction, which now ends the process as it would have without umbra.
    set_handler(sig, SIG_DFL, 0);
}

/// Installs the handler for SIGSEGV and SIGBUS unless the program already set one.
pub fn install() {
    for sig in [SIGSEGV, SIGBUS] {
        let mut old = SigAction { handler: 0, mask: [0; 16], flags: 0, restorer: 0 };
        // SAFETY: querying the current action into a valid struct.
        unsafe { real::sigaction(sig, core::ptr::null(), &mut old as *mut SigAction as *mut c_void) };
        if old.handler == SIG_DFL {
            set_handler(sig, on_fault as usize, SA_SIGINFO | SA_ONSTACK | SA_NODEFER);
        }
    }
}
