//! Watching each poll: lost wakers, slow polls and busy waiting.
//!
//! The loop calls in here from `put_back` (`watch_pending`) and, for
//! `block_on`'s future, from `run_until`; around each turn of the reactor
//! it calls into `slow_poll.rs` and `stall.rs`.
//! A healthy loop must not feel it, so each check rides on something the
//! loop has in hand anyway:
//!
//! - **Lost waker.** A `Waker` is an `Arc<TaskWaker>`, so its strong count
//!   says how many copies exist. During a task's turn the runtime holds
//!   exactly [`TURN_REFS`] (the task table's and the turn's own; the
//!   `Context` borrows it without a copy, see `futures_task::waker_ref`).
//!   If a poll returns `Pending` with the count at that, and the task
//!   neither woke itself nor yielded (a yielding task's key waits in the
//!   loop's deferred list, without a copy: `deferred.rs`), no timer,
//!   socket, channel or thread has a copy: nothing can ever wake it. One
//!   atomic load per pending poll.
//! - **Slow poll.** See `slow_poll.rs`.
//! - **Busy waiting.** A poll that ends with its task already queued (it
//!   woke itself) or deferred (it yielded: `Executor::defer` raises a
//!   flag), without spending its budget (which would mean real work, see
//!   `budget.rs`), extends the task's *streak*. Only every [`SPIN_CHECK`]
//!   polls of a streak is the clock read.
//!
//! What a task waits for is not noted at each poll: a hang report finds
//! it in the loop's own tables (`stall.rs`). Only the kind of a wait on a
//! channel or a socket is noted (`WaitKinds`): a few bits in the budget's
//! thread-local, copied to the task's slot when the task waits.
//!
//! Read next: `slow_poll.rs`.

use super::diagnostics::{BLOCK_ON, Diagnostics, Notes, Reported, WaitKinds, report};
use super::executor::Executor;
use super::task::Task;
use super::waker::TaskWaker;
use crate::task_id::TaskId;
use crate::trace::DiagnosisKind;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fs::File;
use std::sync::atomic::{Ordering, fence};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// Copies of a spawned task's waker the runtime holds during its turn.
pub(crate) const TURN_REFS: usize = 2;
/// Copies of the `block_on` future's waker the runtime holds: `run_until`'s.
pub(crate) const BLOCK_ON_REFS: usize = 1;
/// A streak of self-wakes reads the clock every this many polls.
const SPIN_CHECK: u16 = 1_024;
/// A streak whose polls take longer than this on average (the loop's own
/// work between them included) does real work between yields: a long
/// computation cut into chunks, not a spin. (A spin's polls take a few
/// microseconds, tens in a debug build under tracing.)
const SPIN_POLL_AT_MOST: Duration = Duration::from_millis(1);

/// What the loop keeps about one task (or `block_on`'s future) for the
/// diagnostics.
#[derive(Default)]
pub(crate) struct TaskWatch {
    /// Pending polls in a row that woke itself or yielded, counted up to
    /// [`SPIN_CHECK`] and then from 1 again. (Two bytes, not four: with
    /// them a `Task`, moved on every spawn and finish, stays at 64 bytes.)
    streak: u16,
    /// The streak has passed a check: it has an entry in `spin_since`.
    long: bool,
    pub(crate) reported: Reported,
    /// What its last pending poll waited on, of the kinds a hang report
    /// cannot find by itself.
    pub(crate) waits: WaitKinds,
}

/// One runtime's diagnostic state (a field of `Executor`).
pub(crate) struct Watch {
    pub(crate) config: Cell<Diagnostics>,
    /// Polls before the loop's last look at the reactor (see
    /// `Executor::polls_so_far`).
    pub(crate) polls_before: Cell<u64>,
    /// The running poll deferred its task (`Executor::defer`).
    pub(crate) deferred: Cell<bool>,
    /// When the polls since the last reactor turn began, and how many
    /// polls had run by then.
    pub(crate) turn_start: Cell<Option<(Instant, u64)>>,
    /// Turns left to run one poll each (`slow_poll.rs`).
    pub(crate) narrow_turns: Cell<u32>,
    /// Looks at the reactor without sleeping, counted to space out clock
    /// readings.
    pub(crate) looks: Cell<u32>,
    /// Time the thread had waited for a core at the last reading.
    pub(crate) waited_before: Cell<Option<Duration>>,
    pub(crate) schedstat: RefCell<Option<Option<File>>>,
    /// The running `block_on` future's waker (a `Weak`: it adds no count).
    pub(crate) block_on: RefCell<(Weak<TaskWaker>, TaskWatch)>,
    /// When each long streak passed its first check, by task, and its
    /// polls since then (as of its last check).
    spin_since: RefCell<HashMap<TaskId, (Instant, u64)>>,
    pub(crate) stall: Cell<super::stall::Stall>,
    /// The waker of the task that finished last. A task lets go of its
    /// waker when it finishes (`finish`, `task_turn.rs`); if the poll that
    /// ended it was slow, this is what the report names it by
    /// (`slow_poll.rs`).
    pub(crate) finished_last: Cell<Option<Arc<TaskWaker>>>,
}

impl Watch {
    pub(crate) fn new(config: Diagnostics) -> Watch {
        Watch {
            config: Cell::new(config),
            polls_before: Cell::new(0),
            deferred: Cell::new(false),
            turn_start: Cell::new(None),
            narrow_turns: Cell::new(0),
            looks: Cell::new(0),
            waited_before: Cell::new(None),
            schedstat: RefCell::new(None),
            block_on: RefCell::default(),
            spin_since: RefCell::default(),
            stall: Cell::default(),
            finished_last: Cell::new(None),
        }
    }
}

impl Executor {
    /// `run_until` starts: a new `block_on` future, a fresh turn.
    pub(crate) fn watch_enter(&self, block_on: &Arc<TaskWaker>) {
        *self.watch.block_on.borrow_mut() = (Arc::downgrade(block_on), TaskWatch::default());
        // The last `block_on` future may have yielded in its last poll.
        self.watch.deferred.set(false);
        self.watch.spin_since.borrow_mut().clear();
        self.watch_turn_ends();
    }

    /// A spawned task returned `Pending` (and is back in its slot);
    /// `waker` is the turn's copy, `notes` what the poll noted. The common
    /// case costs a few loads, a store and a counter compare.
    #[inline(always)]
    pub(crate) fn watch_pending(&self, task: &mut Task, waker: &Arc<TaskWaker>, notes: Notes) {
        if self.watch.deferred.replace(false) || waker.is_queued() {
            // Queued or deferred: runnable, so not lost. Spinning, unless
            // the poll used up its budget: that is real work.
            if notes.spent {
                self.end_streak(&mut task.watch, waker.id);
                return;
            }
            let streak = task.watch.streak + 1;
            task.watch.streak = streak;
            if streak == SPIN_CHECK {
                self.check_spin(task, waker);
            }
            return;
        }
        task.watch.waits = notes.waits;
        if task.watch.streak != 0 {
            self.end_streak(&mut task.watch, waker.id);
        }
        if self.nobody_else_holds(waker, TURN_REFS) {
            self.lost_waker(task, waker);
        }
    }

    #[cold]
    fn lost_waker(&self, task: &mut Task, waker: &TaskWaker) {
        let config = self.watch.config.get();
        if config.lost_waker {
            let who = waker.describe();
            report(
                &config,
                waker.id,
                DiagnosisKind::LostWaker,
                &mut task.watch.reported,
                || lost_message(&who),
            );
        }
    }

    #[cold]
    fn check_spin(&self, task: &mut Task, waker: &TaskWaker) {
        let id = waker.id;
        if let Some((spinning, polls)) = self.spinning_for(&mut task.watch, id) {
            let who = waker.describe();
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
        let deferred = self.watch.deferred.replace(false);
        let mut block_on = self.watch.block_on.borrow_mut();
        let watch = &mut block_on.1;
        if deferred || waker.is_queued() {
            if notes.spent {
                self.end_streak(watch, waker.id);
                return;
            }
            let streak = watch.streak + 1;
            watch.streak = streak;
            if streak == SPIN_CHECK {
                self.check_block_on_spin(watch, waker.id);
            }
            return;
        }
        watch.waits = notes.waits;
        if watch.streak != 0 {
            self.end_streak(watch, waker.id);
        }
        if self.nobody_else_holds(waker, BLOCK_ON_REFS) {
            self.block_on_lost_waker(watch, waker.id);
        }
    }

    #[cold]
    fn check_block_on_spin(&self, watch: &mut TaskWatch, id: TaskId) {
        if let Some((spinning, polls)) = self.spinning_for(watch, id) {
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

    /// A streak of self-wakes ended: the task waited for something, or
    /// did real work.
    #[inline(always)]
    fn end_streak(&self, watch: &mut TaskWatch, id: TaskId) {
        if watch.long {
            self.forget_spin(watch, id);
        }
        watch.streak = 0;
    }

    #[cold]
    fn forget_spin(&self, watch: &mut TaskWatch, id: TaskId) {
        self.watch.spin_since.borrow_mut().remove(&id);
        watch.long = false;
    }

    /// At each [`SPIN_CHECK`] polls of a streak: how long the task has
    /// been spinning and in how many polls, if that is long enough to
    /// report. The streak counts on from 1.
    fn spinning_for(&self, watch: &mut TaskWatch, id: TaskId) -> Option<(Duration, u64)> {
        watch.streak = 1;
        let limit = self.watch.config.get().busy_wait?;
        let now = Instant::now();
        let mut spin_since = self.watch.spin_since.borrow_mut();
        if spin_since.len() > 4_096 {
            spin_since.clear(); // tasks that finished mid-streak: start over
        }
        let entry = spin_since.entry(id).or_insert((now, 0));
        let (since, polls) = *entry; // polls since the first check
        // The streak counts on from 1: this poll is counted already.
        entry.1 += u64::from(SPIN_CHECK - 1);
        watch.long = true;
        let spinning = now - since;
        if spinning < limit {
            return None;
        }
        spin_since.remove(&id);
        watch.long = false;
        if spinning / u32::try_from(polls.max(1)).unwrap_or(u32::MAX) > SPIN_POLL_AT_MOST {
            return None; // long polls between wakes: real work
        }
        Some((spinning, polls + u64::from(SPIN_CHECK)))
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

fn busy_message(who: &str, spinning: Duration, polls: u64) -> String {
    format!(
        "{who} woke itself on every poll for {:.0} ms ({polls} polls) without finishing: it \
         is busy waiting and burns a core (a loop of yield_now is busy waiting too). Fix: \
         wait on something that wakes the task when there is work: a timer \
         (duet::event_loop::sleep), a channel or a socket.",
        spinning.as_secs_f64() * 1000.0
    )
}
