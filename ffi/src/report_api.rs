//! The report-debugging API of stock TSan (`tsan_debugging.cpp`): the program's
//! weak `__tsan_on_report(report)` is called with each report umbra prints, and
//! `__tsan_get_current_report` and the `__tsan_get_report_*` getters read it
//! (description, accesses, stacks, location, mutexes, threads) while the callback
//! runs; `__tsan_locate_address` and `__tsan_get_alloc_stack` describe any address.
//! Stacks handed out are the ones the text report shows, innermost first.

use alloc::vec::Vec;
use core::ffi::{c_char, c_int, c_void};

use umbra_report::{AccessKind, Location, Report, ReportKind};

use crate::thread::{in_runtime, with_thread, REGISTRY};

extern "C" {
    #[linkage = "extern_weak"]
    static __tsan_on_report: Option<unsafe extern "C" fn(*mut c_void)>;
}

struct ApiAccess {
    tid: c_int,
    addr: usize,
    size: c_int,
    write: bool,
    atomic: bool,
    stack: Vec<u64>,
}

struct ApiThread {
    tid: c_int,
    os_tid: u64,
    running: bool,
    /// NUL-terminated, or empty for no name.
    name: Vec<u8>,
    parent: c_int,
    stack: Vec<u64>,
}

struct ApiLocation {
    kind: &'static [u8],
    global_start: usize,
    heap_start: usize,
    heap_size: usize,
    tid: c_int,
    fd: c_int,
    stack: Vec<u64>,
}

struct ApiMutex {
    id: u64,
    addr: usize,
    stack: Vec<u64>,
}

/// What the getters read: one report, in stock's terms.
struct ReportView {
    description: &'static [u8],
    count: c_int,
    stacks: Vec<Vec<u64>>,
    mops: Vec<ApiAccess>,
    locs: Vec<ApiLocation>,
    mutexes: Vec<ApiMutex>,
    threads: Vec<ApiThread>,
    unique_tids: Vec<c_int>,
    sleep: Vec<u64>,
}

/// The report the calling thread's `__tsan_on_report` is looking at.
#[thread_local]
static mut CURRENT: *const ReportView = core::ptr::null();

/// Stock's `ReportTypeDescription` strings.
fn description(kind: ReportKind) -> &'static [u8] {
    match kind {
        ReportKind::DataRace => b"data-race\0",
        ReportKind::HeapUseAfterFree => b"heap-use-after-free\0",
        ReportKind::ThreadLeak => b"thread-leak\0",
        ReportKind::MutexDestroyLocked => b"locked-mutex-destroy\0",
        ReportKind::MutexDoubleLock => b"mutex-double-lock\0",
        ReportKind::MutexBadUnlock => b"mutex-bad-unlock\0",
        ReportKind::MutexBadReadLock => b"mutex-bad-read-lock\0",
        ReportKind::MutexBadReadUnlock => b"mutex-bad-read-unlock\0",
        ReportKind::MutexInvalidAccess => b"mutex-invalid-access\0",
        ReportKind::Deadlock => b"lock-order-inversion\0",
        ReportKind::SignalUnsafe => b"signal-unsafe-call\0",
        ReportKind::ErrnoInSignal => b"errno-in-signal-handler\0",
    }
}

/// The registry's view of thread `tid`, as stock's `ReportThread`.
fn api_thread(tid: u32) -> ApiThread {
    let (os_tid, running, name, parent, creation) = {
        let r = REGISTRY.lock();
        match r.threads.get(tid as usize) {
            Some(t) => {
                let mut name: Vec<u8> = t.name.as_deref().unwrap_or("").as_bytes().to_vec();
                if !name.is_empty() {
                    name.push(0);
                }
                let mut creation = Vec::new();
                if t.creation_pc != 0 {
                    creation.push(t.creation_pc);
                }
                (
                    t.os_tid as u64,
                    t.running,
                    name,
                    t.parent,
                    (creation, t.creation_stack),
                )
            }
            None => (0, false, Vec::new(), 0, (Vec::new(), 0)),
        }
    };
    let (mut stack, id) = creation;
    if tid != 0 {
        stack.extend(crate::depot::DEPOT.unwind(id));
    }
    ApiThread {
        tid: tid as c_int,
        os_tid,
        running,
        name,
        parent: parent as c_int,
        stack: crate::report::visible_stack(&stack),
    }
}

fn view_of(r: &Report) -> ReportView {
    let mops: Vec<ApiAccess> = r
        .accesses
        .iter()
        .map(|a| ApiAccess {
            tid: a.thread as c_int,
            addr: a.addr as usize,
            size: a.size as c_int,
            write: matches!(a.kind, AccessKind::Write | AccessKind::AtomicWrite),
            atomic: matches!(a.kind, AccessKind::AtomicRead | AccessKind::AtomicWrite),
            stack: a
                .stack
                .as_deref()
                .map(crate::report::visible_stack)
                .unwrap_or_default(),
        })
        .collect();
    // Stock adds the threads of the accesses first (the main thread included),
    // then the others the report names.
    let mut tids: Vec<u32> = Vec::new();
    for t in r
        .accesses
        .iter()
        .map(|a| a.thread)
        .chain(r.threads.iter().map(|t| t.id))
    {
        if !tids.contains(&t) {
            tids.push(t);
        }
    }
    let loc = |kind: &'static [u8]| ApiLocation {
        kind,
        global_start: 0,
        heap_start: 0,
        heap_size: 0,
        tid: 0,
        fd: 0,
        stack: Vec::new(),
    };
    let locs = match &r.location {
        Location::None => Vec::new(),
        Location::Global { addr } => {
            let start = crate::report::global_symbol(*addr as usize).map_or(*addr, |g| g.start);
            alloc::vec![ApiLocation {
                global_start: start as usize,
                ..loc(b"global\0")
            }]
        }
        Location::Heap {
            block,
            size,
            thread,
            stack,
        } => alloc::vec![ApiLocation {
            heap_start: *block as usize,
            heap_size: *size as usize,
            tid: *thread as c_int,
            stack: crate::report::visible_stack(stack),
            ..loc(b"heap\0")
        }],
        Location::Stack { thread } => alloc::vec![ApiLocation {
            tid: *thread as c_int,
            ..loc(b"stack\0")
        }],
        Location::Tls { thread } => alloc::vec![ApiLocation {
            tid: *thread as c_int,
            ..loc(b"tls\0")
        }],
        Location::Fd {
            fd, thread, stack, ..
        } => alloc::vec![ApiLocation {
            tid: *thread as c_int,
            fd: *fd,
            stack: crate::report::visible_stack(stack),
            ..loc(b"fd\0")
        }],
    };
    ReportView {
        description: description(r.kind),
        // Stock counts only thread leaks (`And N more similar`); 0 otherwise.
        count: if r.kind == ReportKind::ThreadLeak {
            r.count as c_int
        } else {
            0
        },
        stacks: r
            .stacks
            .iter()
            .map(|s| crate::report::visible_stack(s))
            .collect(),
        mops,
        locs,
        mutexes: r
            .mutexes
            .iter()
            .map(|m| ApiMutex {
                id: m.id as u64,
                addr: m.addr as usize,
                stack: crate::report::visible_stack(&m.stack),
            })
            .collect(),
        // A lock-order inversion's thread per edge (stock's `unique_tids`).
        unique_tids: r.cycle_threads.iter().map(|&t| t as c_int).collect(),
        threads: tids.into_iter().map(api_thread).collect(),
        sleep: r
            .sleep_stack
            .as_deref()
            .map(crate::report::visible_stack)
            .unwrap_or_default(),
    }
}

/// Calls the program's `__tsan_on_report`, if it defines one, with `r` (after it
/// was printed, as stock does). The callback's own accesses are ignored: a
/// report from inside it would wait for itself.
pub fn on_report(r: &Report) {
    // SAFETY: reading a weak symbol's address (None when nothing defines it).
    let Some(hook) = (unsafe { __tsan_on_report }) else {
        return;
    };
    let view = in_runtime(|| view_of(r));
    with_thread(|thr| {
        thr.ignore_depth += 1;
        thr.refresh_fast_state();
    });
    // SAFETY: thread-local, set and cleared by this thread around the callback.
    let outer = unsafe { core::ptr::addr_of_mut!(CURRENT).replace(&view) };
    // SAFETY: the program's callback takes the opaque report pointer, valid while
    // it runs.
    unsafe { hook(&view as *const ReportView as *mut c_void) };
    // SAFETY: as above.
    unsafe { core::ptr::addr_of_mut!(CURRENT).write(outer) };
    with_thread(|thr| {
        thr.ignore_depth -= 1;
        thr.refresh_fast_state();
    });
}

/// Copies `stack` into the caller's `trace[0..size]`, zero-filling the rest
/// (stock leaves it; zeroes tell a caller where the stack ends).
unsafe fn copy_trace(stack: &[u64], trace: *mut *mut c_void, size: usize) {
    if trace.is_null() {
        return;
    }
    for i in 0..size {
        let pc = stack.get(i).copied().unwrap_or(0);
        // SAFETY: the caller passes room for `size` pointers.
        unsafe { *trace.add(i) = pc as *mut c_void };
    }
}

/// The view behind a report pointer the API handed out.
unsafe fn view<'a>(report: *mut c_void) -> &'a ReportView {
    // SAFETY: `report` is the pointer `__tsan_on_report` received (or
    // `__tsan_get_current_report` returned), valid while the callback runs.
    unsafe { &*(report as *const ReportView) }
}

#[no_mangle]
pub extern "C" fn __tsan_get_current_report() -> *mut c_void {
    // SAFETY: thread-local, read by its own thread.
    unsafe { core::ptr::addr_of!(CURRENT).read() as *mut c_void }
}

#[no_mangle]
pub unsafe extern "C" fn __tsan_get_report_data(
    report: *mut c_void,
    description: *mut *const c_char,
    count: *mut c_int,
    stack_count: *mut c_int,
    mop_count: *mut c_int,
    loc_count: *mut c_int,
    mutex_count: *mut c_int,
    thread_count: *mut c_int,
    unique_tid_count: *mut c_int,
    sleep_trace: *mut *mut c_void,
    trace_size: usize,
) -> c_int {
    // SAFETY: the caller passes a report of the API and valid out-pointers.
    unsafe {
        let v = view(report);
        *description = v.description.as_ptr() as *const c_char;
        *count = v.count;
        *stack_count = v.stacks.len() as c_int;
        *mop_count = v.mops.len() as c_int;
        *loc_count = v.locs.len() as c_int;
        *mutex_count = v.mutexes.len() as c_int;
        *thread_count = v.threads.len() as c_int;
        *unique_tid_count = v.unique_tids.len() as c_int;
        if !v.sleep.is_empty() {
            copy_trace(&v.sleep, sleep_trace, trace_size);
        }
    }
    1
}

#[no_mangle]
pub unsafe extern "C" fn __tsan_get_report_tag(_report: *mut c_void, tag: *mut usize) -> c_int {
    // SAFETY: the caller passes a valid out-pointer. umbra has no external tags.
    unsafe { *tag = 0 };
    1
}

#[no_mangle]
pub unsafe extern "C" fn __tsan_get_report_stack(
    report: *mut c_void,
    idx: usize,
    trace: *mut *mut c_void,
    trace_size: usize,
) -> c_int {
    // SAFETY: as for `__tsan_get_report_data`.
    let v = unsafe { view(report) };
    match v.stacks.get(idx) {
        Some(s) => {
            // SAFETY: as above.
            unsafe { copy_trace(s, trace, trace_size) };
            1
        }
        None => 0,
    }
}

#[no_mangle]
pub unsafe extern "C" fn __tsan_get_report_mop(
    report: *mut c_void,
    idx: usize,
    tid: *mut c_int,
    addr: *mut *mut c_void,
    size: *mut c_int,
    write: *mut c_int,
    atomic: *mut c_int,
    trace: *mut *mut c_void,
    trace_size: usize,
) -> c_int {
    // SAFETY: as for `__tsan_get_report_data`.
    let v = unsafe { view(report) };
    let Some(m) = v.mops.get(idx) else { return 0 };
    // SAFETY: as above.
    unsafe {
        *tid = m.tid;
        *addr = m.addr as *mut c_void;
        *size = m.size;
        *write = m.write as c_int;
        *atomic = m.atomic as c_int;
        copy_trace(&m.stack, trace, trace_size);
    }
    1
}

#[no_mangle]
pub unsafe extern "C" fn __tsan_get_report_loc(
    report: *mut c_void,
    idx: usize,
    kind: *mut *const c_char,
    addr: *mut *mut c_void,
    start: *mut usize,
    size: *mut usize,
    tid: *mut c_int,
    fd: *mut c_int,
    suppressable: *mut c_int,
    trace: *mut *mut c_void,
    trace_size: usize,
) -> c_int {
    // SAFETY: as for `__tsan_get_report_data`.
    let v = unsafe { view(report) };
    let Some(l) = v.locs.get(idx) else { return 0 };
    // SAFETY: as above.
    unsafe {
        *kind = l.kind.as_ptr() as *const c_char;
        *addr = l.global_start as *mut c_void;
        *start = l.heap_start;
        *size = l.heap_size;
        *tid = l.tid;
        *fd = l.fd;
        *suppressable = 0;
        copy_trace(&l.stack, trace, trace_size);
    }
    1
}

#[no_mangle]
pub unsafe extern "C" fn __tsan_get_report_loc_object_type(
    report: *mut c_void,
    idx: usize,
    object_type: *mut *const c_char,
) -> c_int {
    // SAFETY: as for `__tsan_get_report_data`.
    let v = unsafe { view(report) };
    if idx >= v.locs.len() {
        return 0;
    }
    // SAFETY: as above. Without external tags every object is plain memory.
    unsafe { *object_type = c"".as_ptr() };
    1
}

#[no_mangle]
pub unsafe extern "C" fn __tsan_get_report_mutex(
    report: *mut c_void,
    idx: usize,
    mutex_id: *mut u64,
    addr: *mut *mut c_void,
    destroyed: *mut c_int,
    trace: *mut *mut c_void,
    trace_size: usize,
) -> c_int {
    // SAFETY: as for `__tsan_get_report_data`.
    let v = unsafe { view(report) };
    let Some(m) = v.mutexes.get(idx) else {
        return 0;
    };
    // SAFETY: as above.
    unsafe {
        *mutex_id = m.id;
        *addr = m.addr as *mut c_void;
        *destroyed = 0;
        copy_trace(&m.stack, trace, trace_size);
    }
    1
}

#[no_mangle]
pub unsafe extern "C" fn __tsan_get_report_thread(
    report: *mut c_void,
    idx: usize,
    tid: *mut c_int,
    os_id: *mut u64,
    running: *mut c_int,
    name: *mut *const c_char,
    parent_tid: *mut c_int,
    trace: *mut *mut c_void,
    trace_size: usize,
) -> c_int {
    // SAFETY: as for `__tsan_get_report_data`.
    let v = unsafe { view(report) };
    let Some(t) = v.threads.get(idx) else {
        return 0;
    };
    // SAFETY: as above.
    unsafe {
        *tid = t.tid;
        *os_id = t.os_tid;
        *running = t.running as c_int;
        *name = if t.name.is_empty() {
            core::ptr::null()
        } else {
            t.name.as_ptr() as *const c_char
        };
        *parent_tid = t.parent;
        copy_trace(&t.stack, trace, trace_size);
    }
    1
}

#[no_mangle]
pub unsafe extern "C" fn __tsan_get_report_unique_tid(
    report: *mut c_void,
    idx: usize,
    tid: *mut c_int,
) -> c_int {
    // SAFETY: as for `__tsan_get_report_data`.
    let v = unsafe { view(report) };
    let Some(&t) = v.unique_tids.get(idx) else {
        return 0;
    };
    // SAFETY: as above.
    unsafe { *tid = t };
    1
}

/// What `addr` is: `"heap"` (with the live block's start and size), `"stack"`,
/// `"tls"` or `"global"` (with the variable's name, start and size when the
/// symbol tables know it). umbra has no fixed shadow range to name.
#[no_mangle]
pub unsafe extern "C" fn __tsan_locate_address(
    addr: usize,
    name: *mut c_char,
    name_size: usize,
    region_address: *mut usize,
    region_size: *mut usize,
) -> *const c_char {
    in_runtime(|| {
        if !name.is_null() && name_size > 0 {
            // SAFETY: the caller passes a buffer of `name_size` bytes.
            unsafe { *name = 0 };
        }
        let (kind, start, size): (&'static [u8], usize, usize) =
            match crate::intercept::app_heap::block_of(addr) {
                Some((b, blk)) => (b"heap\0", b, blk.size),
                None => match crate::thread::stack_or_tls_of(addr) {
                    Some((_, crate::thread::ThreadArea::Tls)) => (b"tls\0", 0, 0),
                    Some((_, crate::thread::ThreadArea::Stack)) => (b"stack\0", 0, 0),
                    None => match crate::report::global_symbol(addr) {
                        Some(g) => {
                            if !name.is_null() && name_size > 0 {
                                let n = g.name.len().min(name_size - 1);
                                // SAFETY: `n + 1 <= name_size` bytes of the caller's buffer.
                                unsafe {
                                    core::ptr::copy_nonoverlapping(
                                        g.name.as_ptr(),
                                        name as *mut u8,
                                        n,
                                    );
                                    *name.add(n) = 0;
                                }
                            }
                            (b"global\0", g.start as usize, g.size as usize)
                        }
                        None => (b"global\0", 0, 0),
                    },
                },
            };
        // SAFETY: out-pointers the caller may pass as null.
        unsafe {
            if !region_address.is_null() {
                *region_address = start;
            }
            if !region_size.is_null() {
                *region_size = size;
            }
        }
        kind.as_ptr() as *const c_char
    })
}

/// The allocation stack of the live heap block holding `addr`, outermost frame
/// first as stock fills it, at most `size` frames; its thread and OS thread id.
/// 0 when `addr` is in no live block.
#[no_mangle]
pub unsafe extern "C" fn __tsan_get_alloc_stack(
    addr: usize,
    trace: *mut usize,
    size: usize,
    thread_id: *mut c_int,
    os_id: *mut u64,
) -> usize {
    in_runtime(|| {
        let Some((_, blk)) = crate::intercept::app_heap::block_of(addr) else {
            return 0;
        };
        let mut stack = Vec::new();
        if blk.pc != 0 {
            stack.push(blk.pc);
        }
        stack.extend(crate::depot::DEPOT.unwind(blk.stack));
        let stack = crate::report::visible_stack(&stack);
        let os = REGISTRY
            .lock()
            .threads
            .get(blk.tid as usize)
            .map_or(0, |t| t.os_tid as u64);
        let n = size.min(stack.len());
        // SAFETY: out-pointers and a buffer of `size` words from the caller.
        unsafe {
            *thread_id = blk.tid as c_int;
            *os_id = os;
            for i in 0..n {
                *trace.add(i) = stack[stack.len() - 1 - i] as usize;
            }
        }
        n
    })
}
