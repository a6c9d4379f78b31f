//! Wakers: how a task that returned `Pending` gets polled again.
//!
//! A `Waker` is a handle anyone may hold and call, from any thread. Ours is
//! an `Arc<TaskWaker>`, made with `futures_task::ArcWake` (no `unsafe`, no
//! hand-built vtable). It carries the task's [`TaskKey`] and a handle to
//! the runtime's [`RemoteQueue`], never the future itself: the future may
//! be `!Send`, and it stays in the loop's task table.
//!
//! Waking does one thing: put the key on a run queue. It never polls the
//! task there and then. Polling inside `wake` would run user code inside
//! whoever called `wake`, perhaps while they hold a lock, which is how
//! executors deadlock (docs/PITFALLS.md #9).
//!
//! There are two run queues, because there are two kinds of caller:
//!
//! - on the loop thread, the key goes straight onto the loop's local
//!   `VecDeque`: no lock, no allocation (amortised), no system call;
//! - on any other thread, the key goes onto a `crossbeam_channel` and the
//!   loop is unparked through the reactor (see `reactor.rs`).
//!
//! Read next: `executor.rs`, which takes keys off the queues and polls.

use super::context;
use super::diagnostics::{self, BLOCK_ON};
use super::reactor::Unparker;
use super::task::TaskKey;
use crate::task_id::TaskId;
use crate::trace::{self, EventKind};
use crossbeam_channel::{Receiver, Sender};
use futures_task::ArcWake;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::panic::Location;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The run queue that other threads push to: the one part of a runtime
/// that every thread can reach.
pub(crate) struct RemoteQueue {
    sender: Sender<TaskKey>,
    receiver: Receiver<TaskKey>,
    unparker: Unparker,
    /// Set when the runtime is dropped: later wakes are no-ops.
    closed: AtomicBool,
    /// The names of this runtime's `spawn_named` tasks, for reports. Kept
    /// here, where every task's waker can reach it, so that an unnamed
    /// task (most of them) carries no name in its waker at all.
    names: Mutex<HashMap<TaskId, String>>,
}

impl RemoteQueue {
    pub(crate) fn new(unparker: Unparker) -> RemoteQueue {
        let (sender, receiver) = crossbeam_channel::unbounded();
        RemoteQueue {
            sender,
            receiver,
            unparker,
            closed: AtomicBool::new(false),
            names: Mutex::default(),
        }
    }

    /// Puts `key` (the task `id`) on a run queue of this runtime.
    pub(crate) fn schedule(self: &Arc<Self>, key: TaskKey, id: TaskId) {
        // The fast path: we are on this runtime's loop thread.
        if context::push_local(self, key) {
            trace_local_wake(id);
            return;
        }
        if self.closed.load(Ordering::Acquire) {
            return; // The runtime is gone; nobody is left to poll the task.
        }
        trace::emit(|| {
            (
                Some(id),
                EventKind::Wake {
                    from_other_thread: true,
                    by: trace::wake_cause(true),
                },
            )
        });
        // A send on an unbounded channel only fails when the receiver is
        // gone, and we own the receiver: it cannot fail.
        let _ = self.sender.send(key);
        // The loop may be asleep in the kernel: knock.
        self.unparker.unpark();
    }

    /// The keys that other threads woke since the last call.
    pub(crate) fn take_wakes(&self) -> crossbeam_channel::TryIter<'_, TaskKey> {
        self.receiver.try_iter()
    }

    /// Keeps `name` for task `id` until the task ends (the task's waker
    /// is then made with `named`).
    #[cold]
    pub(crate) fn name_task(&self, id: TaskId, name: String) {
        self.names.lock().insert(id, name);
    }

    /// Task `id` has ended: its name is no longer needed.
    #[cold]
    pub(crate) fn forget_name(&self, id: TaskId) {
        self.names.lock().remove(&id);
    }

    /// How many names are kept (for a test: `runtime.rs`).
    #[cfg(test)]
    pub(crate) fn name_count(&self) -> usize {
        self.names.lock().len()
    }

    /// Forgets every name: the runtime is shutting down.
    pub(crate) fn forget_names(&self) {
        self.names.lock().clear();
    }

    /// The name kept for task `id`, if any.
    pub(crate) fn name_of(&self, id: TaskId) -> Option<String> {
        self.names.lock().get(&id).cloned()
    }

    /// True if another thread has woken a task the loop has not yet taken in.
    pub(crate) fn has_wakes(&self) -> bool {
        !self.receiver.is_empty()
    }

    /// After this, a wake from another thread is dropped instead of queued
    /// for a loop that will never read it. (Without it nothing breaks: a
    /// waker's `queued` flag, never cleared again, lets each waker queue
    /// its key once, and the queue dies with the last waker.)
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }
}

/// What a task's `Waker` points to. One per task, made at spawn.
pub(crate) struct TaskWaker {
    pub(crate) key: TaskKey,
    /// The task's public number, for traces.
    pub(crate) id: TaskId,
    /// True while the key sits on a run queue. A wake that finds it already
    /// true does nothing, so a task woken a thousand times before it runs
    /// is queued, and polled, once (docs/PITFALLS.md #6).
    queued: AtomicBool,
    remote: Arc<RemoteQueue>,
    /// Whether `remote` keeps a name for this task (`spawn_named`).
    pub(crate) named: bool,
    /// Where the task was spawned, for reports (`None` for `block_on`'s
    /// future). It never changes, so it lives here rather than in the
    /// task's slot, which the loop moves on every spawn and finish.
    site: Option<&'static Location<'static>>,
}

// Forty bytes: with the `Arc`'s counts, one 64-byte heap chunk per task.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<TaskWaker>() == 40);

impl TaskWaker {
    /// A waker for `key`. `queued` says whether the caller is about to put
    /// the key on the run queue itself (as spawn does).
    /// `site`: where the task was spawned (`None` for `block_on`'s
    /// future); `named`: `remote` keeps a name for it (`name_task`).
    pub(crate) fn new(
        key: TaskKey,
        id: TaskId,
        remote: Arc<RemoteQueue>,
        queued: bool,
        site: Option<&'static Location<'static>>,
        named: bool,
    ) -> Arc<TaskWaker> {
        Arc::new(TaskWaker {
            key,
            id,
            queued: AtomicBool::new(queued),
            remote,
            named,
            site,
        })
    }

    /// `task 3 "worker" (spawned at main.rs:12)`, or `block_on`'s future.
    pub(crate) fn describe(&self) -> String {
        let Some(site) = self.site else {
            return BLOCK_ON.to_string();
        };
        let names = self.named.then(|| self.remote.names.lock());
        let name = names.as_ref().and_then(|names| names.get(&self.id));
        diagnostics::describe(self.id, site, name.map(String::as_str))
    }

    /// Called by the loop just before it polls the task: from here on, a
    /// new wake must queue the task again, because the poll that is about
    /// to run may already have missed the event behind that wake.
    ///
    /// A swap (read-modify-write) with `AcqRel`, not a plain store: it
    /// reads the `true` written by the waker's own swap, so whatever the
    /// waking thread wrote before waking is visible to the poll
    /// (tokio-rs/tokio#7632 is this bug, with the wrong ordering).
    pub(crate) fn clear_queued(&self) {
        self.queued.swap(false, Ordering::AcqRel);
    }

    /// Marks the task queued, as a wake does; false if it already was.
    /// The caller then puts the key on the run queue.
    pub(crate) fn mark_queued(&self) -> bool {
        !self.queued.swap(true, Ordering::AcqRel)
    }

    /// True while the key sits on a run queue (for the diagnostics).
    pub(crate) fn is_queued(&self) -> bool {
        self.queued.load(Ordering::Acquire)
    }
}

/// Traces a wake of task `id` on the loop thread.
#[inline]
pub(crate) fn trace_local_wake(id: TaskId) {
    trace::emit(|| {
        (
            Some(id),
            EventKind::Wake {
                from_other_thread: false,
                by: trace::wake_cause(false),
            },
        )
    });
}

impl ArcWake for TaskWaker {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        if !arc_self.mark_queued() {
            return; // Already on a queue: coalesce.
        }
        arc_self.remote.schedule(arc_self.key, arc_self.id);
    }
}
