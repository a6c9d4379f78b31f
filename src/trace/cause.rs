//! How a wake's cause reaches the `Wake` trace point.
//!
//! A waker is an opaque handle: the code that calls it cannot say why, and
//! `RemoteQueue::schedule`, where the `Wake` event is recorded, cannot ask.
//! So whoever calls wakers for a known reason (the loop firing a timer,
//! the reactor dispatching a socket's readiness, a channel, a finished
//! task, the loop handing a yielded task its turn) does it inside
//! [`waking`], which sets a thread-local for the duration; the trace point
//! reads it with [`wake_cause`]. With none set, the cause is the task
//! running on the thread, if any: it called the waker itself.
//!
//! Off, `waking` costs what any trace point costs: one relaxed load.
//!
//! Read next: `event.rs`.

use super::event::WokenBy;
use super::recorder::{current_task, enabled};
use std::cell::Cell;

thread_local! {
    /// Why the wakers this thread calls right now are called (see `waking`).
    static CAUSE: Cell<Option<WokenBy>> = const { Cell::new(None) };
}

/// Calls `wake` (which calls wakers) with `cause` as the reason every
/// `Wake` it records gives. `cause` is only called if tracing is on.
#[inline]
pub(crate) fn waking<R>(cause: impl FnOnce() -> WokenBy, wake: impl FnOnce() -> R) -> R {
    if !enabled() {
        return wake();
    }
    let _scope = CauseScope {
        previous: CAUSE.replace(Some(cause())),
    };
    wake()
}

/// Restores the outer cause, also if a waker panics.
struct CauseScope {
    previous: Option<WokenBy>,
}

impl Drop for CauseScope {
    fn drop(&mut self) {
        CAUSE.set(self.previous);
    }
}

/// Who is calling a waker on this thread: the cause set by `waking`, else
/// the task running here, else another thread or untraced code.
pub(crate) fn wake_cause(from_other_thread: bool) -> WokenBy {
    CAUSE
        .try_with(Cell::get)
        .ok()
        .flatten()
        .or_else(|| current_task().map(WokenBy::Task))
        .unwrap_or(if from_other_thread {
            WokenBy::Thread
        } else {
            WokenBy::Unknown
        })
}
