//! The budget: fairness *inside* one task's poll.
//!
//! The loop is fair between polls: the run queue is FIFO and the reactor
//! is checked every few dozen polls. But a poll only ends when the task
//! returns, and a task only returns `Pending` when something is not ready.
//! A task reading a socket that always has data (a fast peer), or
//! receiving from a channel that is never empty, finds everything ready:
//! its loop `while let Ok(n) = stream.read(..).await` never returns
//! `Pending`, and every other task, every timer, waits behind it: a 10 ms
//! sleep beside such a reader would wait as long as the peer kept sending.
//! (`tests/fairness_budget.rs` times that sleep beside such tasks.)
//!
//! So each poll gets a budget of [`OPERATIONS_PER_POLL`] operations. Each
//! poll of a socket operation (`accept`, `connect`, a read or a write:
//! `io_source.rs`), of an async `send` or `recv` on an mpsc channel and of
//! a `Sleep` spends one; `try_send` and `try_recv` never wait, and spend
//! none. (A oneshot, a `JoinHandle` or a `yield_now` can be ready at most
//! once, so they need no budget, and a `timeout` checks its deadline
//! without one, see `timeout.rs`.) When none is left, the operation does
//! nothing, asks for its task to be woken after the loop's next look at
//! the reactor (it is *deferred*, see `executor.rs`) and returns
//! `Pending`: every other runnable task, and every socket, timer and
//! remote wake that is ready by then, gets a turn first. This is the same
//! idea as tokio's "coop" budget (also 128).
//!
//! Outside a poll run by the loop (no executor on this thread) there is no
//! budget.
//!
//! Read next: `slab.rs`, the table behind tasks and sockets.

use super::context;
use std::cell::Cell;
use std::task::{Context, Poll};

/// Operations one task may complete in one poll before it must yield.
/// Large enough that a busy task does real work per turn, small enough
/// that the turn stays short (128 reads of 4 KiB is half a megabyte).
pub(crate) const OPERATIONS_PER_POLL: u32 = 128;

thread_local! {
    /// `None`: not inside a task poll, no limit.
    static LEFT: Cell<Option<u32>> = const { Cell::new(None) };
}

/// Gives the poll that is about to run a full budget, until dropped.
pub(crate) struct Budget {
    previous: Option<u32>,
}

impl Budget {
    pub(crate) fn start() -> Budget {
        Budget {
            previous: LEFT.replace(Some(OPERATIONS_PER_POLL)),
        }
    }
}

impl Drop for Budget {
    fn drop(&mut self) {
        LEFT.set(self.previous);
    }
}

/// Spends one unit, or, if the budget is gone, schedules the task to run
/// again after the loop has looked at the reactor, and says `Pending`.
/// Call it first, before the operation does anything, so that a refused
/// operation has no effect.
pub(crate) fn poll_spend(cx: &mut Context<'_>) -> Poll<()> {
    match LEFT.try_with(Cell::get).ok().flatten() {
        None => Poll::Ready(()),
        Some(0) => {
            super::diagnostics::budget_spent();
            context::defer(cx.waker());
            Poll::Pending
        }
        Some(left) => {
            LEFT.set(Some(left - 1));
            Poll::Ready(())
        }
    }
}
