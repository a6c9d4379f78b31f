//! `yield_now`: the smallest useful future, and the shape of them all.
//!
//! The first poll wakes its own task and returns `Pending`; the second
//! returns `Ready`. Waking *before* returning `Pending` is the rule every
//! future must keep: whoever returns `Pending` must have arranged a wake,
//! or the task sleeps forever (PITFALLS.md #1).
//!
//! The wake puts the task at the *back* of the run queue, so every other
//! runnable task runs before it does again; and the executor looks at I/O
//! and timers every few dozen polls however busy the queue is, so a task
//! that yields in a loop cannot starve them (PITFALLS.md #7).
//!
//! Read next: `io_source.rs`, where sockets meet the reactor.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Lets every other runnable task run once before this one continues.
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future made by [`yield_now`].
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
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
