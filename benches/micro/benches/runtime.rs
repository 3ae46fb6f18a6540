//! ns per call of a TSan runtime's entry points, called directly (see src/lib.rs).
//! Every benchmark times `iters` operations itself (`iter_custom`), so criterion's
//! "time" is the cost of one operation as named.

use std::ffi::c_void;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use umbra_micro::*;

/// Words swept by the "new epoch" benchmarks: one release (epoch bump) per sweep.
const SWEEP: usize = 1024;

fn timed(iters: u64, mut f: impl FnMut()) -> Duration {
    let t = Instant::now();
    for _ in 0..iters {
        f();
    }
    t.elapsed()
}

/// `iters` accesses over `buf`, bumping the thread's epoch (a release on `sync`)
/// before each sweep of `SWEEP` words: each access is the first of its word in
/// the current epoch, after one of the same thread in an earlier epoch.
fn sweep_new_epoch(iters: u64, buf: &Buf, sync: *mut c_void, access: unsafe extern "C" fn(*mut c_void)) -> Duration {
    let t = Instant::now();
    let mut left = iters;
    while left > 0 {
        let n = left.min(SWEEP as u64) as usize;
        // SAFETY: runtime entry points on our own buffer.
        unsafe {
            __tsan_release(sync);
            for i in 0..n {
                access(buf.addr(i));
            }
        }
        left -= n as u64;
    }
    t.elapsed()
}

unsafe extern "C" fn read8(p: *mut c_void) {
    unsafe { __tsan_read8(p) }
}
unsafe extern "C" fn write8(p: *mut c_void) {
    unsafe { __tsan_write8(p) }
}

/// A fresh buffer for one benchmark, so that no earlier benchmark's accesses are
/// in its shadow (leaked: freeing would let the next one reuse the memory).
fn fresh(words: usize) -> &'static Buf {
    Box::leak(Box::new(Buf::new(words)))
}

fn access(c: &mut Criterion) {
    init();
    let sync = fresh(1).addr(0);
    let mut g = c.benchmark_group("access");
    // The dedup path: the same access again in the same epoch (the first call of
    // each benchmark records it; every later one finds it recorded).
    macro_rules! same_epoch {
        ($name:literal, $f:ident, $off:expr) => {{
            let p = fresh(4).byte($off);
            g.bench_function($name, |b| b.iter_custom(|n| timed(n, || unsafe { $f(p) })));
        }};
    }
    same_epoch!("read8_same_epoch", __tsan_read8, 0);
    same_epoch!("write8_same_epoch", __tsan_write8, 0);
    same_epoch!("read4_same_epoch", __tsan_read4, 0);
    same_epoch!("write1_same_epoch", __tsan_write1, 0);
    // Unaligned and 16-byte accesses, same epoch.
    same_epoch!("unaligned_read4_in_word_same_epoch", __tsan_unaligned_read4, 2);
    same_epoch!("unaligned_read8_crossing_same_epoch", __tsan_unaligned_read8, 4);
    same_epoch!("unaligned_write8_crossing_same_epoch", __tsan_unaligned_write8, 4);
    same_epoch!("read16_aligned_same_epoch", __tsan_read16, 0);
    same_epoch!("write16_aligned_same_epoch", __tsan_write16, 0);
    same_epoch!("unaligned_read16_crossing_same_epoch", __tsan_unaligned_read16, 4);
    // A narrower or different access to a word this thread already wrote whole in
    // this epoch: nothing can change, but only an identical record is a hit.
    {
        let p = fresh(1).addr(0);
        unsafe { __tsan_write8(p) };
        g.bench_function("read8_after_write8_same_epoch", |b| b.iter_custom(|n| timed(n, || unsafe { __tsan_read8(p) })));
        let p = fresh(1).addr(0);
        unsafe { __tsan_write8(p) };
        g.bench_function("read4_after_write8_same_epoch", |b| b.iter_custom(|n| timed(n, || unsafe { __tsan_read4(p) })));
        let p = fresh(1).addr(0);
        unsafe { __tsan_write8(p) };
        g.bench_function("write4_after_write8_same_epoch", |b| b.iter_custom(|n| timed(n, || unsafe { __tsan_write4(p) })));
        // Mixed sizes on one word in one epoch (a struct written whole, then a
        // byte of it, then read by field).
        let p = fresh(1).addr(0);
        unsafe {
            __tsan_read8(p);
            __tsan_write8(p);
            __tsan_write1(p);
        }
        g.bench_function("read4_after_read8_write8_write1_same_epoch", |b| {
            b.iter_custom(|n| timed(n, || unsafe { __tsan_read4(p) }))
        });
        // The same, each access in its own epoch: the word then holds more than
        // two records.
        let p = fresh(1).addr(0);
        unsafe {
            __tsan_read8(p);
            __tsan_release(sync);
            __tsan_write8(p);
            __tsan_release(sync);
            __tsan_write1(p);
            __tsan_release(sync);
        }
        g.bench_function("read4_after_read8_write8_write1_each_in_own_epoch", |b| {
            b.iter_custom(|n| timed(n, || unsafe { __tsan_read4(p) }))
        });
    }
    // First access of a word in a new epoch (one release per sweep of SWEEP words).
    let buf = fresh(SWEEP);
    g.bench_function("read8_new_epoch", |b| b.iter_custom(|n| sweep_new_epoch(n, buf, sync, read8)));
    let buf = fresh(SWEEP);
    g.bench_function("write8_new_epoch", |b| b.iter_custom(|n| sweep_new_epoch(n, buf, sync, write8)));
    // 4 KiB ranges: same epoch, and with a release (epoch bump) before each.
    let r = fresh(512).addr(0);
    g.bench_function("read_range_4k_same_epoch", |b| {
        b.iter_custom(|n| timed(n, || unsafe { __tsan_read_range(r, 4096) }))
    });
    let r = fresh(512).addr(0);
    g.bench_function("write_range_4k_same_epoch", |b| {
        b.iter_custom(|n| timed(n, || unsafe { __tsan_write_range(r, 4096) }))
    });
    let r = fresh(512).addr(0);
    g.bench_function("write_range_4k_new_epoch_incl_release", |b| {
        b.iter_custom(|n| {
            timed(n, || unsafe {
                __tsan_release(sync);
                __tsan_write_range(r, 4096)
            })
        })
    });
    g.finish();
}

/// Another thread reads every word of `buf` once, and is joined.
fn read_all_on_other_thread(buf: &Arc<Buf>) {
    let buf = Arc::clone(buf);
    std::thread::spawn(move || {
        for i in 0..buf.words() {
            unsafe { __tsan_read8(buf.addr(i)) };
        }
    })
    .join()
    .unwrap();
}

/// Reads of words another thread has read too.
fn shared(c: &mut Criterion) {
    init();
    let sync = Buf::new(1);
    let mut g = c.benchmark_group("shared");
    // Another thread read every word once (and finished): each read of ours is a
    // new-epoch read of a word holding a read of another thread.
    let buf = Arc::new(Buf::new(SWEEP));
    read_all_on_other_thread(&buf);
    g.bench_function("read8_new_epoch_after_other_reader", |b| {
        b.iter_custom(|n| sweep_new_epoch(n, &buf, sync.addr(0), read8))
    });
    g.bench_function("read8_same_epoch_after_other_reader", |b| {
        let p = buf.addr(7);
        b.iter_custom(|n| timed(n, || unsafe { __tsan_read8(p) }))
    });
    // The read-shared pattern of an array initialized, then read by two threads:
    // our write, another thread's read, then our reads (three records per word).
    let buf = Arc::new(Buf::new(SWEEP));
    for i in 0..SWEEP {
        unsafe { __tsan_write8(buf.addr(i)) };
    }
    read_all_on_other_thread(&buf);
    g.bench_function("read8_new_epoch_after_own_write_and_other_reader", |b| {
        b.iter_custom(|n| sweep_new_epoch(n, &buf, sync.addr(0), read8))
    });
    g.bench_function("read8_same_epoch_after_own_write_and_other_reader", |b| {
        let p = buf.addr(7);
        b.iter_custom(|n| timed(n, || unsafe { __tsan_read8(p) }))
    });
    // Another thread keeps sweeping reads over the same words meanwhile (its own
    // epoch bumped per sweep): both threads update the same shadow.
    let buf = Arc::new(Buf::new(SWEEP));
    let stop = Arc::new(AtomicBool::new(false));
    let other = {
        let (buf, stop) = (Arc::clone(&buf), Arc::clone(&stop));
        std::thread::spawn(move || {
            let sync = Buf::new(1);
            while !stop.load(Ordering::Relaxed) {
                black_box(sweep_new_epoch(SWEEP as u64, &buf, sync.addr(0), read8));
            }
        })
    };
    g.bench_function("read8_new_epoch_concurrent_reader", |b| {
        b.iter_custom(|n| sweep_new_epoch(n, &buf, sync.addr(0), read8))
    });
    stop.store(true, Ordering::Relaxed);
    other.join().unwrap();
    g.finish();
}

fn func(c: &mut Criterion) {
    init();
    let mut g = c.benchmark_group("func");
    let pc = func as *const c_void;
    g.bench_function("entry_exit_pair", |b| {
        b.iter_custom(|n| {
            timed(n, || unsafe {
                __tsan_func_entry(pc);
                __tsan_func_exit();
            })
        })
    });
    g.bench_function("entry_exit_16_deep_per_pair", |b| {
        b.iter_custom(|n| {
            let t = Instant::now();
            for _ in 0..n.div_ceil(16) {
                unsafe {
                    for _ in 0..16 {
                        __tsan_func_entry(pc);
                    }
                    for _ in 0..16 {
                        __tsan_func_exit();
                    }
                }
            }
            t.elapsed() * n as u32 / (n.div_ceil(16) * 16) as u32
        })
    });
    g.finish();
}

fn atomics(c: &mut Criterion) {
    init();
    // Each benchmark on its own word (a release creates a sync object there).
    let a = || fresh(1).addr(0) as *mut u64;
    let mut g = c.benchmark_group("atomic64");
    for (name, mo) in [("relaxed", RELAXED), ("acquire", ACQUIRE), ("seq_cst", SEQ_CST)] {
        let a = a();
        g.bench_function(format!("load_{name}"), |b| {
            b.iter_custom(|n| timed(n, || unsafe { black_box(__tsan_atomic64_load(a, mo)); }))
        });
    }
    for (name, mo) in [("relaxed", RELAXED), ("release", RELEASE), ("seq_cst", SEQ_CST)] {
        let a = a();
        g.bench_function(format!("store_{name}"), |b| {
            b.iter_custom(|n| timed(n, || unsafe { __tsan_atomic64_store(a, 1, mo) }))
        });
    }
    for (name, mo) in [("relaxed", RELAXED), ("acquire", ACQUIRE), ("release", RELEASE), ("acq_rel", ACQ_REL), ("seq_cst", SEQ_CST)] {
        let a = a();
        g.bench_function(format!("fetch_add_{name}"), |b| {
            b.iter_custom(|n| timed(n, || unsafe { black_box(__tsan_atomic64_fetch_add(a, 1, mo)); }))
        });
    }
    let a = a();
    g.bench_function("compare_exchange_seq_cst", |b| {
        b.iter_custom(|n| {
            timed(n, || unsafe {
                let mut cur = __tsan_atomic64_load(a, RELAXED);
                black_box(__tsan_atomic64_compare_exchange_strong(a, &mut cur, cur + 1, SEQ_CST, SEQ_CST));
            })
        })
    });
    g.finish();
}

extern "C" {
    fn pthread_mutex_lock(m: *mut c_void) -> i32;
    fn pthread_mutex_unlock(m: *mut c_void) -> i32;
}

fn sync(c: &mut Criterion) {
    init();
    let buf = Buf::new(8);
    let s = buf.addr(0);
    let mut g = c.benchmark_group("sync");
    g.bench_function("release", |b| b.iter_custom(|n| timed(n, || unsafe { __tsan_release(s) })));
    g.bench_function("acquire", |b| b.iter_custom(|n| timed(n, || unsafe { __tsan_acquire(s) })));
    g.bench_function("release_then_acquire", |b| {
        b.iter_custom(|n| {
            timed(n, || unsafe {
                __tsan_release(s);
                __tsan_acquire(s);
            })
        })
    });
    // A zeroed pthread_mutex_t is PTHREAD_MUTEX_INITIALIZER on glibc.
    let m = Buf::new(8);
    let mp = m.addr(0);
    g.bench_function("pthread_mutex_lock_unlock", |b| {
        b.iter_custom(|n| {
            timed(n, || unsafe {
                pthread_mutex_lock(mp);
                pthread_mutex_unlock(mp);
            })
        })
    });
    g.finish();
}

fn heap(c: &mut Criterion) {
    init();
    let mut g = c.benchmark_group("heap");
    for size in [64usize, 4096] {
        g.bench_function(format!("malloc_free_{size}"), |b| {
            b.iter_custom(|n| {
                timed(n, || unsafe {
                    let p = malloc(size);
                    free(black_box(p));
                })
            })
        });
    }
    g.finish();
}

extern "C" fn nothing(arg: *mut c_void) -> *mut c_void {
    arg
}

fn threads(c: &mut Criterion) {
    init();
    let mut g = c.benchmark_group("thread");
    g.sample_size(20);
    g.bench_function("pthread_create_join", |b| {
        b.iter_custom(|n| {
            timed(n, || unsafe {
                let mut t = 0usize;
                assert_eq!(pthread_create(&mut t, std::ptr::null(), nothing, std::ptr::null_mut()), 0);
                assert_eq!(pthread_join(t, std::ptr::null_mut()), 0);
            })
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(30);
    targets = access, shared, func, atomics, sync, heap, threads
}
criterion_main!(benches);
