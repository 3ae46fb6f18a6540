//! The umbra runtime as linked into instrumented programs: the `__tsan_*` entry
//! points the compiler emits, the libc interceptors that turn pthread, heap and I/O
//! calls into happens-before edges and shadow updates, and the process-wide state
//! (threads, sync objects, history, reports) that joins the `shadow`, `clocks` and
//! `report` crates. Built as a static archive; `umbra build` turns it into
//! `libumbra.a` and `libumbra.so` with only the ABI exported.
#![cfg_attr(not(test), no_std)]
#![feature(thread_local)]
#![feature(core_intrinsics)]
#![feature(linkage)]
#![allow(internal_features)]
#![allow(clippy::missing_safety_doc)]
extern crate alloc;

mod atomics;
mod deadlock;
mod depot;
mod entry;
mod fdtable;
mod fiber;
mod hash;
mod history;
mod hooks;
mod ignores;
mod intercept;
mod java;
mod memfns;
mod mutex;
mod mutexset;
mod passthrough;
mod profile;
mod real;
mod report;
mod report_api;
mod rt;
mod rt_alloc;
mod rust_startup;
mod signals;
mod sync;
mod syscall_hooks;
mod thread;
mod unaligned;

#[cfg(not(test))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    umbra_sys::internal_error(format_args!("{}", info))
}

#[cfg(not(test))]
#[global_allocator]
static ALLOC: rt_alloc::RuntimeAllocator = rt_alloc::RuntimeAllocator;

/// The personality routine named by the runtime's unwind tables (the precompiled
/// `core`/`alloc` carry tables that name Rust's). The runtime is built with
/// `panic = "abort"`, so no Rust unwinding ever reaches it. Foreign unwinding
/// does: glibc cancels a thread by unwinding from inside a blocking real call
/// through the interceptor that made it (see `intercept::cancel`), and a C++
/// exception may leave a program callback an interceptor called. Outside the
/// runtime scope the runtime holds nothing and its frames have nothing to clean
/// up, so the unwinding passes through (`_URC_CONTINUE_UNWIND`); inside it, a
/// runtime lock or half-done update may be on this frame: an internal error.
/// Defined here (local to the built artifacts), it also keeps libumbra.so free of
/// undefined references to an unwinder.
#[cfg(not(test))]
#[no_mangle]
pub extern "C" fn rust_eh_personality(
    _version: i32,
    _actions: i32,
    _exception_class: u64,
    _exception: *mut u8,
    _context: *mut u8,
) -> i32 {
    const URC_CONTINUE_UNWIND: i32 = 8;
    if !thread::cur().in_runtime() {
        return URC_CONTINUE_UNWIND;
    }
    umbra_sys::internal_error(format_args!("unwinding reached the runtime"))
}

#[cfg(not(test))]
#[no_mangle]
pub extern "C" fn _Unwind_Resume() {
    umbra_sys::internal_error(format_args!("unwinding reached the runtime"))
}
