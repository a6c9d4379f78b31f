//! A task: one spawned future plus the little the loop must know about it.
//!
//! The loop keeps every task in a [`TaskTable`], a generational slab (see
//! `slab.rs`) indexed by a [`TaskKey`]: a key held by a stale waker or a
//! `JoinHandle` can never reach the next task that reuses the slot.
//!
//! Why a table and not `Arc<Task>` holding the future? Tasks here need not
//! be `Send` (an `Rc` inside a task must work), but wakers must be `Send +
//! Sync` because any thread may wake a task. So the future stays in this
//! table, owned by the loop thread, and a waker carries only the key.
//!
//! Read next: `waker.rs`, which turns a key into a wake-up.

use super::slab::{Key, Slab};
use super::waker::TaskWaker;
use super::watch::TaskWatch;
use crate::JoinError;
use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// A task's future with its output type erased, so futures of every output
/// type fit in one table. The `JoinHandle<T>` knows `T` and downcasts back.
/// (A `Box<dyn Any>` of a zero-sized value such as `()` allocates nothing.)
pub(crate) type TaskFuture = Pin<Box<dyn ErasedFuture>>;

/// A future whose output comes out boxed as `Box<dyn Any>`.
///
/// Every future is one, through the blanket impl below, so spawning just
/// boxes the user's future and lets the compiler coerce the box: no wrapper
/// future. The obvious wrapper, `async move { Box::new(future.await) }`,
/// costs twice the memory, because an async block keeps its captured
/// `future` *and* the awaited copy of it in separate slots of its state
/// (measured: a 1,026-byte future became 2,053 bytes). A hand-written
/// wrapper struct would need `unsafe` pin projection to poll its field;
/// the trait method gets `Pin<&mut F>` directly.
pub(crate) trait ErasedFuture {
    fn poll_erased(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Box<dyn Any>>;
}

impl<F> ErasedFuture for F
where
    F: Future,
    F::Output: 'static,
{
    fn poll_erased(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Box<dyn Any>> {
        self.poll(cx).map(|output| Box::new(output) as Box<dyn Any>)
    }
}

/// What a finished task leaves for its `JoinHandle`.
pub(crate) type Outcome = Result<Box<dyn Any>, JoinError>;

/// Where a task is in its life. Every task goes `Idle ⇄ Polling → Finished`.
pub(crate) enum Stage {
    /// Waiting to be polled; the loop owns the future.
    Idle(TaskFuture),
    /// Being polled right now: the future is out of the table, in the
    /// loop's hands. A task can therefore never be polled twice at once,
    /// and anything the task does to the table meanwhile (spawn, abort
    /// itself, drop its own handle) finds the slot free to borrow.
    Polling,
    /// Done. The future has been dropped; the outcome waits for the
    /// `JoinHandle` (`None` once the handle has taken it).
    Finished(Option<Outcome>),
}

/// One task's entry in the table.
pub(crate) struct Task {
    pub(crate) stage: Stage,
    /// Shared with every `Waker` of this task; see `waker.rs`. `None`
    /// once the task has finished: no wake can make a finished task run
    /// again, so the loop lets go of the waker then, not when the handle
    /// claims the output (see `finish` in `task_turn.rs`).
    pub(crate) waker: Option<Arc<TaskWaker>>,
    /// The waker of whoever awaits the `JoinHandle`, woken on finish.
    pub(crate) join_waker: Option<Waker>,
    /// False once the `JoinHandle` is dropped: the task is detached and its
    /// output is dropped as soon as it is made.
    pub(crate) has_handle: bool,
    /// Set by `JoinHandle::abort`; the loop drops the future at its next
    /// turn instead of polling it.
    pub(crate) abort_requested: bool,
    /// What the diagnostics keep about it (see `watch.rs`).
    pub(crate) watch: TaskWatch,
}

impl Task {
    /// The waker of a task that has not finished.
    pub(crate) fn waker(&self) -> &Arc<TaskWaker> {
        self.waker
            .as_ref()
            .expect("a task keeps its waker until it finishes")
    }
}

/// Names a task in the [`TaskTable`]; see `slab.rs` for why it cannot go
/// stale.
pub(crate) type TaskKey = Key;

/// Every task of one runtime, by key.
pub(crate) type TaskTable = Slab<Task>;

// The loop moves a task in and out of its slot on every spawn and finish:
// a `Task` is kept at 64 bytes (its slab slot, with the generation, is
// 72), and this says so if it grows.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Task>() == 64);
