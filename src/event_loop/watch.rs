//! Watching each poll: lost wakers, slow polls and busy waiting.
//!
//! The loop calls in here at a few named points (`watch_poll_starts`,
//! `watch_poll_ends`, `watch_pending` from `put_back`, and around each
//! turn of the reactor).
//! A healthy loop must not feel it, so each check rides on something the
//! loop has in hand anyway:
//!
//! - **Lost waker.** A `Waker` is an `Arc<TaskWaker>`, so its strong count
//!   says how many copies exist. During a task's turn the runtime holds
//!   exactly [`TURN_REFS`] (the task table's and the turn's own; the
//!   `Context` borrows it without a copy, see `futures_task::waker_ref`).
//!   If a poll returns `Pending` with the count at that, and the task did
//!   not wake itself, no timer, socket, channel or thread has a copy:
//!   nothing can ever wake it. One atomic load per pending poll.
//! - **Slow poll.** See `slow_poll.rs`.
//! - **Busy waiting.** A poll that ends with its task already queued (it
//!   woke itself) or yielded, without spending its budget (which would
//!   mean real work, see `budget.rs`), extends the task's *streak*. Only
//!   every [`SPIN_CHECK`] polls of a streak is the clock read.
//!
//! Whether a poll yielded without spending its budget comes back with
//! the budget (`poll_with_budget` in `task_turn.rs` returns the poll's
//! [`Notes`]). What it said it waits for stays in the budget's
//! thread-local, and is copied to the task's slot, compacted to a
//! [`Waiting`], only when the task waits: a spinning task never pays
//! for it.
//!
//! Read next: `slow_poll.rs`.

use super::diagnostics::{BLOCK_ON, Diagnostics, Notes, Reported, report};
use super::executor::Executor;
use super::task::{Task, TaskKey};
use super::waker::TaskWaker;
use crate::task_id::TaskId;
use crate::trace::{DiagnosisKind, WaitOn};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::sync::atomic::{Ordering, fence};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// Copies of a spawned task's waker the runtime holds during its turn.
pub(crate) const TURN_REFS: usize = 2;
/// Copies of the `block_on` future's waker the runtime holds: `run_until`'s.
pub(crate) const BLOCK_ON_REFS: usize = 1;
/// A streak of self-wakes reads the clock every this many polls.
const SPIN_CHECK: u32 = 1_024;
/// A streak whose polls take longer than this on average (the loop's own
/// work between them included) does real work between yields: a long
/// computation cut into chunks, not a spin. (A spin's polls take a few
/// microseconds, tens in a debug build under tracing.)
const SPIN_POLL_AT_MOST: Duration = Duration::from_millis(1);

/// What a task's last pending poll said it waits for: a [`WaitOn`]
/// without the timer's remaining time (which a later report would only
/// misstate), so that it packs into 16 bytes: the task's slot, moved on
/// every spawn and finish, stays small.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Waiting {
    Readable(i32),
    Writable(i32),
    Timer,
    Channel,
    Task(TaskId),
    Turn,
}

impl Waiting {
    #[inline(always)]
    pub(crate) fn of(on: WaitOn) -> Waiting {
        match on {
            WaitOn::Readable { fd } => Waiting::Readable(fd),
            WaitOn::Writable { fd } => Waiting::Writable(fd),
            WaitOn::Timer { .. } => Waiting::Timer,
            WaitOn::Channel => Waiting::Channel,
            WaitOn::Task(id) => Waiting::Task(id),
            WaitOn::Turn => Waiting::Turn,
        }
    }
}

/// In the trace's words (`WaitOn`'s), a timer without its time.
impl fmt::Display for Waiting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Waiting::Readable(fd) => WaitOn::Readable { fd }.fmt(f),
            Waiting::Writable(fd) => WaitOn::Writable { fd }.fmt(f),
            Waiting::Timer => f.write_str("timer"),
            Waiting::Channel => WaitOn::Channel.fmt(f),
            Waiting::Task(id) => WaitOn::Task(id).fmt(f),
            Waiting::Turn => WaitOn::Turn.fmt(f),
        }
    }
}

/// What the loop keeps about one task (or `block_on`'s future) for the
/// diagnostics.
#[derive(Default)]
pub(crate) struct TaskWatch {
    /// What its last pending poll said it waits for.
    pub(crate) waits_on: Option<Waiting>,
    /// Pending polls in a row that woke itself or yielded.
    streak: u32,
    pub(crate) reported: Reported,
}

/// One runtime's diagnostic state (a field of `Executor`).
pub(crate) struct Watch {
    pub(crate) config: Cell<Diagnostics>,
    /// Polls so far: a stall or a turn with no new polls ran no code.
    pub(crate) polls: Cell<u64>,
    pub(crate) last_polled: Cell<TaskKey>,
    /// When the polls since the last reactor turn began, and how many
    /// polls had run by then.
    pub(crate) turn_start: Cell<Option<(Instant, u64)>>,
    pub(crate) timed_turns: Cell<u32>,
    /// Looks at the reactor without sleeping, counted to space out clock
    /// readings.
    pub(crate) looks: Cell<u32>,
    pub(crate) poll_start: Cell<Option<Instant>>,
    /// Time the thread had waited for a core at the last reading.
    pub(crate) waited_before: Cell<Option<Duration>>,
    pub(crate) schedstat: RefCell<Option<Option<File>>>,
    /// The running `block_on` future's waker (a `Weak`: it adds no count).
    pub(crate) block_on: RefCell<(Weak<TaskWaker>, TaskWatch)>,
    /// When each long streak passed its first check, by task.
    spin_since: RefCell<HashMap<TaskId, Instant>>,
    pub(crate) stall: Cell<super::stall::Stall>,
}

impl Watch {
    pub(crate) fn new(config: Diagnostics) -> Watch {
        Watch {
            config: Cell::new(config),
            polls: Cell::new(0),
            last_polled: Cell::new(TaskKey::reserved(0)),
            turn_start: Cell::new(None),
            timed_turns: Cell::new(0),
            looks: Cell::new(0),
            poll_start: Cell::new(None),
            waited_before: Cell::new(None),
            schedstat: RefCell::new(None),
            block_on: RefCell::default(),
            spin_since: RefCell::default(),
            stall: Cell::default(),
        }
    }
}

impl Executor {
    /// `run_until` starts: a new `block_on` future, a fresh turn.
    pub(crate) fn watch_enter(&self, block_on: &Arc<TaskWaker>) {
        *self.watch.block_on.borrow_mut() = (Arc::downgrade(block_on), TaskWatch::default());
        self.watch.spin_since.borrow_mut().clear();
        self.watch_turn_ends();
    }

    /// A poll of `key` is about to run.
    #[inline]
    pub(crate) fn watch_poll_starts(&self, key: TaskKey) {
        let watch = &self.watch;
        watch.polls.set(watch.polls.get() + 1);
        watch.last_polled.set(key);
        if watch.timed_turns.get() != 0 {
            watch.poll_start.set(Some(Instant::now()));
        }
    }

    /// The poll has returned (its task is still in the table).
    #[inline]
    pub(crate) fn watch_poll_ends(&self) {
        if self.watch.timed_turns.get() != 0 {
            self.check_timed_poll();
        }
    }

    /// A spawned task returned `Pending` (and is back in its slot);
    /// `waker` is the turn's copy, `notes` what the poll noted. The common
    /// case costs a few loads, a store and a counter compare.
    #[inline(always)]
    pub(crate) fn watch_pending(&self, task: &mut Task, waker: &Arc<TaskWaker>, notes: Notes) {
        let spun = notes.idle_yield || waker.is_queued();
        if spun {
            task.watch.streak = task.watch.streak.saturating_add(1);
            if task.watch.streak.is_multiple_of(SPIN_CHECK) {
                self.check_spin(task, waker.id);
            }
            return; // queued or deferred: not lost
        }
        // Only a task that waits needs to say what for (a hang report
        // reads it); a spinning one is runnable anyway.
        task.watch.waits_on = super::budget::last_wait();
        if task.watch.streak != 0 {
            self.end_streak(&mut task.watch, waker.id);
        }
        if self.nobody_else_holds(waker, TURN_REFS) {
            self.lost_waker(task, waker.id);
        }
    }

    #[cold]
    fn lost_waker(&self, task: &mut Task, id: TaskId) {
        let config = self.watch.config.get();
        if config.lost_waker {
            let who = task.waker.describe();
            report(
                &config,
                id,
                DiagnosisKind::LostWaker,
                &mut task.watch.reported,
                || lost_message(&who),
            );
        }
    }

    #[cold]
    fn check_spin(&self, task: &mut Task, id: TaskId) {
        if let Some(spinning) = self.spinning_for(&mut task.watch, id) {
            let who = task.waker.describe();
            let polls = std::mem::take(&mut task.watch.streak);
            let config = self.watch.config.get();
            report(
                &config,
                id,
                DiagnosisKind::BusyWait,
                &mut task.watch.reported,
                || busy_message(&who, spinning, polls),
            );
        }
    }

    /// `block_on`'s future returned `Pending`. As `watch_pending`, with
    /// the reports out of line.
    #[inline(always)]
    pub(crate) fn watch_block_on_pending(&self, waker: &Arc<TaskWaker>, notes: Notes) {
        let spun = notes.idle_yield || waker.is_queued();
        let mut block_on = self.watch.block_on.borrow_mut();
        let watch = &mut block_on.1;
        if spun {
            watch.streak = watch.streak.saturating_add(1);
            if watch.streak.is_multiple_of(SPIN_CHECK) {
                self.check_block_on_spin(watch, waker.id);
            }
            return;
        }
        watch.waits_on = super::budget::last_wait();
        if watch.streak != 0 {
            self.end_streak(watch, waker.id);
        }
        if self.nobody_else_holds(waker, BLOCK_ON_REFS) {
            self.block_on_lost_waker(watch, waker.id);
        }
    }

    #[cold]
    fn check_block_on_spin(&self, watch: &mut TaskWatch, id: TaskId) {
        if let Some(spinning) = self.spinning_for(watch, id) {
            let polls = std::mem::take(&mut watch.streak);
            let config = self.watch.config.get();
            report(
                &config,
                id,
                DiagnosisKind::BusyWait,
                &mut watch.reported,
                || busy_message(BLOCK_ON, spinning, polls),
            );
        }
    }

    #[cold]
    fn block_on_lost_waker(&self, watch: &mut TaskWatch, id: TaskId) {
        let config = self.watch.config.get();
        if config.lost_waker {
            report(
                &config,
                id,
                DiagnosisKind::LostWaker,
                &mut watch.reported,
                || lost_message(BLOCK_ON),
            );
        }
    }

    /// True if only the runtime's own `runtime_refs` copies of `waker`
    /// exist and it is not queued: nothing can wake its task.
    #[inline]
    pub(crate) fn nobody_else_holds(&self, waker: &Arc<TaskWaker>, runtime_refs: usize) -> bool {
        if Arc::strong_count(waker) != runtime_refs {
            return false;
        }
        // A thread that wakes and then drops its copy sets `queued`
        // before the count falls: the fence makes that store visible here.
        fence(Ordering::Acquire);
        !waker.is_queued()
    }

    /// A streak of self-wakes ended: the task waited for something.
    fn end_streak(&self, watch: &mut TaskWatch, id: TaskId) {
        if watch.streak >= SPIN_CHECK {
            self.watch.spin_since.borrow_mut().remove(&id);
        }
        watch.streak = 0;
    }

    /// At each [`SPIN_CHECK`] polls of a streak: how long the task has
    /// been spinning, if that is long enough to report.
    fn spinning_for(&self, watch: &mut TaskWatch, id: TaskId) -> Option<Duration> {
        let limit = self.watch.config.get().busy_wait?;
        let now = Instant::now();
        let mut spin_since = self.watch.spin_since.borrow_mut();
        if spin_since.len() > 4_096 {
            spin_since.clear(); // tasks that finished mid-streak: start over
        }
        let since = *spin_since.entry(id).or_insert(now);
        let spinning = now - since;
        if spinning < limit {
            return None;
        }
        spin_since.remove(&id);
        let polls = watch.streak - SPIN_CHECK;
        if spinning / polls.max(1) > SPIN_POLL_AT_MOST {
            watch.streak = 0; // long polls between wakes: real work
            return None;
        }
        Some(spinning)
    }
}

fn lost_message(who: &str) -> String {
    format!(
        "{who} returned Pending without handing cx.waker() to anyone (it can never run \
         again). Fix: before returning Poll::Pending, give cx.waker().clone() to whatever \
         will call wake() when the task can go on (a timer, a channel, a socket, another \
         thread), or call cx.waker().wake_by_ref() to be polled again at once."
    )
}

fn busy_message(who: &str, spinning: Duration, polls: u32) -> String {
    format!(
        "{who} woke itself on every poll for {:.0} ms ({polls} polls) without finishing: it \
         is busy waiting and burns a core (a loop of yield_now is busy waiting too). Fix: \
         wait on something that wakes the task when there is work: a timer \
         (duet::event_loop::sleep), a channel or a socket.",
        spinning.as_secs_f64() * 1000.0
    )
}
