//! The public runtime API that is not a memory access: initialization, manual
//! happens-before edges, ignores, mutex annotations, dynamic annotations, and the
//! barrier used by compiler-rt's and rustc's tests.

use core::ffi::{c_char, c_int, c_void};
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};

use crate::entry::caller_pc;
use crate::ignores::{self, IgnoreKind};
use crate::mutex::{self, LockMode, MutexFlags, Record};
use crate::sync;
use crate::thread::{cur, with_thread, ThreadCtx};

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
    let pc = caller_pc();
    with_thread(|thr| ignores::begin(thr, IgnoreKind::Accesses, pc));
}

#[no_mangle]
pub extern "C" fn __tsan_ignore_thread_end() {
    with_thread(|thr| ignores::end(thr, IgnoreKind::Accesses));
}

/// `__tsan_testonly_barrier_init(b, count)`: compiler-rt's test barrier. Its
/// `invisible_barrier_t` is 4 bytes in LLVM 16's `test.h` (`unsigned`) and 8 in
/// later ones and rustc's tests, so the program's object holds only the count (in
/// its first 4 bytes, the only ones the runtime writes) and the barrier's state
/// lives in [`TEST_BARRIERS`], keyed by the object's address: the thread count in
/// the low 32 bits, arrivals so far above.
///
/// The barrier is invisible by contract: it orders threads in time without any
/// happens-before edge, so a test can stage a race across it and expect a report.
#[no_mangle]
pub unsafe extern "C" fn __tsan_testonly_barrier_init(b: *mut u32, count: u32) {
    if count == 0 {
        umbra_sys::eprint_fmt(format_args!(
            "umbra: __tsan_testonly_barrier_init: count must be at least 1\n"
        ));
        umbra_sys::exit_group(1);
    }
    // SAFETY: the caller passes a barrier object it owns, at least 4 bytes.
    unsafe { (*(b as *const AtomicU32)).store(count, Ordering::Relaxed) };
    // Relaxed: the program orders the init before every wait (it creates the
    // waiting threads afterwards), and the state is all a wait reads.
    test_barrier_state(b as usize).store(count as u64, Ordering::Relaxed);
}

#[no_mangle]
pub unsafe extern "C" fn __tsan_testonly_barrier_wait(b: *mut u32) {
    let w = test_barrier_state(b as usize);
    let mut state = w.load(Ordering::Relaxed);
    if state == 0 {
        // Waited on before any init seen here: the count is in the object.
        // SAFETY: a barrier object of at least 4 bytes.
        let count = unsafe { (*(b as *const AtomicU32)).load(Ordering::Relaxed) }.max(1);
        // Relaxed: as in `__tsan_testonly_barrier_init`; racing first waiters
        // store the same count.
        let _ = w.compare_exchange(0, count as u64, Ordering::Relaxed, Ordering::Relaxed);
        state = w.load(Ordering::Relaxed);
    }
    let count = state & 0xffff_ffff;
    // Relaxed throughout: the barrier creates no happens-before edge for the
    // program (its clocks are untouched), and the runtime's own state needs none;
    // the count of arrivals alone decides when to go on.
    let prev = w.fetch_add(1 << 32, Ordering::Relaxed);
    let generation = (prev >> 32) / count;
    while (w.load(Ordering::Relaxed) >> 32) / count == generation {
        umbra_sys::sched_yield();
    }
}

/// How many test barriers a run may use (a test uses a handful).
const TEST_BARRIERS_MAX: usize = 4096;

/// Open-addressed table of test barriers: the address of each barrier object
/// (0 = free slot; slots are never freed) and its state (see
/// `__tsan_testonly_barrier_init`).
static TEST_BARRIERS: [(AtomicUsize, AtomicU64); TEST_BARRIERS_MAX] =
    [const { (AtomicUsize::new(0), AtomicU64::new(0)) }; TEST_BARRIERS_MAX];

/// The state word of the test barrier at `addr`, claiming a slot on first use.
fn test_barrier_state(addr: usize) -> &'static AtomicU64 {
    let start = addr.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 52;
    for i in 0..TEST_BARRIERS_MAX {
        let (key, state) = &TEST_BARRIERS[(start + i) % TEST_BARRIERS_MAX];
        // Relaxed: the key is all that is compared; the state word is published
        // by the program's own ordering of init before waits.
        match key.compare_exchange(0, addr, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return state,
            Err(k) if k == addr => return state,
            Err(_) => {}
        }
    }
    umbra_sys::internal_error(format_args!("more than {TEST_BARRIERS_MAX} test barriers"))
}

/// The depth of the calling thread's shadow call stack (frames pushed by
/// `__tsan_func_entry` and not yet popped), for tests of the runtime's unwinding.
#[no_mangle]
pub extern "C" fn __tsan_testonly_shadow_stack_current_size() -> usize {
    cur().depth.get()
}

// Mutex annotations (`__tsan_mutex_*`), for locks the runtime cannot see, with
// TSan's semantics: between pre-lock and post-lock (and pre-unlock and
// post-unlock, pre-signal and post-signal) the mutex's own code runs in an ignore
// region, its memory accesses and atomics unseen, so that only the annotation
// synchronizes; a divert (the mutex calling out to user code, a wait say) leaves
// the region for its duration.

/// Enters the ignore region around a mutex's own code (no stack kept, as TSan).
fn enter_mutex_code(thr: &mut ThreadCtx) {
    ignores::begin(thr, IgnoreKind::Accesses, 0);
    ignores::begin(thr, IgnoreKind::Sync, 0);
}

fn leave_mutex_code(thr: &mut ThreadCtx) {
    ignores::end(thr, IgnoreKind::Sync);
    ignores::end(thr, IgnoreKind::Accesses);
}

fn lock_mode(flags: MutexFlags) -> LockMode {
    if flags.has(MutexFlags::READ_LOCK) {
        LockMode::Read
    } else {
        LockMode::Write
    }
}

#[no_mangle]
pub extern "C" fn __tsan_mutex_create(addr: *mut c_void, flags: u32) {
    let pc = caller_pc();
    with_thread(|thr| mutex::create(thr, addr as usize, pc, MutexFlags(flags), Record::Keep));
}

#[no_mangle]
pub extern "C" fn __tsan_mutex_destroy(addr: *mut c_void, flags: u32) {
    let pc = caller_pc();
    with_thread(|thr| mutex::destroy(thr, addr as usize, pc, MutexFlags(flags)));
}

#[no_mangle]
pub extern "C" fn __tsan_mutex_pre_lock(addr: *mut c_void, flags: u32) {
    let pc = caller_pc();
    with_thread(|thr| mutex::pre_lock(thr, addr as usize, pc, MutexFlags(flags)));
    with_thread(enter_mutex_code);
}

#[no_mangle]
pub extern "C" fn __tsan_mutex_post_lock(addr: *mut c_void, flags: u32, recursion: c_int) {
    let pc = caller_pc();
    with_thread(leave_mutex_code);
    let flags = MutexFlags(flags);
    let rec = recursion.max(0) as u32;
    with_thread(|thr| mutex::post_lock(thr, addr as usize, pc, flags, rec, lock_mode(flags)));
}

#[no_mangle]
pub extern "C" fn __tsan_mutex_pre_unlock(addr: *mut c_void, flags: u32) -> c_int {
    let pc = caller_pc();
    let flags = MutexFlags(flags);
    let released = with_thread(|thr| match lock_mode(flags) {
        LockMode::Read => {
            mutex::read_unlock(thr, addr as usize, pc);
            0
        }
        LockMode::Write => mutex::unlock(thr, addr as usize, pc, flags),
    })
    .unwrap_or(0);
    with_thread(enter_mutex_code);
    released as c_int
}

#[no_mangle]
pub extern "C" fn __tsan_mutex_post_unlock(_addr: *mut c_void, _flags: u32) {
    with_thread(leave_mutex_code);
}

#[no_mangle]
pub extern "C" fn __tsan_mutex_pre_signal(_addr: *mut c_void, _flags: u32) {
    with_thread(enter_mutex_code);
}

#[no_mangle]
pub extern "C" fn __tsan_mutex_post_signal(_addr: *mut c_void, _flags: u32) {
    with_thread(leave_mutex_code);
}

#[no_mangle]
pub extern "C" fn __tsan_mutex_pre_divert(_addr: *mut c_void, _flags: u32) {
    with_thread(leave_mutex_code);
}

#[no_mangle]
pub extern "C" fn __tsan_mutex_post_divert(_addr: *mut c_void, _flags: u32) {
    with_thread(enter_mutex_code);
}

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
/// `AnnotateIgnoreReads/Writes/SyncBegin/End`: ignore regions (reads and writes
/// alike, as TSan), their beginnings kept for `finished with ignores enabled`.
macro_rules! ignore_annotations {
    ($($begin:ident, $end:ident => $kind:expr;)*) => {$(
        #[no_mangle]
        pub extern "C" fn $begin(_f: *const c_char, _l: c_int) {
            let pc = caller_pc();
            with_thread(|thr| ignores::begin(thr, $kind, pc));
        }
        #[no_mangle]
        pub extern "C" fn $end(_f: *const c_char, _l: c_int) {
            with_thread(|thr| ignores::end(thr, $kind));
        }
    )*};
}
ignore_annotations! {
    AnnotateIgnoreReadsBegin, AnnotateIgnoreReadsEnd => IgnoreKind::Accesses;
    AnnotateIgnoreWritesBegin, AnnotateIgnoreWritesEnd => IgnoreKind::Accesses;
    AnnotateIgnoreSyncBegin, AnnotateIgnoreSyncEnd => IgnoreKind::Sync;
}
#[no_mangle]
pub extern "C" fn RunningOnValgrind() -> c_int {
    0
}

/// RWLock annotations: locks the runtime cannot see, described by the program
/// (TSan: recursive for writers; the static kind is never destroyed).
#[no_mangle]
pub extern "C" fn AnnotateRWLockCreate(_f: *const c_char, _l: c_int, lock: *mut c_void) {
    let flags = MutexFlags::WRITE_REENTRANT;
    let pc = caller_pc();
    with_thread(|thr| mutex::create(thr, lock as usize, pc, flags, Record::Keep));
}
#[no_mangle]
pub extern "C" fn AnnotateRWLockCreateStatic(_f: *const c_char, _l: c_int, lock: *mut c_void) {
    let flags = MutexFlags::WRITE_REENTRANT.with(MutexFlags::LINKER_INIT);
    let pc = caller_pc();
    with_thread(|thr| mutex::create(thr, lock as usize, pc, flags, Record::Keep));
}
#[no_mangle]
pub extern "C" fn AnnotateRWLockDestroy(_f: *const c_char, _l: c_int, lock: *mut c_void) {
    let pc = caller_pc();
    with_thread(|thr| mutex::destroy(thr, lock as usize, pc, MutexFlags::NONE));
}
#[no_mangle]
pub extern "C" fn AnnotateRWLockAcquired(
    _f: *const c_char,
    _l: c_int,
    lock: *mut c_void,
    is_w: isize,
) {
    let mode = if is_w != 0 {
        LockMode::Write
    } else {
        LockMode::Read
    };
    let flags = MutexFlags::PRE_LOCK_ON_POST_LOCK;
    let pc = caller_pc();
    with_thread(|thr| mutex::post_lock(thr, lock as usize, pc, flags, 1, mode));
}
#[no_mangle]
pub extern "C" fn AnnotateRWLockReleased(
    _f: *const c_char,
    _l: c_int,
    lock: *mut c_void,
    is_w: isize,
) {
    let pc = caller_pc();
    with_thread(|thr| {
        if is_w != 0 {
            mutex::unlock(thr, lock as usize, pc, MutexFlags::NONE);
        } else {
            mutex::read_unlock(thr, lock as usize, pc);
        }
    });
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
