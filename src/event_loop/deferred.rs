//! Deferred wakes: how a task lets everything else run first.
//!
//! A task that must let others run (`yield_now`, or one whose operation
//! budget is spent, see `budget.rs`) could simply wake itself: it would
//! go to the back of the run queue and run again after every task queued
//! now. But the tasks queued now are not all that waits: a socket may
//! have become ready, a timer may be due, another thread may have woken a
//! task, and the loop only learns of those when it looks at the reactor.
//! So the task is *deferred*: it waits in a list that the loop wakes only
//! after its next look at the reactor (`after_reactor` in `executor.rs`),
//! behind everything that look found (docs/PITFALLS.md #7). When only
//! deferred tasks are left, the loop looks at once.
//!
//! The list keeps the task's key when the waker handed over is the
//! polled task's own, the common case: no waker is cloned, and none is
//! called back through its vtable later; the loop sets the task's
//! `queued` flag and pushes its key, as a wake would. Any other waker (a
//! future inside `join` or `select` holds a child's waker) is cloned and
//! called as usual.
//!
//! How the loop knows the waker is the task's own: a task's `Waker`
//! points to the task's `Arc<TaskWaker>` (`waker.rs`), so the loop notes
//! that address before each poll (`polling`) and compares. The turn holds
//! a copy of that `Arc` while the poll runs, so no other task can have
//! the same address meanwhile; when the task finishes, the address is
//! forgotten. (The key noted with it also names the task in a slow-poll
//! report, `slow_poll.rs`.) A task deferred by key holds no waker copy in
//! the list, so the lost-waker check (`watch.rs`) is told of every
//! deferral, and does not take the task for lost.
//!
//! Read next: `task_turn.rs`, one poll of one task.

use super::executor::Executor;
use super::task::TaskKey;
use super::waker::trace_local_wake;
use crate::trace::{self, WokenBy};
use std::task::Waker;

/// Who a deferred wake is for.
pub(crate) enum Deferred {
    /// The task that was being polled, which handed over its own waker.
    Task(TaskKey),
    /// Any other waker.
    Waker(Waker),
}

impl Executor {
    /// Notes that task `key`, whose waker's address is `waker`, is being
    /// polled (null for `block_on`'s future, whose wakes go by waker, and
    /// when no task's waker is to match).
    #[inline(always)]
    pub(crate) fn polling(&self, key: TaskKey, waker: *const ()) {
        self.polling.set((key, waker));
    }

    /// The task polled last (or being polled now).
    pub(crate) fn polled_last(&self) -> TaskKey {
        self.polling.get().0
    }

    /// Keeps `waker` until the loop has next looked at the reactor, then
    /// wakes it.
    pub(crate) fn defer(&self, waker: &Waker) {
        let (key, own) = self.polling.get();
        // A task's waker points to its `Arc<TaskWaker>` (`waker.rs`): the
        // same address is the same task, and its key will do.
        let deferred = if !own.is_null() && waker.data() == own {
            Deferred::Task(key)
        } else {
            Deferred::Waker(waker.clone())
        };
        self.deferred.borrow_mut().push(deferred);
        self.watch.deferred.set(true); // for the diagnostics: see `watch.rs`
    }

    /// Wakes every deferred task, in the order they deferred. Called
    /// after each look at the reactor.
    pub(super) fn wake_deferred(&self) {
        let mut deferred = self.deferred.take();
        // Wake with the list released: a waker may run foreign code.
        trace::waking(
            || WokenBy::Turn,
            || {
                for deferred in deferred.drain(..) {
                    match deferred {
                        Deferred::Task(key) => self.wake_local(key),
                        Deferred::Waker(waker) => waker.wake(),
                    }
                }
            },
        );
        // Put the (now empty) list back, to reuse its allocation, and keep
        // any task a wake above deferred anew: it waits for the next look.
        let newly_deferred = self.deferred.replace(deferred);
        self.deferred.borrow_mut().extend(newly_deferred);
    }

    /// Wakes task `key` from the loop thread, as its waker would (a task
    /// already queued stays queued once). A task that has finished, or
    /// whose slot is gone, is skipped here.
    fn wake_local(&self, key: TaskKey) {
        let tasks = self.tasks.borrow();
        let Some(waker) = tasks.get(key).and_then(|task| task.waker.as_ref()) else {
            return; // finished (it has let go of its waker), or gone
        };
        if waker.mark_queued() {
            self.schedule_local(key);
            trace_local_wake(waker.id);
        }
    }
}
