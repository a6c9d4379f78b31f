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
//! the reactor (it is *deferred*, see `deferred.rs`) and returns
//! `Pending`: every other runnable task, and every socket, timer and
//! remote wake that is ready by then, gets a turn first. This is the same
//! idea as tokio's "coop" budget. tokio's number is 128; duet's is 64,
//! because the budget is also how long a ready socket may wait for a busy
//! task: beside a client streaming echo requests as fast as it can, a
//! quiet client's round trip took 0.6–0.8 ms at the median with 128 and
//! 0.24–0.44 ms with 64 (tokio's: 0.39–0.68 ms), while the extra polls
//! cost the busy task under 1% (one poll and one look at the reactor per
//! 64 system calls). `cargo bench --bench fairness` measures it.
//!
//! Outside a poll run by the loop (no executor on this thread) there is no
//! budget.
//!
//! Read next: `slab.rs`, the table behind tasks and sockets.

use super::context;
use super::diagnostics::{Notes, WaitKinds};
use std::cell::Cell;
use std::task::{Context, Poll};

/// Operations one task may complete in one poll before it must yield.
/// Large enough that a busy task does real work per turn, small enough
/// that the turn stays short (64 reads of 4 KiB is a quarter megabyte).
pub(crate) const OPERATIONS_PER_POLL: u32 = 64;

/// What the running poll has left to spend, and what kinds of thing it
/// has waited on (for the diagnostics, see `watch.rs`): one thread-local.
struct PollState {
    /// `None`: not inside a task poll, no limit.
    left: Cell<Option<u32>>,
    /// `WaitKinds` bits: where the poll left its waker
    /// (`diagnostics::waits_for`).
    waits: Cell<u8>,
}

thread_local! {
    static POLL: PollState = const {
        PollState {
            left: Cell::new(None),
            waits: Cell::new(0),
        }
    };
}

/// Gives the poll that is about to run a full budget, until dropped.
pub(crate) struct Budget {
    previous: Option<u32>,
}

impl Budget {
    #[inline]
    pub(crate) fn start() -> Budget {
        POLL.with(|poll| {
            poll.waits.set(0);
            Budget {
                previous: poll.left.replace(Some(OPERATIONS_PER_POLL)),
            }
        })
    }

    /// Ends the poll: restores the budget outside it and returns what the
    /// poll noted.
    #[inline]
    pub(crate) fn finish(self) -> Notes {
        let notes = POLL.with(|poll| Notes {
            // Used up: the poll did real work (64 operations).
            spent: poll.left.replace(self.previous) == Some(0),
            waits: WaitKinds(poll.waits.get()),
        });
        std::mem::forget(self); // the budget is already restored
        notes
    }
}

impl Drop for Budget {
    /// Only when the poll panicked through (`finish` is the normal end).
    fn drop(&mut self) {
        POLL.with(|poll| poll.left.set(self.previous));
    }
}

/// Said by a future as it returns `Pending` (through
/// `diagnostics::waits_for`): it waits on a thing of these kinds.
#[inline(always)]
pub(crate) fn note_wait(kinds: WaitKinds) {
    let _ = POLL.try_with(|poll| poll.waits.set(poll.waits.get() | kinds.0));
}

/// Spends one unit, or, if the budget is gone, schedules the task to run
/// again after the loop has looked at the reactor, and says `Pending`.
/// Call it first, before the operation does anything, so that a refused
/// operation has no effect.
pub(crate) fn poll_spend(cx: &mut Context<'_>) -> Poll<()> {
    POLL.try_with(|poll| match poll.left.get() {
        None => Poll::Ready(()),
        Some(0) => {
            context::defer(cx.waker());
            Poll::Pending
        }
        Some(left) => {
            poll.left.set(Some(left - 1));
            Poll::Ready(())
        }
    })
    .unwrap_or(Poll::Ready(()))
}
