//! The public runtime API that is not a memory access: initialization, manual
//! happens-before edges, ignores, mutex annotations, dynamic annotations, and the
//! barrier used by compiler-rt's and rustc's tests.

use core::ffi::{c_char, c_int, c_void};
use core::sync::atomic::{AtomicU64, Ordering};

use crate::sync;
use crate::thread::{cur, in_runtime, with_thread};

#[no_mangle]
pub extern "C" fn __tsan_init() {
    crate::rt::ensure_init();
}

extern "C" fn umbra_constructor() {
    crate::rt::late_init();
}

/// Runs as a constructor of libumbra.so (after libc's own), or among the first of
/// the program's constructors when linked statically: completes initialization.
#[used]
#[link_section = ".init_array.00101"]
static INIT_AT_LOAD: extern "C" fn() = umbra_constructor;

#[no_mangle]
pub extern "C" fn __tsan_acquire(addr: *mut c_void) {
    with_thread(|thr| sync::acquire(thr, addr as usize));
}

#[no_mangle]
pub extern "C" fn __tsan_release(addr: *mut c_void) {
    with_thread(|thr| sync::release(thr, addr as usize));
}

#[no_mangle]
pub extern "C" fn __tsan_ignore_thread_begin() {
    with_thread(|thr| {
        thr.ignore_depth += 1;
        thr.refresh_fast_state();
    });
}

#[no_mangle]
pub extern "C" fn __tsan_ignore_thread_end() {
    with_thread(|thr| {
        if thr.ignore_depth == 0 {
            umbra_sys::eprint_fmt(format_args!(
                "umbra: __tsan_ignore_thread_end without a matching begin; ignored\n"
            ));
            return;
        }
        thr.ignore_depth -= 1;
        thr.refresh_fast_state();
    });
}

/// `__tsan_testonly_barrier_init(b, count)`: compiler-rt's test barrier, on the
/// 8-byte `invisible_barrier_t` of its `test.h` (rustc's tests use a `u64` too):
/// the thread count in the low 32 bits, arrivals so far above.
///
/// The barrier is invisible by contract: it orders threads in time without any
/// happens-before edge, so a test can stage a race across it and expect a report.
#[no_mangle]
pub unsafe extern "C" fn __tsan_testonly_barrier_init(b: *mut u64, count: u32) {
    if count == 0 {
        umbra_sys::eprint_fmt(format_args!(
            "umbra: __tsan_testonly_barrier_init: count must be at least 1\n"
        ));
        umbra_sys::exit_group(1);
    }
    // SAFETY: the caller passes an 8-byte barrier object it owns.
    unsafe { (*(b as *const AtomicU64)).store(count as u64, Ordering::Relaxed) };
}

#[no_mangle]
pub unsafe extern "C" fn __tsan_testonly_barrier_wait(b: *mut u64) {
    // SAFETY: an 8-byte word initialized by __tsan_testonly_barrier_init.
    let w = unsafe { &*(b as *const AtomicU64) };
    let count = w.load(Ordering::Relaxed) & 0xffff_ffff;
    // Relaxed throughout: the barrier creates no happens-before edge for the
    // program (its clocks are untouched), and the runtime's own state needs none;
    // the count of arrivals alone decides when to go on.
    let prev = w.fetch_add(1 << 32, Ordering::Relaxed);
    let generation = (prev >> 32) / count;
    while (w.load(Ordering::Relaxed) >> 32) / count == generation {
        umbra_sys::sched_yield();
    }
}

/// The depth of the calling thread's shadow call stack (frames pushed by
/// `__tsan_func_entry` and not yet popped), for tests of the runtime's unwinding.
#[no_mangle]
pub extern "C" fn __tsan_testonly_shadow_stack_current_size() -> usize {
    cur().depth.get()
}

// Mutex annotations (`__tsan_mutex_*`), for locks the runtime cannot see.
#[no_mangle]
pub extern "C" fn __tsan_mutex_create(addr: *mut c_void, _flags: u32) {
    in_runtime(|| sync::reset_range(addr as usize, 1));
}
#[no_mangle]
pub extern "C" fn __tsan_mutex_destroy(addr: *mut c_void, _flags: u32) {
    in_runtime(|| sync::reset_range(addr as usize, 1));
}
#[no_mangle]
pub extern "C" fn __tsan_mutex_pre_lock(_addr: *mut c_void, _flags: u32) {}
#[no_mangle]
pub extern "C" fn __tsan_mutex_post_lock(addr: *mut c_void, flags: u32, _recursion: c_int) {
    const TRY_LOCK_FAILED: u32 = 1 << 5;
    if flags & TRY_LOCK_FAILED == 0 {
        with_thread(|thr| sync::acquire(thr, addr as usize));
    }
}
#[no_mangle]
pub extern "C" fn __tsan_mutex_pre_unlock(addr: *mut c_void, _flags: u32) -> c_int {
    with_thread(|thr| sync::release_store(thr, addr as usize));
    0
}
#[no_mangle]
pub extern "C" fn __tsan_mutex_post_unlock(_addr: *mut c_void, _flags: u32) {}
#[no_mangle]
pub extern "C" fn __tsan_mutex_pre_signal(_addr: *mut c_void, _flags: u32) {}
#[no_mangle]
pub extern "C" fn __tsan_mutex_post_signal(_addr: *mut c_void, _flags: u32) {}
#[no_mangle]
pub extern "C" fn __tsan_mutex_pre_divert(_addr: *mut c_void, _flags: u32) {}
#[no_mangle]
pub extern "C" fn __tsan_mutex_post_divert(_addr: *mut c_void, _flags: u32) {}

#[no_mangle]
pub extern "C" fn __tsan_flush_memory() {}
#[no_mangle]
pub extern "C" fn __tsan_on_thread_idle() {}

// Dynamic annotations.
#[no_mangle]
pub extern "C" fn AnnotateHappensBefore(_f: *const c_char, _l: c_int, addr: *mut c_void) {
    __tsan_release(addr)
}
#[no_mangle]
pub extern "C" fn AnnotateHappensAfter(_f: *const c_char, _l: c_int, addr: *mut c_void) {
    __tsan_acquire(addr)
}
#[no_mangle]
pub extern "C" fn AnnotateIgnoreReadsBegin(_f: *const c_char, _l: c_int) {
    __tsan_ignore_thread_begin()
}
#[no_mangle]
pub extern "C" fn AnnotateIgnoreReadsEnd(_f: *const c_char, _l: c_int) {
    __tsan_ignore_thread_end()
}
#[no_mangle]
pub extern "C" fn AnnotateIgnoreWritesBegin(_f: *const c_char, _l: c_int) {
    __tsan_ignore_thread_begin()
}
#[no_mangle]
pub extern "C" fn AnnotateIgnoreWritesEnd(_f: *const c_char, _l: c_int) {
    __tsan_ignore_thread_end()
}
#[no_mangle]
pub extern "C" fn RunningOnValgrind() -> c_int {
    0
}

/// RWLock annotations: locks the runtime cannot see, described by the program.
#[no_mangle]
pub extern "C" fn AnnotateRWLockCreate(_f: *const c_char, _l: c_int, lock: *mut c_void) {
    in_runtime(|| sync::reset_range(lock as usize, 1));
}
#[no_mangle]
pub extern "C" fn AnnotateRWLockCreateStatic(f: *const c_char, l: c_int, lock: *mut c_void) {
    AnnotateRWLockCreate(f, l, lock)
}
#[no_mangle]
pub extern "C" fn AnnotateRWLockDestroy(f: *const c_char, l: c_int, lock: *mut c_void) {
    AnnotateRWLockCreate(f, l, lock)
}
#[no_mangle]
pub extern "C" fn AnnotateRWLockAcquired(
    _f: *const c_char,
    _l: c_int,
    lock: *mut c_void,
    _is_w: isize,
) {
    with_thread(|thr| sync::acquire(thr, lock as usize));
}
#[no_mangle]
pub extern "C" fn AnnotateRWLockReleased(
    _f: *const c_char,
    _l: c_int,
    lock: *mut c_void,
    _is_w: isize,
) {
    with_thread(|thr| sync::release(thr, lock as usize));
}

/// Dynamic annotations umbra accepts and has no use for (as TSan, most are no-ops);
/// exported so a program calling them never binds the stock runtime's copies.
macro_rules! noop_annotations {
    ($($name:ident),*) => {$(
        #[no_mangle]
        pub extern "C" fn $name() {}
    )*};
}
noop_annotations!(
    AnnotateBenignRace,
    AnnotateBenignRaceSized,
    AnnotateCondVarSignal,
    AnnotateCondVarSignalAll,
    AnnotateCondVarWait,
    AnnotateEnableRaceDetection,
    AnnotateExpectRace,
    AnnotateFlushExpectedRaces,
    AnnotateFlushState,
    AnnotateIgnoreSyncBegin,
    AnnotateIgnoreSyncEnd,
    AnnotateMemoryIsInitialized,
    AnnotateMemoryIsUninitialized,
    AnnotateMutexIsNotPHB,
    AnnotateMutexIsUsedAsCondVar,
    AnnotateNewMemory,
    AnnotateNoOp,
    AnnotatePCQCreate,
    AnnotatePCQDestroy,
    AnnotatePCQGet,
    AnnotatePCQPut,
    AnnotatePublishMemoryRange,
    AnnotateThreadName,
    AnnotateTraceMemory,
    AnnotateUnpublishMemoryRange,
    WTFAnnotateBenignRaceSized
);

#[no_mangle]
pub extern "C" fn WTFAnnotateHappensBefore(f: *const c_char, l: c_int, addr: *mut c_void) {
    AnnotateHappensBefore(f, l, addr)
}
#[no_mangle]
pub extern "C" fn WTFAnnotateHappensAfter(f: *const c_char, l: c_int, addr: *mut c_void) {
    AnnotateHappensAfter(f, l, addr)
}
#[no_mangle]
pub extern "C" fn ValgrindSlowdown() -> f64 {
    1.0
}
#[no_mangle]
pub extern "C" fn ThreadSanitizerQuery(_query: *const c_char) -> *const c_char {
    c"0".as_ptr()
}
