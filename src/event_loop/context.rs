//! The current runtime: which event loop, if any, is running on this thread.
//!
//! `spawn`, `sleep` and friends take no runtime argument, like tokio's and
//! like `std::thread::spawn`. They find the runtime through a thread-local
//! that `block_on` sets on entry and clears on exit (even by panic). The
//! same thread-local lets a waker tell "I am on my loop's thread" (push to
//! the local queue) from "I am elsewhere" (go through the remote queue).
//!
//! It is also how misuse is caught: `spawn` with no runtime here, or a
//! `block_on` while one is already running, panics with a message that
//! names the mistake and the fix (docs/PITFALLS.md #4: a nested `block_on`
//! would stall the outer loop and everything on it).
//!
//! Read next: `join_handle.rs`.

use super::executor::Executor;
use super::task::TaskKey;
use super::waker::RemoteQueue;
use crate::trace::WaitOn;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Waker;

thread_local! {
    static CURRENT: RefCell<Option<Rc<Executor>>> = const { RefCell::new(None) };
}

const NESTED_BLOCK_ON: &str = "duet::event_loop::Runtime::block_on was called inside another \
block_on on this thread. The inner call would block the loop thread, so no other task could \
run until it returned. Use `.await` on the future instead, or give the inner runtime its own \
thread (std::thread::spawn).";

/// Marks this thread as running `executor` until the guard drops.
pub(crate) fn enter(executor: &Rc<Executor>) -> EnterGuard {
    CURRENT.with_borrow_mut(|current| {
        if current.is_some() {
            panic!("{NESTED_BLOCK_ON}");
        }
        *current = Some(executor.clone());
    });
    EnterGuard { _private: () }
}

/// Clears the current runtime when `block_on` returns or unwinds.
pub(crate) struct EnterGuard {
    _private: (),
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let executor = CURRENT.with_borrow_mut(Option::take);
        drop(executor); // outside the borrow: nothing may reach CURRENT meanwhile
    }
}

/// The runtime running on this thread, if any.
pub(crate) fn current() -> Option<Rc<Executor>> {
    // `try_with`: during thread teardown the thread-local may already be
    // gone; then there is simply no current runtime.
    CURRENT
        .try_with(|current| current.borrow().clone())
        .ok()
        .flatten()
}

/// Calls `f` with the runtime running on this thread, if any, without
/// cloning its `Rc`: for quick questions such as "what time is it?".
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Executor>) -> R) -> R {
    let mut f = Some(f);
    let asked = CURRENT.try_with(|current| {
        let current = current.try_borrow().ok();
        let executor = current.as_ref().and_then(|current| current.as_deref());
        (f.take().expect("called once"))(executor)
    });
    match asked {
        Ok(answer) => answer,
        // The thread-local is gone (thread teardown): no runtime here.
        Err(_) => (f.take().expect("not called yet"))(None),
    }
}

/// The runtime running on this thread, or a panic that says how to fix it.
pub(crate) fn expect_current(what: &str) -> Rc<Executor> {
    current().unwrap_or_else(|| {
        panic!(
            "{what} was called outside a duet::event_loop runtime: no event loop is running \
             on this thread. Call it from inside Runtime::block_on, or from a task that \
             block_on runs, e.g. `rt.block_on(async {{ ... }})`."
        )
    })
}

/// Pushes `key` on the local run queue if `remote`'s runtime is the one
/// running on this thread. Returns false otherwise (another thread, or no
/// runtime running here right now).
pub(crate) fn push_local(remote: &Arc<RemoteQueue>, key: TaskKey) -> bool {
    CURRENT
        .try_with(|current| match &*current.borrow() {
            Some(executor) if executor.owns(remote) => {
                executor.schedule_local(key);
                true
            }
            _ => false,
        })
        .unwrap_or(false)
}

/// Wakes `waker` only after the loop running on this thread has next
/// looked at its reactor (see `deferred.rs`); with no
/// runtime running here, wakes it now.
pub(crate) fn defer(waker: &Waker) {
    super::diagnostics::waits_for(WaitOn::Turn);
    let deferred = CURRENT
        .try_with(|current| match &*current.borrow() {
            Some(executor) => {
                executor.defer(waker);
                true
            }
            None => false,
        })
        .unwrap_or(false);
    if !deferred {
        waker.wake_by_ref();
    }
}
