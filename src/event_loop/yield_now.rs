//! `yield_now`: the smallest useful future, and the shape of them all.
//!
//! The first poll arranges its own wake and returns `Pending`; the second
//! returns `Ready`. Arranging a wake *before* returning `Pending` is the
//! rule every future must keep: whoever returns `Pending` must have left
//! its waker with something that will call it, or the task sleeps forever
//! (docs/PITFALLS.md #1).
//!
//! What a yield promises: before the task runs again, every task that was
//! on the run queue runs once, and so does every task woken meanwhile by a
//! ready socket, a due timer or another thread. That is because a yield
//! does not wake its task directly: it hands the waker to the loop, which
//! wakes it only after its next look at the reactor (a *deferred* wake,
//! see `deferred.rs`). So a task that yields in a loop cannot starve
//! sockets, timers or other tasks (docs/PITFALLS.md #7).
//!
//! Read next: `timer.rs`, a future that waits for a deadline.

use super::context;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Lets every other runnable task run once, and the loop look at its
/// sockets, timers and wakes from other threads, before this one
/// continues.
///
/// ```
/// use duet::event_loop::{Runtime, spawn, yield_now};
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let handle = spawn(async { 42 });
///     yield_now().await; // every queued task runs once: the spawned one too
///     assert!(handle.is_finished());
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future made by [`yield_now`].
///
/// ```
/// use duet::event_loop::{Runtime, yield_now};
///
/// let rt = Runtime::new()?;
/// let yielding = yield_now(); // a YieldNow: nothing happens until it is polled
/// rt.block_on(yielding);
/// # Ok::<(), std::io::Error>(())
/// ```
#[must_use = "yield_now does nothing unless you .await it"]
#[derive(Debug)]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        context::defer(cx.waker());
        Poll::Pending
    }
}
