//! `JoinHandle`: a future for a task's output, and the task's remote control.
//!
//! Awaiting it gives `Ok(output)`, or `Err(JoinError)` if the task panicked
//! or was cancelled. Its three other powers:
//!
//! - `abort()`: the loop drops the task's future at its next turn instead
//!   of polling it; awaiting the handle then gives `Err(is_cancelled)`.
//!   A task that has already finished keeps its result: abort never
//!   replaces an output that exists. A task that aborts itself runs on
//!   until its next `.await` (or its end, if that comes first: then its
//!   output stands).
//! - `is_finished()`: has the task run to its end (or been cancelled)?
//! - dropping it *detaches* the task: it keeps running, and its output is
//!   dropped when made. This is tokio's choice, and std's for threads;
//!   smol and async-task cancel on drop instead. We follow std, so the
//!   blocking and event-loop handles behave alike.
//!
//! The handle holds a `Weak` reference to the runtime. A task may own its
//! own handle (or a handle to a task that owns one to it) without making
//! an `Rc` cycle that would keep everything alive; and a handle that
//! outlives its runtime simply reports `Err(is_cancelled)`.
//!
//! Read next: `budget.rs`.

use super::diagnostics;
use super::executor::Executor;
use super::task::{Stage, Task, TaskKey};
use super::task_turn::drop_catching_panic;
use crate::JoinError;
use crate::task_id::TaskId;
use crate::trace::WaitOn;
use futures_task::ArcWake;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Weak;
use std::task::{Context, Poll};

/// A handle to a spawned task: await it for the task's output.
///
/// Cancel safe, and `Unpin`: a `select` over `&mut handle` may lose and be
/// retried. Dropping the handle itself detaches the task (it runs on, and
/// its output is dropped); it does not abort it.
///
/// ```
/// use duet::event_loop::{JoinHandle, Runtime, spawn};
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let handle: JoinHandle<u32> = spawn(async { panic!("boom") });
///     assert!(handle.await.unwrap_err().is_panic());
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct JoinHandle<T> {
    executor: Weak<Executor>,
    key: TaskKey,
    id: TaskId,
    /// Set once the output has been handed out.
    claimed: bool,
    // `fn() -> T`: we hand out a `T` but hold none, so the handle is
    // `Unpin` whatever `T` is.
    _output: PhantomData<fn() -> T>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(executor: Weak<Executor>, key: TaskKey, id: TaskId) -> JoinHandle<T> {
        JoinHandle {
            executor,
            key,
            id,
            claimed: false,
            _output: PhantomData,
        }
    }

    /// The task's id, as traces show it.
    ///
    /// ```
    /// use duet::event_loop::{Runtime, spawn};
    ///
    /// let rt = Runtime::new()?;
    /// rt.block_on(async {
    ///     let handle = spawn(async {});
    ///     println!("spawned {}", handle.id()); // "spawned task 7", say
    ///     assert!(handle.id().as_u64() > 0);
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// Cancels the task: its future is dropped at the loop's next turn
    /// (at its next `.await` if the task aborts itself) and awaiting this
    /// handle gives `Err(is_cancelled)`. Does nothing if it has finished.
    ///
    /// ```
    /// use duet::event_loop::{Runtime, sleep, spawn};
    /// use std::time::Duration;
    ///
    /// let rt = Runtime::new()?;
    /// rt.block_on(async {
    ///     let handle = spawn(sleep(Duration::from_secs(60)));
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn abort(&self) {
        let Some(executor) = self.executor.upgrade() else {
            return; // the runtime is gone, and the task with it
        };
        let waker = {
            let mut tasks = executor.tasks().borrow_mut();
            match tasks.get_mut(self.key) {
                // Only a task that has not finished has a waker; a finished
                // one has nothing to abort.
                Some(Task {
                    waker: Some(waker),
                    abort_requested,
                    ..
                }) => {
                    *abort_requested = true;
                    waker.clone()
                }
                _ => return,
            }
        };
        // Queue the task so that the loop sees the request soon.
        ArcWake::wake_by_ref(&waker);
    }

    /// True once the task has run to its end, panicked or been cancelled.
    ///
    /// ```
    /// use duet::event_loop::{Runtime, spawn, yield_now};
    ///
    /// let rt = Runtime::new()?;
    /// rt.block_on(async {
    ///     let handle = spawn(async { 42 });
    ///     while !handle.is_finished() {
    ///         yield_now().await;
    ///     }
    ///     assert_eq!(handle.await.unwrap(), 42);
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_finished(&self) -> bool {
        if self.claimed {
            return true;
        }
        let Some(executor) = self.executor.upgrade() else {
            return true;
        };
        let tasks = executor.tasks().borrow();
        match tasks.get(self.key) {
            Some(task) => matches!(task.stage, Stage::Finished(_)),
            None => true,
        }
    }
}

impl<T: 'static> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        assert!(
            !self.claimed,
            "a JoinHandle was polled after it returned Ready; await it only once"
        );
        let Some(executor) = self.executor.upgrade() else {
            self.claimed = true;
            return Poll::Ready(Err(JoinError::cancelled()));
        };
        let mut tasks = executor.tasks().borrow_mut();
        let Some(task) = tasks.get_mut(self.key) else {
            // The runtime shut down and took the task with it.
            self.claimed = true;
            return Poll::Ready(Err(JoinError::cancelled()));
        };
        let Stage::Finished(outcome) = &mut task.stage else {
            // Not done yet: leave our waker (the latest one wins). Keeping
            // an equal one saves a reference-count round trip, no more.
            let old_waker = match &mut task.join_waker {
                Some(stored) if stored.will_wake(cx.waker()) => None,
                slot => slot.replace(cx.waker().clone()),
            };
            drop(tasks);
            drop(old_waker);
            let id = self.id;
            diagnostics::waits_for(WaitOn::Task(id));
            return Poll::Pending;
        };
        let outcome = outcome
            .take()
            .expect("a finished task's outcome is taken once");
        let task = tasks.remove(self.key);
        drop(tasks);
        drop(task);
        self.claimed = true;
        Poll::Ready(outcome.map(|output| {
            *output
                .downcast::<T>()
                .expect("a task's output has the type its JoinHandle names")
        }))
    }
}

impl<T> Drop for JoinHandle<T> {
    /// Detaches the task, or frees a finished task's unclaimed output.
    fn drop(&mut self) {
        if self.claimed {
            return;
        }
        let Some(executor) = self.executor.upgrade() else {
            return;
        };
        let mut tasks = executor.tasks().borrow_mut();
        let Some(task) = tasks.get_mut(self.key) else {
            return;
        };
        if matches!(task.stage, Stage::Finished(_)) {
            let task = tasks.remove(self.key);
            drop(tasks);
            // The output's own Drop runs outside the borrow, and a panic
            // in it stays here, as it does when a detached task's output
            // is dropped by the loop (`task_turn.rs`, `finish`).
            drop_catching_panic(task);
        } else {
            task.has_handle = false;
            let join_waker = task.join_waker.take();
            drop(tasks);
            drop(join_waker);
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id)
            .field("finished", &self.is_finished())
            .finish()
    }
}
