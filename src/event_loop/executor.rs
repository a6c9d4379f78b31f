//! The executor: the loop that polls tasks, and the one place that does.
//!
//! ```text
//!   spawn ──► TaskTable ──key──► run queue ──► poll ──► Ready: store output, wake JoinHandle
//!                 ▲                  ▲            │
//!                 │                  │            └──► Pending: the future keeps a Waker
//!                 │            wake(key)                          somewhere (timer, socket,
//!                 │                  └──────────────────────────── channel, another task)
//!                 └── the future goes back into its slot
//! ```
//!
//! `Core` is one runtime's state. It lives behind an `Rc`: only the loop
//! thread touches it, so plain `RefCell`s suffice, and tasks need not be
//! `Send`. What other threads may touch lives in `Shared` (`waker.rs`).
//!
//! Four rules keep the loop sound; each names the pitfall it prevents:
//!
//! 1. A task is polled only from the run queue, and a wake only queues it
//!    (PITFALLS.md #9); the `queued` flag keeps it there at most once (#6).
//! 2. A key whose task has finished, or whose slot was reused, is skipped:
//!    a late wake never polls a finished future (#5).
//! 3. Every poll runs inside `catch_unwind`: a panicking task becomes an
//!    `Err(JoinError)` for its handle, and the loop runs on (#10).
//! 4. No `RefCell` borrow is held while user code runs: polling, dropping a
//!    future and dropping an output all happen with the table released,
//!    because user code may spawn, abort or drop handles (#9).
//!
//! And two for fairness (#7): every [`EVENT_INTERVAL`] polls the loop
//! looks at the reactor and the timers without sleeping, so a task that
//! is always runnable cannot starve I/O, timers or wakes from other
//! threads; and every poll runs with a fresh operation budget
//! (`budget.rs`), so a task whose I/O is always ready still yields.
//!
//! Read next: `runtime.rs` (`block_on`, which drives this loop).

use super::budget::Budget;
use super::join_handle::JoinHandle;
use super::reactor::Reactor;
use super::task::{Outcome, Stage, Task, TaskFuture, TaskKey, TaskTable};
use super::timer::Timers;
use super::waker::{Shared, TaskWaker};
use crate::JoinError;
use crate::task_id::TaskId;
use crate::trace::{self, CurrentTask, EventKind};
use futures_task::waker_ref;
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// How many polls the loop may run before it looks at the reactor and the
/// timers even though tasks are still runnable. tokio uses the same number
/// (its `event_interval`): small enough that I/O waits at most a few dozen
/// polls, large enough that the extra `epoll_wait` (a system call) is paid
/// rarely. Being prime, it does not fall into step with periodic tasks.
pub(crate) const EVENT_INTERVAL: u32 = 61;

/// One runtime's state, owned by the loop thread.
pub(crate) struct Core {
    shared: Arc<Shared>,
    tasks: RefCell<TaskTable>,
    run_queue: RefCell<VecDeque<TaskKey>>,
    timers: Timers,
    reactor: Reactor,
    polls_since_reactor: Cell<u32>,
    /// Reused between timer turns, so firing timers does not allocate.
    expired_timers: RefCell<Vec<Waker>>,
    block_on_calls: Cell<u32>,
}

/// What the loop should do with a key it took off the run queue.
enum Turn {
    Poll(TaskFuture, Arc<TaskWaker>),
    Cancel(TaskFuture),
    Skip,
}

impl Core {
    pub(crate) fn new() -> io::Result<Rc<Core>> {
        let (reactor, unparker) = Reactor::new()?;
        Ok(Rc::new(Core {
            shared: Arc::new(Shared::new(unparker)),
            tasks: RefCell::default(),
            run_queue: RefCell::default(),
            timers: Timers::default(),
            reactor,
            polls_since_reactor: Cell::new(0),
            expired_timers: RefCell::default(),
            block_on_calls: Cell::new(0),
        }))
    }

    pub(crate) fn is_shared(&self, shared: &Arc<Shared>) -> bool {
        Arc::ptr_eq(&self.shared, shared)
    }

    pub(crate) fn tasks(&self) -> &RefCell<TaskTable> {
        &self.tasks
    }

    pub(crate) fn reactor(&self) -> &Reactor {
        &self.reactor
    }

    pub(crate) fn timers(&self) -> &Timers {
        &self.timers
    }

    /// The fast wake path (see `waker.rs`): on the loop thread, a wake is
    /// a push onto a `VecDeque`.
    pub(crate) fn schedule_local(&self, key: TaskKey) {
        self.run_queue.borrow_mut().push_back(key);
    }

    /// Puts a new task in the table and on the run queue. It first runs
    /// when the spawner yields or awaits: spawn never polls.
    /// `name` is only called if tracing is on.
    pub(crate) fn spawn<F>(
        self: &Rc<Self>,
        future: F,
        name: impl FnOnce() -> String,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        // Erase the output type (see `ErasedFuture`). This box and the
        // waker's `Arc` are the two allocations a spawn costs.
        let future: TaskFuture = Box::pin(future);
        let id = TaskId::next();
        trace::name_task(id, name);
        trace::emit(|| (Some(id), EventKind::Spawn));
        let key = self.tasks.borrow_mut().insert(|key| Task {
            stage: Stage::Idle(future),
            waker: TaskWaker::new(key, id, self.shared.clone(), true),
            join_waker: None,
            has_handle: true,
            abort_requested: false,
        });
        self.schedule_local(key);
        JoinHandle::new(Rc::downgrade(self), key, id)
    }

    /// A waker for the future given to `block_on`, already queued so that
    /// the future gets its first poll.
    pub(crate) fn main_waker(&self) -> Arc<TaskWaker> {
        let generation = self.block_on_calls.get().wrapping_add(1);
        self.block_on_calls.set(generation);
        let key = TaskKey::reserved(generation);
        let id = TaskId::next();
        trace::name_task(id, || "block_on".to_string());
        self.schedule_local(key);
        TaskWaker::new(key, id, self.shared.clone(), true)
    }

    /// The next key to run, or `None` when nothing is runnable. Every
    /// `EVENT_INTERVAL` calls it first turns the reactor without sleeping.
    pub(crate) fn next_runnable(&self) -> Option<TaskKey> {
        let polls = self.polls_since_reactor.get() + 1;
        self.polls_since_reactor.set(polls);
        // (Mutation testing: `polls < EVENT_INTERVAL` here would look at
        // the reactor on almost every poll: slower, not wrong, so no test
        // can tell; see "Mutation testing" in DESIGN.md.)
        if polls >= EVENT_INTERVAL {
            // A look, not a sleep: no Park event is traced for it.
            self.reactor.park(Some(Duration::ZERO));
            self.after_reactor();
        }
        self.run_queue.borrow_mut().pop_front()
    }

    /// Nothing is runnable: sleep in the reactor until the earliest timer
    /// is due, an I/O source is ready, or another thread wakes a task.
    pub(crate) fn park(&self) {
        let next_deadline = self.timers.lock().next_deadline();
        let timeout =
            next_deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()));
        trace::emit(|| (None, EventKind::Park { timeout }));
        self.reactor.park(timeout);
        trace::emit(|| (None, EventKind::Unpark));
        self.after_reactor();
    }

    /// After the reactor has turned (and woken the tasks whose sockets are
    /// ready): take in the wakes from other threads, and fire due timers.
    fn after_reactor(&self) {
        self.polls_since_reactor.set(0);
        self.run_queue
            .borrow_mut()
            .extend(self.shared.take_remote_wakes());
        self.fire_timers();
    }

    fn fire_timers(&self) {
        let mut expired = self.expired_timers.take();
        self.timers
            .lock()
            .take_expired(Instant::now(), &mut expired);
        // Wake after the lock is released: a waker may run foreign code.
        for waker in expired.drain(..) {
            trace::emit(|| (None, EventKind::TimerFired));
            waker.wake();
        }
        self.expired_timers.replace(expired);
    }

    /// Polls the task `key` once, if it still wants polling.
    pub(crate) fn run_task(&self, key: TaskKey) {
        let (mut future, waker) = match self.take_for_turn(key) {
            Turn::Poll(future, waker) => (future, waker),
            Turn::Cancel(future) => return self.cancel(key, future),
            Turn::Skip => return,
        };
        let waker_ref = waker_ref(&waker);
        let mut cx = Context::from_waker(&waker_ref);
        let result = poll_task(waker.id, || {
            catch_unwind(AssertUnwindSafe(|| future.as_mut().poll_erased(&mut cx)))
        });
        match result {
            Ok(Poll::Pending) => self.put_back(key, future),
            Ok(Poll::Ready(output)) => {
                drop_catching_panic(future);
                self.finish(key, Ok(output));
            }
            Err(payload) => {
                // The future may be half-way through something; all we can
                // do is drop it, as a thread's stack unwinds on panic.
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
        task.waker.clear_queued();
        Turn::Poll(future, task.waker.clone())
    }

    /// Returns a pending future to its slot, unless the task aborted
    /// itself during the poll: then it does not run past this `.await`.
    fn put_back(&self, key: TaskKey, future: TaskFuture) {
        let mut tasks = self.tasks.borrow_mut();
        let task = tasks
            .get_mut(key)
            .expect("a task stays in the table while it is polled");
        if task.abort_requested {
            drop(tasks);
            self.cancel(key, future);
        } else {
            task.stage = Stage::Idle(future);
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
        let mut tasks = self.tasks.borrow_mut();
        let task = tasks
            .get_mut(key)
            .expect("a task stays in the table until it finishes");
        if task.has_handle {
            task.stage = Stage::Finished(Some(outcome));
            let join_waker = task.join_waker.take();
            drop(tasks);
            if let Some(waker) = join_waker {
                waker.wake();
            }
        } else {
            let task = tasks.remove(key);
            drop(tasks);
            drop_catching_panic((task, outcome));
        }
    }

    /// Drops every task's future and output: the runtime is going away.
    /// Wakes that these drops cause are no-ops (the runtime is closed).
    pub(crate) fn shutdown(&self) {
        self.shared.close();
        loop {
            let tasks = self.tasks.borrow_mut().drain();
            if tasks.is_empty() {
                break;
            }
            for task in tasks {
                drop_catching_panic(task);
            }
        }
        self.run_queue.borrow_mut().clear();
        let timers = self.timers.lock().clear();
        drop(timers);
    }
}

/// Runs one poll of task `id`: with a fresh operation budget (see
/// `budget.rs`), and, when tracing, between `PollStart` and `PollEnd`
/// events, with the task marked as this thread's current one so that what
/// it waits for is traced under its name.
pub(crate) fn poll_task<T>(
    id: TaskId,
    poll: impl FnOnce() -> std::thread::Result<Poll<T>>,
) -> std::thread::Result<Poll<T>> {
    let _budget = Budget::start();
    // The fast path. (Taking the traced path while tracing is off would
    // only be slower: every `emit` in it checks again.)
    if !trace::enabled() {
        return poll();
    }
    trace::emit(|| (Some(id), EventKind::PollStart));
    let current = CurrentTask::enter(id);
    let result = poll();
    drop(current);
    let ready = !matches!(result, Ok(Poll::Pending));
    trace::emit(|| (Some(id), EventKind::PollEnd { ready }));
    result
}

/// Drops `value`, catching a panic from its `Drop`. Returns the payload of
/// such a panic. (The panic hook has already printed its message.)
fn drop_catching_panic<T>(value: T) -> Option<Box<dyn Any + Send>> {
    catch_unwind(AssertUnwindSafe(move || drop(value))).err()
}
