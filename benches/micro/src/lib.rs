//! The part of the ThreadSanitizer runtime ABI the microbenchmarks call, declared
//! by hand. Whichever runtime the benchmark is linked with (libumbra.a or
//! compiler-rt's) provides these, and interposes malloc, pthread_create, ... in
//! this process, as it would in an instrumented program.
#![allow(non_camel_case_types)]

use core::ffi::c_void;

/// `__tsan_memory_order`: the C++ memory orders, as TSan's atomic entry points
/// take them.
pub type morder = i32;
pub const RELAXED: morder = 0;
pub const ACQUIRE: morder = 2;
pub const RELEASE: morder = 3;
pub const ACQ_REL: morder = 4;
pub const SEQ_CST: morder = 5;

extern "C" {
    pub fn __tsan_init();
    pub fn __tsan_read1(addr: *const c_void);
    pub fn __tsan_read2(addr: *const c_void);
    pub fn __tsan_read4(addr: *const c_void);
    pub fn __tsan_read8(addr: *const c_void);
    pub fn __tsan_read16(addr: *const c_void);
    pub fn __tsan_write1(addr: *mut c_void);
    pub fn __tsan_write2(addr: *mut c_void);
    pub fn __tsan_write4(addr: *mut c_void);
    pub fn __tsan_write8(addr: *mut c_void);
    pub fn __tsan_write16(addr: *mut c_void);
    pub fn __tsan_unaligned_read4(addr: *const c_void);
    pub fn __tsan_unaligned_read8(addr: *const c_void);
    pub fn __tsan_unaligned_read16(addr: *const c_void);
    pub fn __tsan_unaligned_write8(addr: *mut c_void);
    pub fn __tsan_read_range(addr: *const c_void, size: usize);
    pub fn __tsan_write_range(addr: *mut c_void, size: usize);
    pub fn __tsan_func_entry(pc: *const c_void);
    pub fn __tsan_func_exit();
    pub fn __tsan_acquire(addr: *mut c_void);
    pub fn __tsan_release(addr: *mut c_void);
    pub fn __tsan_atomic64_load(a: *const u64, mo: morder) -> u64;
    pub fn __tsan_atomic64_store(a: *mut u64, v: u64, mo: morder);
    pub fn __tsan_atomic64_fetch_add(a: *mut u64, v: u64, mo: morder) -> u64;
    pub fn __tsan_atomic64_compare_exchange_strong(a: *mut u64, c: *mut u64, v: u64, mo: morder, fail_mo: morder) -> i32;

    pub fn malloc(size: usize) -> *mut c_void;
    pub fn free(p: *mut c_void);
    pub fn pthread_create(
        thread: *mut usize,
        attr: *const c_void,
        start: extern "C" fn(*mut c_void) -> *mut c_void,
        arg: *mut c_void,
    ) -> i32;
    pub fn pthread_join(thread: usize, ret: *mut *mut c_void) -> i32;
}

/// Calls `__tsan_init` once (instrumented programs do so from `.preinit_array`;
/// both runtimes also initialize lazily, so this only makes the start explicit).
pub fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: the runtime's initializer; idempotent.
    ONCE.call_once(|| unsafe { __tsan_init() });
}

/// A heap buffer of `words` u64, 64-byte aligned, that the runtime's shadow
/// covers like any application memory.
pub struct Buf {
    ptr: *mut u64,
    words: usize,
}

impl Buf {
    pub fn new(words: usize) -> Buf {
        let layout = std::alloc::Layout::from_size_align(words * 8, 64).unwrap();
        // SAFETY: non-zero size.
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) } as *mut u64;
        assert!(!ptr.is_null());
        Buf { ptr, words }
    }
    pub fn addr(&self, word: usize) -> *mut c_void {
        debug_assert!(word < self.words);
        // SAFETY: in bounds.
        unsafe { self.ptr.add(word) as *mut c_void }
    }
    pub fn byte(&self, off: usize) -> *mut c_void {
        // SAFETY: the caller stays in bounds.
        unsafe { (self.ptr as *mut u8).add(off) as *mut c_void }
    }
    pub fn words(&self) -> usize {
        self.words
    }
}

// SAFETY: only its address is shared; the benchmarks never dereference it.
unsafe impl Send for Buf {}
unsafe impl Sync for Buf {}

impl Drop for Buf {
    fn drop(&mut self) {
        let layout = std::alloc::Layout::from_size_align(self.words * 8, 64).unwrap();
        // SAFETY: allocated in `new` with this layout.
        unsafe { std::alloc::dealloc(self.ptr as *mut u8, layout) };
    }
}
