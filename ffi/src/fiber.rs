//! Fibers (`__tsan_create_fiber` and friends): user-level contexts that programs
//! switch between by hand (`swapcontext`, coroutine libraries). As in compiler-rt
//! a fiber is a thread of its own to the detector: a registry entry (`thread Tn` in
//! reports, with the name `__tsan_set_fiber_name` gave it), a slot and vector
//! clock, a shadow call stack, ignore state and history. Creation happens before
//! everything the fiber does; a switch is, unless the caller passes
//! `__tsan_switch_to_fiber_no_sync`, a release by the fiber left and an acquire by
//! the fiber entered, on the target fiber's handle. A switch saves the per-context
//! part of the OS thread's `THR` (fast state and shadow stack; not the
//! per-OS-thread runtime nesting count) into the fiber left and loads the target's.

use alloc::boxed::Box;
use alloc::string::String;
use core::ffi::{c_char, c_uint, c_void};

use crate::entry::caller_pc;
use crate::thread::{self, cur, in_runtime, with_thread, ThreadCtx, REGISTRY};

/// `__tsan_switch_to_fiber_no_sync`: switch without a happens-before edge.
const SWITCH_NO_SYNC: c_uint = 1;

/// The part of `thread::ThreadState` that belongs to a context rather than to the
/// OS thread running it.
struct SavedState {
    fast_state: u64,
    stack: *mut u64,
    depth: usize,
    stack_cap: usize,
    interned: usize,
}

/// A fiber handle: the context it runs with and, while it is not running, its
/// saved `THR` part. Every thread gets one on its first `__tsan_get_current_fiber`
/// or switch, so it can be switched back to.
pub struct Fiber {
    ctx: *mut ThreadCtx,
    saved: SavedState,
}

/// Whether a switch carries a happens-before edge.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SwitchSync {
    ReleaseAcquire,
    None,
}

/// The handle of `thr`, the context the calling thread runs now, made on first use.
fn current_fiber(thr: &mut ThreadCtx) -> *mut Fiber {
    if thr.fiber.is_null() {
        // The saved part is filled in when the context is switched away from.
        thr.fiber = Box::into_raw(Box::new(Fiber {
            ctx: thr as *mut ThreadCtx,
            saved: SavedState {
                fast_state: 0,
                stack: core::ptr::null_mut(),
                depth: 0,
                stack_cap: 0,
                interned: 0,
            },
        }));
    }
    thr.fiber
}

/// Installs `to` in the calling OS thread's `THR`, saving the running context into
/// its own fiber handle `from`. Runs with no [`thread::Rt`] scope open.
fn install(from: *mut Fiber, to: *mut Fiber) {
    let t = cur();
    // SAFETY: `from` is a live handle (made by `current_fiber` or
    // `__tsan_create_fiber`, freed only by `__tsan_destroy_fiber`, which never
    // frees the running one); a handle is only touched by the thread running or
    // switching to it, which the program serializes as it must for the fiber
    // itself.
    unsafe {
        (*from).saved = SavedState {
            fast_state: t.fast_state.get(),
            stack: t.stack.get(),
            depth: t.depth.get(),
            stack_cap: t.stack_cap.get(),
            interned: t.interned.get(),
        };
    }
    load(to);
}

/// Loads `to`'s saved state and context into the calling OS thread's `THR`
/// (without saving what ran before: `install` does, a destroyed fiber needs not).
fn load(to: *mut Fiber) {
    let t = cur();
    // SAFETY: `to` is a live handle, as in `install`.
    let ctx = unsafe {
        let s = &(*to).saved;
        t.stack.set(s.stack);
        t.depth.set(s.depth);
        t.stack_cap.set(s.stack_cap);
        t.interned.set(s.interned);
        t.fast_state.set(s.fast_state);
        (*to).ctx
    };
    thread::install_context(ctx);
}

#[no_mangle]
pub extern "C" fn __tsan_get_current_fiber() -> *mut c_void {
    with_thread(current_fiber).unwrap_or(core::ptr::null_mut()) as *mut c_void
}

#[no_mangle]
pub extern "C" fn __tsan_create_fiber(_flags: c_uint) -> *mut c_void {
    let pc = caller_pc();
    with_thread(|c| {
        let stack = c.stack_id();
        let (tid, grant) = thread::register(c.tid, stack, pc, Some(&c.clock.clock));
        // Creation happens before the fiber's first step (it starts knowing the
        // creator's clock), as for a thread.
        let new = thread::new_context(tid, grant, Some(&c.clock.clock));
        // No OS thread of its own: reports say `tid=0`, as stock's do.
        REGISTRY.lock().threads[tid as usize].os_tid = 0;
        c.clock.tick();
        c.refresh_fast_state();
        let fast_state = {
            // SAFETY: `new` was just made and is not installed anywhere.
            let nc = unsafe { &*new };
            umbra_shadow::cell::ShadowCell::fast_state(nc.clock.sid, nc.clock.epoch())
        };
        let fiber = Box::into_raw(Box::new(Fiber {
            ctx: new,
            saved: SavedState {
                fast_state,
                stack: thread::map_shadow_stack(),
                depth: 0,
                stack_cap: thread::STACK_CAP,
                interned: 0,
            },
        }));
        // SAFETY: as above.
        unsafe { (*new).fiber = fiber };
        fiber
    })
    .unwrap_or(core::ptr::null_mut()) as *mut c_void
}

#[no_mangle]
pub unsafe extern "C" fn __tsan_destroy_fiber(fiber: *mut c_void) {
    let fiber = fiber as *mut Fiber;
    if fiber.is_null() {
        return;
    }
    in_runtime(|| {
        let Some(back) = with_thread(current_fiber) else {
            return;
        };
        if back == fiber {
            umbra_sys::eprint_fmt(format_args!(
                "umbra: __tsan_destroy_fiber: the running fiber cannot be destroyed; ignored\n"
            ));
            return;
        }
        // The fiber finishes as a thread does (its clock published, its slot
        // freed, its shadow stack unmapped), running in this OS thread meanwhile.
        install(back, fiber);
        with_thread(|thr| thr.finish());
        // SAFETY: the context just finished belongs to this fiber alone; nothing
        // refers to it once the handle is gone (the registry keeps its trace).
        let (dead, dead_ctx) = unsafe { (fiber, (*fiber).ctx) };
        // A later fiber at the same address starts with no sync object.
        crate::sync::reset_range(fiber as usize, core::mem::size_of::<Fiber>());
        load(back);
        // SAFETY: made by `Box::into_raw` in `__tsan_create_fiber` (or
        // `current_fiber`), freed here only, once.
        unsafe {
            drop(Box::from_raw(dead));
            drop(Box::from_raw(dead_ctx));
        }
    });
}

#[no_mangle]
pub unsafe extern "C" fn __tsan_switch_to_fiber(fiber: *mut c_void, flags: c_uint) {
    let to = fiber as *mut Fiber;
    if to.is_null() {
        return;
    }
    let sync = if flags & SWITCH_NO_SYNC != 0 {
        SwitchSync::None
    } else {
        SwitchSync::ReleaseAcquire
    };
    in_runtime(|| {
        let Some(from) = with_thread(|thr| {
            let from = current_fiber(thr);
            if from != to && sync == SwitchSync::ReleaseAcquire {
                crate::sync::release(thr, to as usize);
            }
            from
        }) else {
            return;
        };
        if from == to {
            return;
        }
        install(from, to);
        if sync == SwitchSync::ReleaseAcquire {
            with_thread(|thr| crate::sync::acquire(thr, to as usize));
        }
    });
}

#[no_mangle]
pub unsafe extern "C" fn __tsan_set_fiber_name(fiber: *mut c_void, name: *const c_char) {
    let fiber = fiber as *mut Fiber;
    if fiber.is_null() {
        return;
    }
    in_runtime(|| {
        let owned = if name.is_null() {
            None
        } else {
            // SAFETY: the caller passes a NUL-terminated string.
            let bytes = unsafe { core::ffi::CStr::from_ptr(name) }.to_bytes();
            Some(String::from_utf8_lossy(bytes).into_owned())
        };
        // SAFETY: a live handle (see `install`); its context outlives it.
        let tid = unsafe { (*(*fiber).ctx).tid };
        if let Some(info) = REGISTRY.lock().threads.get_mut(tid as usize) {
            info.name = owned;
        }
    });
}
