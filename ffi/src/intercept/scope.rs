//! The scope every interceptor opens (compiler-rt's `ScopedInterceptor`). It
//! decides once whether the program is calling, or the runtime (or libc on its
//! behalf: any call made while this thread is inside the runtime), in which case
//! the interceptor only calls the real function. For the program it runs the
//! interceptor's runtime work inside the runtime with the thread's context
//! ([`ScopedInterceptor::rt`]), keeping the real call itself outside, where a
//! signal is delivered at once (a blocking call must not hold signals back). On
//! exit it runs the handlers of signals that arrived during the interceptor's
//! runtime work and are still pending.

use crate::thread::{cur, in_runtime, with_thread, ThreadCtx, Unknown};

/// Who called an interceptor.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// The program: the call is checked and synchronizes.
    Program,
    /// The runtime, or libc on its behalf, or a thread the runtime does not know
    /// and should not attach here: the real function only.
    Runtime,
}

/// Whether the scope pushed the program's call site on the shadow stack.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Frame {
    Pushed,
    NotPushed,
}

pub struct ScopedInterceptor {
    caller: Caller,
    frame: Frame,
    /// Not `Send`: the scope is the calling thread's.
    _thread: core::marker::PhantomData<*mut ()>,
}

impl ScopedInterceptor {
    /// Opens the scope. `unknown` says what a call on a thread the runtime does not
    /// know yet is: `Attach` makes it the program's (the thread is attached when
    /// the interceptor first enters the runtime), `Skip` the runtime's.
    #[inline(always)]
    pub fn enter(unknown: Unknown) -> ScopedInterceptor {
        let t = cur();
        let caller = if !t.in_runtime() && (t.attached() || unknown == Unknown::Attach) {
            Caller::Program
        } else {
            Caller::Runtime
        };
        ScopedInterceptor {
            caller,
            frame: Frame::NotPushed,
            _thread: core::marker::PhantomData,
        }
    }

    /// [`ScopedInterceptor::enter`] for a thread the runtime knows, with the
    /// program's call site `pc` pushed on the shadow stack until the scope ends
    /// (when there is room), so what the real function does (a signal handler it
    /// runs, an allocation it reports) shows where the program called it.
    #[inline(always)]
    pub fn enter_with_frame(pc: u64) -> ScopedInterceptor {
        let mut scope = ScopedInterceptor::enter(Unknown::Skip);
        if scope.called_by_program() && cur().push_frame(pc) {
            scope.frame = Frame::Pushed;
        }
        scope
    }

    #[inline(always)]
    pub fn called_by_program(&self) -> bool {
        self.caller == Caller::Program
    }

    /// Runs `f` inside the runtime with the thread's context, if the program is
    /// the caller.
    #[inline]
    pub fn rt<R>(&self, f: impl FnOnce(&mut ThreadCtx) -> R) -> Option<R> {
        if self.called_by_program() {
            with_thread(f)
        } else {
            None
        }
    }

    /// Runs `f` inside the runtime without the thread's context (process-wide
    /// state only), if the program is the caller.
    #[inline]
    pub fn rt_global<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        self.called_by_program().then(|| in_runtime(f))
    }
}

impl Drop for ScopedInterceptor {
    #[inline]
    fn drop(&mut self) {
        if self.frame == Frame::Pushed {
            cur().pop_frame();
        }
        if self.called_by_program() && !cur().in_runtime() {
            crate::signals::leave_runtime();
        }
    }
}
