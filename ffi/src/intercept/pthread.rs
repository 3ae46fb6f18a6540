//! pthread threads, mutexes, rwlocks, spinlocks, condition variables, barriers,
//! once, and semaphores: each successful acquire joins the object's clock into the
//! thread, each release publishes the thread's clock into the object. Blocking
//! acquisitions and condition waits go through `crate::profile`, which times them
//! when `profile_path` is set.

use alloc::boxed::Box;
use core::ffi::c_int;
use core::sync::atomic::{AtomicU32, Ordering};

use umbra_clocks::{SlotGrant, VectorClock};
use umbra_report::pprof::LockKind;

use crate::entry::caller_pc;
use crate::intercept::scope::ScopedInterceptor;
use crate::mutex::{self, LockMode, MutexFlags, Record};
use crate::profile;
use crate::real::{self, Ptr, StartFn};
use crate::sync;
use crate::thread::{self, in_runtime, with_known_thread, with_thread, Unknown, REGISTRY};

struct StartArgs {
    start: StartFn,
    arg: Ptr,
    tid: u32,
    grant: SlotGrant,
    clock: VectorClock,
    /// The creating thread's [`StartHandshake`], on its stack: it waits in
    /// `pthread_create` until the new thread has reached [`STARTED`], so the word
    /// outlives every use the new thread makes of it.
    handshake: *const AtomicU32,
    /// Set when `start` is Rust std's start routine (see `crate::rust_startup`).
    std_startup: Option<&'static crate::rust_startup::StdStartup>,
}

/// States of the creation handshake (compiler-rt's `created`/`started` pair).
/// The creator registers the new thread's handle, moves the word to [`CREATED`]
/// and waits; the new thread waits for [`CREATED`] (so a `pthread_detach(
/// pthread_self())` finds its handle registered), attaches itself to the runtime,
/// moves the word to [`STARTED`] and only then runs the program's routine.
///
/// Waiting for the start keeps thread start-up in program order, as under stock
/// TSan: a thread created earlier is running before a later one is created.
/// Without it, a thread that the scheduler starts late runs its start-up code
/// (Rust's std creates the key of its thread-local destructors lazily, with a
/// release CAS that every later thread's start-up acquires) after threads
/// created after it, and acquires their clocks: a real happens-before edge in
/// that execution, through which accesses of the creator made between the two
/// creations look ordered before the late thread (issue 13).
const CREATING: u32 = 0;
const CREATED: u32 = 1;
const STARTED: u32 = 2;

/// Blocks while `word` holds `state` (futex; wake-ups and signals recheck).
fn wait_while(word: &AtomicU32, state: u32) {
    // Acquire: pairs with the Release store of the next state, so what the other
    // side wrote before moving the state (the registered handle, the attached
    // thread) is visible after the wait.
    while word.load(Ordering::Acquire) == state {
        umbra_sys::futex_wait(word, state);
    }
}

/// Moves `word` to `state` and wakes the other side.
fn advance(word: &AtomicU32, state: u32) {
    // Release: publishes this side's work to the waiter's Acquire load.
    word.store(state, Ordering::Release);
    umbra_sys::futex_wake(word, 1);
}

static FINISH_KEY: AtomicU32 = AtomicU32::new(u32::MAX);

/// pthread key destructor: runs after the thread's TLS destructors; re-arms itself
/// a few times so it runs after other keys' destructors too.
extern "C" fn thread_finish_dtor(v: Ptr) {
    let left = v as usize;
    if left > 1 {
        // SAFETY: re-setting our own key from its destructor is allowed; glibc runs
        // destructors again while values are non-null (up to 4 rounds).
        unsafe { real::pthread_setspecific(FINISH_KEY.load(Ordering::Relaxed), (left - 1) as Ptr) };
        return;
    }
    with_known_thread(|thr| thr.finish());
    crate::signals::thread_finished();
}

fn finish_key() -> u32 {
    let k = FINISH_KEY.load(Ordering::Acquire);
    if k != u32::MAX {
        return k;
    }
    let mut key = 0u32;
    // SAFETY: creating a key with a valid destructor.
    unsafe { real::pthread_key_create(&mut key, thread_finish_dtor) };
    match FINISH_KEY.compare_exchange(u32::MAX, key, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => key,
        Err(k) => k,
    }
}

extern "C" fn thread_start(p: Ptr) -> Ptr {
    // SAFETY: `p` is the StartArgs boxed by pthread_create for this thread.
    let a = unsafe { Box::from_raw(p as *mut StartArgs) };
    // SAFETY: the creator waits in pthread_create until we reach STARTED below, so
    // its handshake word is alive until then; we do not touch it afterwards.
    let handshake = unsafe { &*a.handshake };
    wait_while(handshake, CREATING);
    in_runtime(|| {
        thread::attach(a.tid, a.grant, Some(&a.clock));
        // SAFETY: our key; the value counts the destructor rounds left.
        unsafe { real::pthread_setspecific(finish_key(), 3 as Ptr) };
        if let Some(startup) = a.std_startup {
            with_thread(|thr| thr.begin_std_startup(startup));
        }
    });
    thread::note_stack_and_tls();
    advance(handshake, STARTED);
    let (start, arg) = (a.start, a.arg);
    in_runtime(|| drop(a));
    start(arg)
}

const PTHREAD_CREATE_DETACHED: c_int = 1;

#[no_mangle]
pub unsafe extern "C" fn pthread_create(
    th: *mut usize,
    attr: Ptr,
    start: StartFn,
    arg: Ptr,
) -> c_int {
    crate::rt::ensure_init();
    crate::intercept::process::check_thread_creation_after_fork();
    let pc = caller_pc();
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    let handshake = AtomicU32::new(CREATING);
    let Some((args, tid)) = icpt.rt(|thr| {
        let stack = thr.stack_id();
        let (tid, grant) = thread::register(thr.tid, stack, pc, Some(&thr.clock.clock));
        let clock = thr.clock.clock.clone();
        thr.clock.tick();
        thr.refresh_fast_state();
        finish_key();
        let std_startup = crate::rust_startup::for_start_routine(start as usize);
        (
            Box::into_raw(Box::new(StartArgs {
                start,
                arg,
                tid,
                grant,
                clock,
                handshake: &handshake,
                std_startup,
            })),
            tid,
        )
    }) else {
        // SAFETY: forwarded (the runtime is the caller).
        return unsafe { real::pthread_create(th, attr, start, arg) };
    };
    // A thread created detached is never joined: no handle to remember (and no leak).
    let mut detach_state: c_int = 0;
    // SAFETY: `attr` is the caller's initialized attribute object (checked non-null).
    let detached = !attr.is_null()
        && unsafe { real::pthread_attr_getdetachstate(attr, &mut detach_state) } == 0
        && detach_state == PTHREAD_CREATE_DETACHED;
    // SAFETY: forwarding the caller's arguments with our start routine.
    let r = unsafe { real::pthread_create(th, attr, thread_start, args as Ptr) };
    in_runtime(|| {
        let mut reg = REGISTRY.lock();
        if r == 0 {
            if !detached {
                // SAFETY: on success pthread_create stored the handle.
                let h = unsafe { *th };
                reg.threads[tid as usize].pthread = h;
                reg.by_handle.insert(h, tid);
            }
        } else {
            reg.threads[tid as usize].running = false;
            drop(reg);
            // SAFETY: the thread was not created, the args are still ours.
            drop(unsafe { Box::from_raw(args) });
        }
    });
    if r == 0 {
        // Outside the runtime scope: a blocking wait, during which signals are
        // delivered as anywhere else in the program.
        advance(&handshake, CREATED);
        wait_while(&handshake, CREATED);
    }
    r
}

/// The joiner acquires the clock the thread published when it finished.
fn joined(icpt: &ScopedInterceptor, th: usize) {
    icpt.rt(|thr| {
        let mut reg = REGISTRY.lock();
        if let Some(tid) = reg.by_handle.remove(&th) {
            let info = &mut reg.threads[tid as usize];
            info.pthread = 0;
            let clock = core::mem::take(&mut info.exit_clock);
            drop(reg);
            thr.clock.acquire(&clock);
            thr.refresh_fast_state();
        }
    });
}

#[no_mangle]
pub unsafe extern "C" fn pthread_join(th: usize, ret: *mut Ptr) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    let r = unsafe { real::pthread_join(th, ret) };
    if r == 0 {
        joined(&icpt, th);
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn pthread_tryjoin_np(th: usize, ret: *mut Ptr) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    let r = unsafe { real::pthread_tryjoin_np(th, ret) };
    if r == 0 {
        joined(&icpt, th);
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn pthread_timedjoin_np(th: usize, ret: *mut Ptr, ts: Ptr) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    let r = unsafe { real::pthread_timedjoin_np(th, ret, ts) };
    if r == 0 {
        joined(&icpt, th);
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn pthread_detach(th: usize) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: forwarded.
    let r = unsafe { real::pthread_detach(th) };
    if r == 0 {
        icpt.rt_global(|| {
            let mut reg = REGISTRY.lock();
            if let Some(tid) = reg.by_handle.remove(&th) {
                reg.threads[tid as usize].pthread = 0;
            }
        });
    }
    r
}

/// The real call of a lock interceptor. A blocking one (`KIND via TRY`) goes
/// through [`profile::acquire`], which, when profiling, tries `TRY` on the same lock
/// first and times the blocking call only when the lock is busy.
macro_rules! forward {
    ($name:ident ( $($a:ident),* )) => {
        // SAFETY: forwarded.
        unsafe { real::$name($($a),*) }
    };
    ($name:ident ( $($a:ident),* ), $kind:ident via $try:ident ( $addr:ident )) => {
        profile::acquire(
            LockKind::$kind,
            caller_pc(),
            // SAFETY: the non-blocking form of the same call, on the caller's lock.
            || unsafe { real::$try($addr) },
            // SAFETY: forwarded.
            || unsafe { real::$name($($a),*) },
        )
    };
}

/// Locks: on success, acquire; unlocks: release-store before the real unlock.
macro_rules! acquiring {
    ($($name:ident ( $($a:ident : $t:ty),* ) => $addr:ident $(, $kind:ident via $try:ident)?;)*) => {$(
        #[no_mangle]
        pub unsafe extern "C" fn $name($($a: $t),*) -> c_int {
            let icpt = ScopedInterceptor::enter(Unknown::Attach);
            let r = forward!($name($($a),*) $(, $kind via $try($addr))?);
            if r == 0 {
                icpt.rt(|thr| sync::acquire(thr, $addr as usize));
            }
            r
        }
    )*};
}

/// `EOWNERDEAD`: a robust mutex is locked, its previous owner having died.
const EOWNERDEAD: c_int = 130;
/// `EINVAL`: a lock call on a destroyed (or never initialized) mutex.
const EINVAL: c_int = 22;

/// After a lock call on `m` at `pc` returned `r`: a success (or a robust mutex's
/// dead owner, repaired first) is [`mutex::post_lock`]; `EINVAL` is an invalid
/// mutex.
fn lock_returned(
    icpt: &ScopedInterceptor,
    r: c_int,
    m: usize,
    pc: u64,
    flags: MutexFlags,
    mode: LockMode,
) {
    if r == EOWNERDEAD {
        icpt.rt_global(|| mutex::repair(m));
    }
    if r == 0 || r == EOWNERDEAD {
        icpt.rt(|thr| mutex::post_lock(thr, m, pc, flags, 1, mode));
    } else if r == EINVAL {
        icpt.rt_global(|| mutex::invalid_access(m, pc));
    }
}

/// Mutex-like locks: the lock-order check before a blocking lock (a try-lock
/// never waits), the real call, then [`lock_returned`].
macro_rules! locking {
    ($($name:ident ( $($a:ident : $t:ty),* ) => $addr:ident, $flags:expr, $mode:expr $(, $kind:ident via $try:ident)?;)*) => {$(
        #[no_mangle]
        pub unsafe extern "C" fn $name($($a: $t),*) -> c_int {
            let pc = caller_pc();
            let icpt = ScopedInterceptor::enter(Unknown::Attach);
            icpt.rt(|thr| mutex::pre_lock(thr, $addr as usize, pc, $flags));
            let r = forward!($name($($a),*) $(, $kind via $try($addr))?);
            lock_returned(&icpt, r, $addr as usize, pc, $flags, $mode);
            r
        }
    )*};
}

const TRY: MutexFlags = MutexFlags::TRY_LOCK;
const BLOCKING: MutexFlags = MutexFlags::NONE;

locking! {
    pthread_mutex_lock(m: Ptr) => m, BLOCKING, LockMode::Write, Mutex via pthread_mutex_trylock;
    pthread_mutex_trylock(m: Ptr) => m, TRY, LockMode::Write;
    pthread_mutex_timedlock(m: Ptr, ts: Ptr) => m, BLOCKING, LockMode::Write, Mutex via pthread_mutex_trylock;
    pthread_mutex_clocklock(m: Ptr, c: c_int, ts: Ptr) => m, BLOCKING, LockMode::Write, Mutex via pthread_mutex_trylock;
    pthread_spin_lock(m: Ptr) => m, BLOCKING, LockMode::Write, SpinLock via pthread_spin_trylock;
    pthread_spin_trylock(m: Ptr) => m, TRY, LockMode::Write;
    pthread_rwlock_rdlock(m: Ptr) => m, BLOCKING, LockMode::Read, RwLock via pthread_rwlock_tryrdlock;
    pthread_rwlock_tryrdlock(m: Ptr) => m, TRY, LockMode::Read;
    pthread_rwlock_timedrdlock(m: Ptr, ts: Ptr) => m, BLOCKING, LockMode::Read, RwLock via pthread_rwlock_tryrdlock;
    pthread_rwlock_wrlock(m: Ptr) => m, BLOCKING, LockMode::Write, RwLock via pthread_rwlock_trywrlock;
    pthread_rwlock_trywrlock(m: Ptr) => m, TRY, LockMode::Write;
    pthread_rwlock_timedwrlock(m: Ptr, ts: Ptr) => m, BLOCKING, LockMode::Write, RwLock via pthread_rwlock_trywrlock;
}

acquiring! {
    sem_wait(s: Ptr) => s, Semaphore via sem_trywait;
    sem_trywait(s: Ptr) => s;
    sem_timedwait(s: Ptr, ts: Ptr) => s, Semaphore via sem_trywait;
    sem_clockwait(s: Ptr, c: c_int, ts: Ptr) => s, Semaphore via sem_trywait;
}

#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_unlock(m: Ptr) -> c_int {
    let pc = caller_pc();
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    icpt.rt(|thr| mutex::unlock(thr, m as usize, pc, MutexFlags::NONE));
    // SAFETY: forwarded.
    unsafe { real::pthread_mutex_unlock(m) }
}

#[no_mangle]
pub unsafe extern "C" fn pthread_spin_unlock(m: Ptr) -> c_int {
    let pc = caller_pc();
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    icpt.rt(|thr| mutex::unlock(thr, m as usize, pc, MutexFlags::NONE));
    // SAFETY: forwarded.
    unsafe { real::pthread_spin_unlock(m) }
}

/// Unlocking a rwlock: a writer's unlock replaces the write clock; readers' unlocks
/// accumulate in the read clock (all of them happen before the next writer).
#[no_mangle]
pub unsafe extern "C" fn pthread_rwlock_unlock(m: Ptr) -> c_int {
    let pc = caller_pc();
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    icpt.rt(|thr| mutex::read_or_write_unlock(thr, m as usize, pc));
    // SAFETY: forwarded.
    unsafe { real::pthread_rwlock_unlock(m) }
}

/// Initialization starts the object's record afresh, so a mutex re-created at the
/// same address (on the stack, say) shares nothing with the old one, and records
/// where the mutex was created.
macro_rules! creating {
    ($($name:ident ( $($a:ident : $t:ty),* ) => $addr:ident;)*) => {$(
        #[no_mangle]
        pub unsafe extern "C" fn $name($($a: $t),*) -> c_int {
            let pc = caller_pc();
            let icpt = ScopedInterceptor::enter(Unknown::Attach);
            icpt.rt(|thr| mutex::create(thr, $addr as usize, pc, MutexFlags::NONE, Record::Fresh));
            // SAFETY: forwarded.
            unsafe { real::$name($($a),*) }
        }
    )*};
}

creating! {
    pthread_mutex_init(m: Ptr, a: Ptr) => m;
    pthread_rwlock_init(m: Ptr, a: Ptr) => m;
    pthread_spin_init(m: Ptr, s: c_int) => m;
}

/// Destruction reports a mutex that is still locked (`destroy of a locked mutex`,
/// with where it was last locked), then forgets it.
macro_rules! destroying {
    ($($name:ident;)*) => {$(
        #[no_mangle]
        pub unsafe extern "C" fn $name(m: Ptr) -> c_int {
            let pc = caller_pc();
            let icpt = ScopedInterceptor::enter(Unknown::Attach);
            icpt.rt(|thr| mutex::destroy(thr, m as usize, pc, MutexFlags::NONE));
            // SAFETY: forwarded.
            unsafe { real::$name(m) }
        }
    )*};
}

destroying! {
    pthread_mutex_destroy;
    pthread_rwlock_destroy;
    pthread_spin_destroy;
}

#[no_mangle]
pub unsafe extern "C" fn sem_post(s: Ptr) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    icpt.rt(|thr| sync::release(thr, s as usize));
    // SAFETY: forwarded.
    unsafe { real::sem_post(s) }
}

/// A condition wait re-acquires its mutex `m` (also when the wait failed): a lock
/// whose lock-order check comes after it.
fn relock(icpt: &ScopedInterceptor, m: Ptr, pc: u64) {
    let flags = MutexFlags::PRE_LOCK_ON_POST_LOCK;
    icpt.rt(|thr| mutex::post_lock(thr, m as usize, pc, flags, 1, LockMode::Write));
}

/// Condition variables: waiting releases and re-acquires the mutex.
/// A condition wait: the mutex is released for the wait and taken again after it,
/// also when the thread is cancelled inside the wait (it unwinds holding the mutex
/// again). `wait` is the real call; `pc` is the program's call site.
fn cond_wait(m: Ptr, pc: u64, wait: impl FnOnce() -> c_int) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    icpt.rt(|thr| mutex::unlock(thr, m as usize, pc, MutexFlags::NONE));
    let r = super::cancel::cancellable(
        || relock(&icpt, m, pc),
        || profile::wait(LockKind::CondVar, pc, wait),
    );
    relock(&icpt, m, pc);
    r
}

#[no_mangle]
pub unsafe extern "C" fn pthread_cond_wait(cv: Ptr, m: Ptr) -> c_int {
    // SAFETY: forwarded.
    cond_wait(m, caller_pc(), || unsafe { real::pthread_cond_wait(cv, m) })
}

#[no_mangle]
pub unsafe extern "C" fn pthread_cond_timedwait(cv: Ptr, m: Ptr, ts: Ptr) -> c_int {
    // SAFETY: forwarded.
    cond_wait(m, caller_pc(), || unsafe {
        real::pthread_cond_timedwait(cv, m, ts)
    })
}

#[no_mangle]
pub unsafe extern "C" fn pthread_cond_clockwait(cv: Ptr, m: Ptr, clk: c_int, ts: Ptr) -> c_int {
    // SAFETY: forwarded.
    cond_wait(m, caller_pc(), || unsafe {
        real::pthread_cond_clockwait(cv, m, clk, ts)
    })
}

/// Barriers: everyone's arrival happens before anyone's departure.
#[no_mangle]
pub unsafe extern "C" fn pthread_barrier_wait(b: Ptr) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    icpt.rt(|thr| sync::release(thr, b as usize));
    // SAFETY: forwarded.
    let r = unsafe { real::pthread_barrier_wait(b) };
    icpt.rt(|thr| sync::acquire(thr, b as usize));
    r
}

#[thread_local]
static mut ONCE_FN: Option<(usize, extern "C" fn())> = None;

extern "C" fn once_trampoline() {
    // SAFETY: set by pthread_once on this thread just before the real call, which
    // runs the trampoline on the same thread.
    let (ctl, f) = unsafe { core::ptr::addr_of_mut!(ONCE_FN).read() }
        .expect("pthread_once trampoline without a routine");
    f();
    ScopedInterceptor::enter(Unknown::Attach).rt(|thr| sync::release(thr, ctl));
}

/// pthread_once: the initializer's completion happens before every return.
#[no_mangle]
pub unsafe extern "C" fn pthread_once(ctl: *mut c_int, f: extern "C" fn()) -> c_int {
    let icpt = ScopedInterceptor::enter(Unknown::Attach);
    // SAFETY: thread-local; saved and restored around nested once calls.
    let saved = unsafe { core::ptr::addr_of_mut!(ONCE_FN).replace(Some((ctl as usize, f))) };
    // SAFETY: forwarded with our trampoline, which calls `f`.
    let r = unsafe { real::pthread_once(ctl, once_trampoline) };
    // SAFETY: as above.
    unsafe { core::ptr::addr_of_mut!(ONCE_FN).write(saved) };
    icpt.rt(|thr| sync::acquire(thr, ctl as usize));
    r
}
