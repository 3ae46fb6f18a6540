//! Interceptors: libc functions whose calls are synchronization (pthread, sem,
//! file descriptors), memory management (malloc family, mmap) or memory access,
//! plus the public `__tsan_*` API that is not an access. Each calls the real
//! function through `crate::real` and records its effect.

pub mod api;
pub mod cxx;
pub mod fd;
pub mod heap;
pub mod jmp;
pub mod process;
pub mod pthread;
pub mod signals;
pub mod sleep;

use crate::thread::{ctx, in_runtime, thr};

/// Runs the interceptor body `f` unless the runtime itself (or an ignored thread)
/// is calling, in which case only `real` runs.
#[inline]
pub fn program_call<R>(real: impl FnOnce() -> R, f: impl FnOnce(&mut dyn FnMut() -> R) -> R) -> R {
    let t = thr();
    if t.in_rt > 0 {
        return real();
    }
    if t.ctx.is_null() {
        ctx();
    }
    let mut real = Some(real);
    in_runtime(|| f(&mut || (real.take().unwrap())()))
}
