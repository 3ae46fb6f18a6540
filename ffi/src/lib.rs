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

/// The precompiled `core`/`alloc` carry unwind tables that name Rust's personality
/// routine and `_Unwind_Resume`. The runtime is built with `panic = "abort"`, so
/// neither can ever run; these definitions (local to the built artifacts) keep
/// libumbra.so free of undefined references to an unwinder.
#[cfg(not(test))]
#[no_mangle]
pub extern "C" fn rust_eh_personality() {
    umbra_sys::internal_error(format_args!("unwinding reached the runtime"))
}

#[cfg(not(test))]
#[no_mangle]
pub extern "C" fn _Unwind_Resume() {
    umbra_sys::internal_error(format_args!("unwinding reached the runtime"))
}
