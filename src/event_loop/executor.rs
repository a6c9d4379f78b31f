//! The executor: the event loop itself, in [`Executor::run_until`].
//!
//! One turn of the loop, as `run_until` runs it:
//!
//! 1. Take the next key off the run queue (`next_runnable`). Every
//!    [`EVENT_INTERVAL`] polls, first look at the reactor and the timers
//!    without sleeping, so that a queue that never empties cannot starve
//!    sockets, timers or wakes from other threads. (After every poll,
//!    for a while, when the diagnostics narrow down a slow one.)
//! 2. If nothing is runnable, *park*: sleep in `epoll_wait` (the reactor)
//!    until the earliest timer is due, a socket is ready or another thread
//!    wakes a task. Then take in the remote wakes, fire the due timers and,
//!    last, wake the tasks that yielded (see "deferred" below), which puts
//!    them all on the run queue. (Under a virtual clock, a pending timer is
//!    fired at once instead of sleeping: `clock.rs`.) Go back to 1.
//! 3. If the key is a spawned task's, poll that task once (`task_turn.rs`).
//! 4. If it is the `block_on` future's own key, poll that future; when it
//!    is `Ready`, the loop ends and `run_until` returns its output.
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
//! `Executor` is one runtime's state. It lives behind an `Rc`: only the
//! loop thread touches it, so plain `RefCell`s suffice and tasks need not
//! be `Send`. What other threads may touch is the [`RemoteQueue`]
//! (`waker.rs`).
//!
//! A task that must let others run (`yield_now`, or one whose operation
//! budget is spent, see `budget.rs`) is *deferred*: it waits in a list
//! that is woken only after the next look at the reactor (`deferred.rs`).
//!
//! Read next: `deferred.rs`, how a task lets everything else run first.

use super::clock::Clock;
use super::deferred::Deferred;
use super::diagnostics::{self, Diagnostics};
use super::join_handle::JoinHandle;
use super::reactor::Reactor;
use super::schedule::Schedule;
use super::task::{Stage, Task, TaskFuture, TaskKey, TaskTable};
use super::task_turn::poll_with_budget;
use super::timer::Timers;
use super::waker::{RemoteQueue, TaskWaker};
use super::watch::Watch;
use crate::task_id::{Numbering, TaskId};
use crate::trace::{self, EventKind, WokenBy};
use futures_task::waker_ref;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::panic::Location;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// How many turns the loop may run before it looks at the reactor and the
/// timers even though tasks are still runnable. tokio uses the same number
/// (its `event_interval`): small enough that I/O waits at most a few dozen
/// polls, large enough that the extra `epoll_wait` (a system call) is paid
/// rarely. Being prime, it does not fall into step with periodic tasks.
pub(crate) const EVENT_INTERVAL: u32 = 61;

/// One runtime's state, owned by the loop thread.
pub(crate) struct Executor {
    pub(super) remote: Arc<RemoteQueue>,
    pub(super) tasks: RefCell<TaskTable>,
    pub(super) run_queue: RefCell<VecDeque<TaskKey>>,
    /// Tasks that yielded: woken after the next reactor look.
    pub(super) deferred: RefCell<Vec<Deferred>>,
    /// The task being polled, and its waker's address (`deferred.rs`).
    pub(super) polling: Cell<(TaskKey, *const ())>,
    timers: Timers,
    reactor: Reactor,
    /// Keys taken off the run queue (polls, mostly) since the loop last
    /// looked at the reactor.
    polls_since_reactor: Cell<u32>,
    /// Polls between looks: [`EVENT_INTERVAL`], or 1 while the
    /// diagnostics narrow down a slow poll (`slow_poll.rs`).
    event_interval: Cell<u32>,
    /// Reused between timer turns, so firing timers does not allocate.
    expired_timers: RefCell<Vec<(Waker, Option<TaskId>)>>,
    /// Task numbers: per runtime, so twin programs' traces line up.
    numbering: Numbering,
    /// How many `block_on` calls this runtime has served: each call's
    /// future gets a key of its own (see `TaskKey::reserved`).
    block_on_count: Cell<u32>,
    /// Real or virtual time (`clock.rs`).
    pub(super) clock: Clock,
    /// FIFO or seeded (`schedule.rs`): how `next_runnable` picks.
    schedule: Schedule,
    /// What the diagnostics watch (`watch.rs`, `stall.rs`).
    pub(super) watch: Watch,
}

impl Executor {
    pub(crate) fn new(
        clock: Clock,
        schedule: Schedule,
        diagnostics: Diagnostics,
    ) -> io::Result<Rc<Executor>> {
        let (reactor, unparker) = Reactor::new()?;
        Ok(Rc::new(Executor {
            remote: Arc::new(RemoteQueue::new(unparker)),
            tasks: RefCell::default(),
            run_queue: RefCell::default(),
            deferred: RefCell::default(),
            polling: Cell::new((TaskKey::reserved(0), std::ptr::null())),
            timers: Timers::default(),
            reactor,
            polls_since_reactor: Cell::new(0),
            event_interval: Cell::new(EVENT_INTERVAL),
            expired_timers: RefCell::default(),
            block_on_count: Cell::new(0),
            clock,
            schedule,
            numbering: Numbering::new(),
            watch: Watch::new(diagnostics),
        }))
    }

    /// Is `remote` this runtime's remote queue?
    pub(crate) fn owns(&self, remote: &Arc<RemoteQueue>) -> bool {
        Arc::ptr_eq(&self.remote, remote)
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

    /// Looks at the reactor after every `polls` polls (`None`: every
    /// [`EVENT_INTERVAL`]).
    pub(crate) fn look_every(&self, polls: Option<u32>) {
        self.event_interval.set(polls.unwrap_or(EVENT_INTERVAL));
    }

    /// How many keys this runtime has taken off its run queue: polls,
    /// and the odd late wake of a finished task, skipped (the diagnostics'
    /// clock: a stretch with none ran no task code).
    pub(crate) fn polls_so_far(&self) -> u64 {
        self.watch.polls_before.get() + u64::from(self.polls_since_reactor.get())
    }

    /// Puts a new task in the table and on the run queue. Spawn never
    /// polls: the task first runs once the spawner's poll has returned.
    /// `site` is where it was spawned.
    pub(crate) fn spawn<F>(
        self: &Rc<Self>,
        future: F,
        site: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let id = self.numbering.next_task();
        self.spawn_as(id, future, site, false)
    }

    /// `spawn`, for a task with a name (`spawn_named`).
    pub(crate) fn spawn_named<F>(
        self: &Rc<Self>,
        future: F,
        site: &'static Location<'static>,
        name: String,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let id = self.numbering.next_task();
        self.remote.name_task(id, name);
        self.spawn_as(id, future, site, true)
    }

    /// This runtime's serial and task numbers (see `task_id.rs`).
    pub(crate) fn numbering(&self) -> &Numbering {
        &self.numbering
    }

    /// `spawn`, with the id already chosen (`spawn_blocking` numbers its
    /// jobs apart from the tasks) and the name, if `named`, already kept.
    pub(crate) fn spawn_as<F>(
        self: &Rc<Self>,
        id: TaskId,
        future: F,
        site: &'static Location<'static>,
        named: bool,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        // Erase the output type (see `ErasedFuture`). This box and the
        // waker's `Arc` are the two allocations at spawn; an output that
        // is not zero-sized is boxed too, when the task finishes.
        let future: TaskFuture = Box::pin(future);
        if trace::enabled() {
            trace::name_task(id, || {
                let name = named.then(|| self.remote.name_of(id)).flatten();
                diagnostics::trace_name(id, site, name.as_deref())
            });
            trace::emit(|| (Some(id), EventKind::Spawn));
        }
        let key = self.tasks.borrow_mut().insert(|key| Task {
            stage: Stage::Idle(future),
            waker: Some(TaskWaker::new(
                key,
                id,
                self.remote.clone(),
                true,
                Some(site),
                named,
            )),
            join_waker: None,
            has_handle: true,
            abort_requested: false,
            watch: Default::default(),
        });
        self.schedule_local(key);
        JoinHandle::new(Rc::downgrade(self), key, id)
    }

    /// Runs the loop until `future` is ready, and returns its output. This
    /// is the event loop; `Runtime::block_on` is a thin wrapper around it.
    ///
    /// The future is scheduled like a task, with a waker and a key of its
    /// own, so a busy task cannot starve it and it cannot starve the tasks.
    pub(crate) fn run_until<F: Future>(&self, mut future: Pin<&mut F>) -> F::Output {
        let block_on_waker = self.block_on_waker();
        let waker = waker_ref(&block_on_waker);
        let mut cx = Context::from_waker(&waker);
        self.watch_enter(&block_on_waker);
        loop {
            // Step 1.
            let Some(key) = self.next_runnable() else {
                // Step 2.
                self.park();
                continue;
            };
            // Step 3.
            if key != block_on_waker.key {
                self.poll_spawned_task(key);
                continue;
            }
            // Step 4. A panic here is the caller's own and passes straight
            // through, as a panic in a plain function call would.
            block_on_waker.clear_queued();
            self.polling(key, std::ptr::null());
            let (poll, notes) =
                poll_with_budget(block_on_waker.id, || Ok(future.as_mut().poll(&mut cx)));
            if let Ok(Poll::Ready(output)) = poll {
                return output;
            }
            self.watch_block_on_pending(&block_on_waker, notes);
        }
    }

    /// A waker for the future given to `block_on`, already queued so that
    /// the future gets its first poll.
    fn block_on_waker(&self) -> Arc<TaskWaker> {
        let count = self.block_on_count.get().wrapping_add(1);
        self.block_on_count.set(count);
        let key = TaskKey::reserved(count);
        // Task 0 on either runtime: the twins' traces call it alike.
        let id = self.numbering.main();
        trace::name_task(id, || "main".to_string());
        self.schedule_local(key);
        TaskWaker::new(key, id, self.remote.clone(), true, None, false)
    }

    /// The next key to run, or `None` when nothing is runnable.
    fn next_runnable(&self) -> Option<TaskKey> {
        if self.polls_since_reactor.get() >= self.event_interval.get() {
            self.look_at_reactor();
        }
        let picked = self.schedule.pick(&mut self.run_queue.borrow_mut());
        let key = match picked {
            Some(key) => key,
            None if self.deferred.borrow().is_empty() => return None,
            None => {
                // Only tasks that yielded are left: let in what is ready
                // elsewhere before they run again.
                self.look_at_reactor();
                self.schedule.pick(&mut self.run_queue.borrow_mut())?
            }
        };
        self.polls_since_reactor
            .set(self.polls_since_reactor.get() + 1);
        Some(key)
    }

    /// Turns the reactor without sleeping: a look, not a park, so no Park
    /// event is traced for it.
    pub(super) fn look_at_reactor(&self) {
        self.watch_turn_begins(false);
        self.reactor.poll_events(Some(Duration::ZERO));
        self.reactor.dispatch();
        self.after_reactor();
    }

    /// Nothing is runnable: sleep in the reactor until the earliest timer
    /// is due, an I/O source is ready, or another thread wakes a task.
    /// (Under the virtual clock, a pending timer is fired at once instead:
    /// see `clock.rs`.)
    fn park(&self) {
        if self.jump_virtual_clock() {
            return;
        }
        let next_deadline = self.timers.lock().next_deadline();
        let timeout =
            next_deadline.map(|deadline| deadline.saturating_duration_since(self.clock.now()));
        // The diagnostics may look again sooner (`stall.rs`), or panic.
        let timeout = self.watch_park(timeout);
        trace::emit(|| (None, EventKind::Park { timeout }));
        self.reactor.poll_events(timeout);
        // Awake first, then what woke it: the trace tells the story in
        // that order for sockets as for timers.
        trace::emit(|| (None, EventKind::Unpark));
        self.reactor.dispatch();
        self.watch_turn_ends();
        self.after_reactor();
    }

    /// After the reactor has turned and woken the tasks whose sockets are
    /// ready: take in the wakes from other threads, fire due timers, and
    /// last wake the tasks that yielded, so they queue behind all of those.
    fn after_reactor(&self) {
        let polls = self.polls_since_reactor.replace(0);
        self.watch
            .polls_before
            .set(self.watch.polls_before.get() + u64::from(polls));
        self.run_queue.borrow_mut().extend(self.remote.take_wakes());
        self.fire_timers();
        self.wake_deferred();
    }

    pub(super) fn fire_timers(&self) {
        let mut expired = self.expired_timers.take();
        self.timers
            .lock()
            .take_expired(|| self.clock.now(), &mut expired);
        // Wake after the lock is released: a waker may run foreign code.
        for (waker, task) in expired.drain(..) {
            trace::emit(|| (None, EventKind::TimerFired { wakes: task }));
            trace::waking(|| WokenBy::Timer, || waker.wake());
        }
        self.expired_timers.replace(expired);
    }

    /// Forgets the deferred tasks and every queued key: the runtime is
    /// shutting down (see `task_turn.rs`, `shutdown`).
    pub(super) fn clear_queues(&self) {
        self.run_queue.borrow_mut().clear();
        let deferred = self.deferred.take();
        drop(deferred);
        let timers = self.timers.lock().clear();
        drop(timers);
    }
}
