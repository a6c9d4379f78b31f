//! One turn of one task: take its future out of the table, poll it, and
//! put it back or record how it ended.
//!
//! Four rules keep this sound; each names the pitfall it prevents
//! (`docs/PITFALLS.md`):
//!
//! 1. A task is polled only from the run queue, and a wake only queues it
//!    (#9); the `queued` flag keeps it there at most once (#6).
//! 2. A key whose task has finished, or whose slot was reused, is skipped:
//!    a late wake never polls a finished future (#5).
//! 3. Every poll runs inside `catch_unwind`: a panicking task becomes an
//!    `Err(JoinError)` for its handle, and the loop runs on (#10).
//! 4. No `RefCell` borrow is held while user code runs: polling, dropping a
//!    future and dropping an output all happen with the table released,
//!    because user code may spawn, abort or drop handles (#9).
//!
//! Every poll also runs with a fresh operation budget (`budget.rs`), so a
//! task whose I/O is always ready still lets the others run (#7).
//!
//! Read next: `runtime.rs` (`block_on`, which starts the loop).

use super::budget::Budget;
use super::diagnostics::Notes;
use super::executor::Executor;
use super::task::{Outcome, Stage, TaskFuture, TaskKey};
use super::waker::TaskWaker;
use crate::JoinError;
use crate::task_id::TaskId;
use crate::trace::{self, CurrentTask, EventKind, WokenBy};
use futures_task::waker_ref;
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::task::{Context, Poll};

/// What the loop should do with a key it took off the run queue.
enum Turn {
    Poll(TaskFuture, Arc<TaskWaker>),
    Cancel(TaskFuture),
    Skip,
}

impl Executor {
    /// Polls the spawned task `key` once, if it still wants polling.
    pub(crate) fn poll_spawned_task(&self, key: TaskKey) {
        let (mut future, waker) = match self.take_for_turn(key) {
            Turn::Poll(future, waker) => (future, waker),
            Turn::Cancel(future) => {
                // Its `Drop` runs now: a slow one is this task's.
                self.polling(key, std::ptr::null());
                return self.cancel(key, future);
            }
            Turn::Skip => return,
        };
        let waker_ref = waker_ref(&waker);
        let mut cx = Context::from_waker(&waker_ref);
        self.polling(key, Arc::as_ptr(&waker).cast());
        let (result, notes) = poll_with_budget(waker.id, || {
            catch_unwind(AssertUnwindSafe(|| future.as_mut().poll_erased(&mut cx)))
        });
        match result {
            Ok(Poll::Pending) => self.put_back(key, future, &waker, notes),
            Ok(Poll::Ready(output)) => {
                drop_catching_panic(future);
                self.finish(key, Ok(output));
            }
            Err(payload) => {
                // The future may be half-way through something; all we can
                // do is drop it. This happens after the unwinding has ended
                // (its `Drop` sees `thread::panicking() == false`), so a
                // `Drop` that panics too is caught here instead of aborting
                // the process, as a second panic during unwinding would.
                drop_catching_panic(future);
                self.finish(key, Err(JoinError::panic(payload)));
            }
        }
    }

    /// Takes the task's future out of its slot (see `Stage::Polling`).
    fn take_for_turn(&self, key: TaskKey) -> Turn {
        let mut tasks = self.tasks.borrow_mut();
        let Some(task) = tasks.get_mut(key) else {
            return Turn::Skip; // finished and claimed, or a stale key
        };
        let Stage::Idle(_) = task.stage else {
            return Turn::Skip; // finished: a late wake
        };
        let Stage::Idle(future) = std::mem::replace(&mut task.stage, Stage::Polling) else {
            unreachable!("checked just above")
        };
        if task.abort_requested {
            return Turn::Cancel(future);
        }
        let waker = task.waker();
        waker.clear_queued();
        Turn::Poll(future, waker.clone())
    }

    /// Returns a pending future to its slot, unless the task aborted
    /// itself during the poll: then it does not run past this `.await`.
    /// (`waker` is the turn's copy and `notes` what the poll noted, for
    /// the diagnostics.)
    // Inlined into the turn: it runs after every pending poll.
    #[inline(always)]
    fn put_back(&self, key: TaskKey, future: TaskFuture, waker: &Arc<TaskWaker>, notes: Notes) {
        let mut tasks = self.tasks.borrow_mut();
        let task = tasks
            .get_mut(key)
            .expect("a task stays in the table while it is polled");
        if task.abort_requested {
            drop(tasks);
            self.cancel(key, future);
        } else {
            task.stage = Stage::Idle(future);
            self.watch_pending(task, waker, notes);
        }
    }

    fn cancel(&self, key: TaskKey, future: TaskFuture) {
        let outcome = match drop_catching_panic(future) {
            None => Err(JoinError::cancelled()),
            Some(payload) => Err(JoinError::panic(payload)),
        };
        self.finish(key, outcome);
    }

    /// Records a task's outcome (its future already dropped) and wakes
    /// whoever awaits its `JoinHandle`. A detached task's outcome has no
    /// reader, so the task leaves the table at once.
    fn finish(&self, key: TaskKey, outcome: Outcome) {
        self.watch.deferred.set(false); // a yield on its way to the end
        // Its waker's memory may soon be another task's: `deferred.rs`.
        self.polling(key, std::ptr::null());
        let mut tasks = self.tasks.borrow_mut();
        let task = tasks
            .get_mut(key)
            .expect("a task stays in the table until it finishes");
        // No wake can make a finished task run again, so it lets go of its
        // waker now rather than when its handle claims the output. The
        // loop keeps the last finished task's waker, to name that task if
        // the poll that ended it was slow, and drops the one before: the
        // free moves from claiming, which a task may do for thousands of
        // outputs in a row, to finishing. (It made claiming 16-byte
        // outputs 20% faster, 75 to 60 ns each.)
        let waker = task.waker.take().expect("a task finishes once");
        let id = waker.id;
        if waker.named {
            self.remote.forget_name(id);
        }
        let previous = self.watch.finished_last.replace(Some(waker));
        if task.has_handle {
            task.stage = Stage::Finished(Some(outcome));
            let join_waker = task.join_waker.take();
            drop(tasks);
            drop(previous);
            if let Some(waker) = join_waker {
                trace::waking(|| WokenBy::Finished(id), || waker.wake());
            }
        } else {
            let task = tasks.remove(key);
            drop(tasks);
            drop(previous);
            drop_catching_panic((task, outcome));
        }
    }

    /// Drops every task's future and output: the runtime is going away.
    /// Wakes that these drops cause are no-ops (the runtime is closed).
    pub(crate) fn shutdown(&self) {
        self.remote.close();
        loop {
            let tasks = self.tasks.borrow_mut().drain();
            if tasks.is_empty() {
                break;
            }
            for task in tasks {
                drop_catching_panic(task);
            }
        }
        self.remote.forget_names();
        self.clear_queues();
    }
}

/// Runs one poll of task `id`: with a fresh operation budget (see
/// `budget.rs`), and, when tracing, between `PollStart` and `PollEnd`
/// events, with the task marked as this thread's current one so that what
/// it waits for is traced under its name. Returns the poll's result and
/// what it noted for the diagnostics.
#[inline(always)]
pub(crate) fn poll_with_budget<T>(
    id: TaskId,
    poll: impl FnOnce() -> std::thread::Result<Poll<T>>,
) -> (std::thread::Result<Poll<T>>, Notes) {
    let budget = Budget::start();
    // The fast path. (Taking the traced path while tracing is off would
    // only be slower: every `emit` in it checks again.)
    if !trace::enabled() {
        let result = poll();
        return (result, budget.finish());
    }
    trace::emit(|| (Some(id), EventKind::PollStart));
    let current = CurrentTask::enter(id);
    let result = poll();
    drop(current);
    let notes = budget.finish();
    let ready = !matches!(result, Ok(Poll::Pending));
    trace::emit(|| (Some(id), EventKind::PollEnd { ready }));
    (result, notes)
}

/// Drops `value`, catching a panic from its `Drop`. Returns the payload of
/// such a panic. (The panic hook has already printed its message.)
#[inline(always)]
pub(crate) fn drop_catching_panic<T>(value: T) -> Option<Box<dyn Any + Send>> {
    catch_unwind(AssertUnwindSafe(move || drop(value))).err()
}
