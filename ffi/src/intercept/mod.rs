//! Interceptors: libc functions whose calls are synchronization (pthread, sem,
//! file descriptors), memory management (malloc family, mmap) or memory access,
//! plus the public `__tsan_*` API that is not an access. Each calls the real
//! function through `crate::real` and records its effect.

pub mod api;
pub mod app_heap;
pub mod cancel;
pub mod cxx;
pub mod fd;
pub mod jmp;
pub mod process;
pub mod pthread;
pub mod scope;
pub mod signals;
pub mod sleep;
