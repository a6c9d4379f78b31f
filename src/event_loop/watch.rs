//! Watching each poll: lost wakers, slow polls and busy waiting.
//!
//! The loop calls in here at a few named points (`watch_poll_starts`,
//! `watch_poll_ends`, `watch_pending`, and at each turn of the reactor).
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
//! - **Slow poll.** Reading the clock around every poll costs about 20 ns,
//!   as much as a third of a cheap poll. So the loop reads it once per
//!   turn of the reactor (every poll or so when idle, at most every
//!   `EVENT_INTERVAL` polls when busy): if the polls since the last turn
//!   took longer than the threshold, one of them was slow, and the loop
//!   starts timing every poll for the next [`TIMED_TURNS`] turns. The
//!   next slow poll is then named. (So a slow poll that never comes back
//!   is not named; one in a loop is, from its second time.) The OS may
//!   also have set the thread aside for a while: on Linux the time it
//!   spent waiting for a core (`/proc/thread-self/schedstat`) is not
//!   counted against the task.
//! - **Busy waiting.** A poll that ends with its task already queued (it
//!   woke itself) or yielded, without spending its budget (which would
//!   mean real work, see `budget.rs`), extends the task's *streak*. Only
//!   every [`SPIN_CHECK`] polls of a streak is the clock read.
//!
//! Read next: `stall.rs`.

use super::diagnostics::{self, BLOCK_ON, Diagnostics, Reported, report};
use super::executor::Executor;
use super::task::TaskKey;
use super::waker::TaskWaker;
use crate::task_id::TaskId;
use crate::trace::{DiagnosisKind, WaitOn};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{Ordering, fence};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// Copies of a spawned task's waker the runtime holds during its turn.
pub(crate) const TURN_REFS: usize = 2;
/// Copies of the `block_on` future's waker the runtime holds: `run_until`'s.
pub(crate) const BLOCK_ON_REFS: usize = 1;
/// Reactor turns during which every poll is timed, after a slow stretch.
const TIMED_TURNS: u32 = 1_000;
/// A streak of self-wakes reads the clock every this many polls.
const SPIN_CHECK: u32 = 1_024;
/// A streak whose polls take longer than this on average (the loop's own
/// work between them included) does real work between yields: a long
/// computation cut into chunks, not a spin. (A spin's polls take a few
/// microseconds, tens in a debug build under tracing.)
const SPIN_POLL_AT_MOST: Duration = Duration::from_millis(1);

/// What the loop keeps about one task (or `block_on`'s future) for the
/// diagnostics.
#[derive(Default)]
pub(crate) struct TaskWatch {
    /// What its last pending poll said it waits for.
    pub(crate) waits_on: Option<WaitOn>,
    /// Pending polls in a row that woke itself or yielded.
    streak: u32,
    pub(crate) reported: Reported,
}

/// One runtime's diagnostic state (a field of `Executor`).
pub(crate) struct Watch {
    pub(crate) config: Cell<Diagnostics>,
    /// Polls so far: a stall or a turn with no new polls ran no code.
    pub(crate) polls: Cell<u64>,
    last_polled: Cell<Option<(TaskKey, TaskId)>>,
    /// When the polls since the last reactor turn began, and how many
    /// polls had run by then.
    turn_start: Cell<Option<(Instant, u64)>>,
    timed_turns: Cell<u32>,
    poll_start: Cell<Option<Instant>>,
    /// Time the thread had waited for a core at the last reading.
    waited_before: Cell<Option<Duration>>,
    schedstat: RefCell<Option<Option<File>>>,
    /// The running `block_on` future's waker (a `Weak`: it adds no count).
    pub(crate) block_on: RefCell<(Weak<TaskWaker>, TaskWatch)>,
    /// When each long streak passed its first check, by task.
    spin_since: RefCell<HashMap<TaskId, Instant>>,
    pub(crate) stall: Cell<super::stall::Stall>,
}

impl Default for Watch {
    fn default() -> Watch {
        Watch {
            config: Cell::new(Diagnostics::default()),
            polls: Cell::new(0),
            last_polled: Cell::new(None),
            turn_start: Cell::new(None),
            timed_turns: Cell::new(0),
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
        if self.watch.config.get().slow_poll.is_some() {
            self.watch.waited_before.set(self.waited_for_core());
        }
        self.watch_turn_ends();
    }

    /// A poll of `key` (task `id`) is about to run.
    #[inline]
    pub(crate) fn watch_poll_starts(&self, key: TaskKey, id: TaskId) {
        let watch = &self.watch;
        watch.polls.set(watch.polls.get() + 1);
        watch.last_polled.set(Some((key, id)));
        diagnostics::clear_notes();
        if watch.timed_turns.get() != 0 {
            watch.poll_start.set(Some(Instant::now()));
        }
    }

    /// The poll has returned (its task is still in the table).
    #[inline]
    pub(crate) fn watch_poll_ends(&self) {
        if let Some(start) = self.watch.poll_start.take() {
            self.check_timed_poll(start);
        }
    }

    #[cold]
    fn check_timed_poll(&self, start: Instant) {
        let held = start.elapsed();
        if self
            .watch
            .config
            .get()
            .slow_poll
            .is_some_and(|limit| held >= limit)
        {
            self.slow_poll(held);
        }
    }

    /// The last poll held the loop for `held`, at least the threshold.
    /// Reports it, unless the OS may have set the thread aside for long
    /// enough to explain it: then it starts timing each poll instead.
    #[cold]
    fn slow_poll(&self, held: Duration) {
        let Some(limit) = self.watch.config.get().slow_poll else {
            return;
        };
        // Time spent waiting for a core is the OS's doing, not the task's.
        // What the thread waited since the last reading (taken at the
        // start of the turn when timing, else earlier) bounds what it
        // waited during the poll.
        let now = self.waited_for_core();
        let set_aside = match (self.watch.waited_before.get(), now) {
            (Some(then), Some(now)) => now.saturating_sub(then),
            _ => Duration::ZERO,
        };
        self.watch.waited_before.set(now);
        if held.saturating_sub(set_aside) < limit {
            self.watch.timed_turns.set(TIMED_TURNS);
            return;
        }
        let Some((key, id)) = self.watch.last_polled.get() else {
            return;
        };
        let message = |who: String| {
            format!(
                "{who} held the loop for {:.1} ms in one poll: no other task, timer or socket \
                 could run meanwhile. Something inside it blocks the thread (std::thread::sleep, \
                 std::net, a file, a lock) or computes for long. Fix: move blocking work to \
                 duet::event_loop::spawn_blocking, use the async versions \
                 (duet::event_loop::sleep, duet::event_loop::net), and in a long loop \
                 .await something (yield_now) now and then.",
                held.as_secs_f64() * 1000.0
            )
        };
        self.report_on(key, id, DiagnosisKind::SlowPoll, message);
    }

    /// Reports about task `key` (or `block_on`'s future), with its name.
    pub(crate) fn report_on(
        &self,
        key: TaskKey,
        id: TaskId,
        kind: DiagnosisKind,
        message: impl FnOnce(String) -> String,
    ) {
        let config = self.watch.config.get();
        let mut tasks = self.tasks.borrow_mut();
        if let Some(task) = tasks.get_mut(key) {
            let who = task.label.describe(id);
            return report(&config, id, kind, &mut task.watch.reported, || message(who));
        }
        drop(tasks);
        let mut block_on = self.watch.block_on.borrow_mut();
        if block_on.0.upgrade().is_some_and(|waker| waker.key == key) {
            return report(&config, id, kind, &mut block_on.1.reported, || {
                message(BLOCK_ON.to_string())
            });
        }
        // Finished and gone meanwhile: report it by number.
        report(&config, id, kind, &mut Reported::default(), || {
            message(id.to_string())
        });
    }

    /// Spawned task `key` returned `Pending`; `waker` is the turn's copy.
    #[inline]
    pub(crate) fn watch_pending(&self, key: TaskKey, waker: &Arc<TaskWaker>) {
        let notes = diagnostics::take_notes();
        let lost = self.nobody_else_holds(waker, TURN_REFS);
        let spun = waker.is_queued() || (notes.wait == Some(WaitOn::Turn) && !notes.budget_spent);
        let mut tasks = self.tasks.borrow_mut();
        let Some(task) = tasks.get_mut(key) else {
            return;
        };
        task.watch.waits_on = notes.wait;
        if !lost && !spun && task.watch.streak == 0 {
            return; // the common case: it waits for something
        }
        let (config, id) = (self.watch.config.get(), waker.id);
        if lost && config.lost_waker {
            let who = task.label.describe(id);
            report(
                &config,
                id,
                DiagnosisKind::LostWaker,
                &mut task.watch.reported,
                || lost_message(&who),
            );
        }
        if let Some(spinning) = self.count_spin(&mut task.watch, id, spun) {
            let who = task.label.describe(id);
            let polls = task.watch.streak;
            task.watch.streak = 0;
            report(
                &config,
                id,
                DiagnosisKind::BusyWait,
                &mut task.watch.reported,
                || busy_message(&who, spinning, polls),
            );
        }
    }

    /// `block_on`'s future returned `Pending`.
    pub(crate) fn watch_block_on_pending(&self, waker: &Arc<TaskWaker>) {
        let notes = diagnostics::take_notes();
        let lost = self.nobody_else_holds(waker, BLOCK_ON_REFS);
        let spun = waker.is_queued() || (notes.wait == Some(WaitOn::Turn) && !notes.budget_spent);
        let config = self.watch.config.get();
        let mut block_on = self.watch.block_on.borrow_mut();
        let watch = &mut block_on.1;
        watch.waits_on = notes.wait;
        if lost && config.lost_waker {
            report(
                &config,
                waker.id,
                DiagnosisKind::LostWaker,
                &mut watch.reported,
                || lost_message(BLOCK_ON),
            );
        }
        if let Some(spinning) = self.count_spin(watch, waker.id, spun) {
            let polls = std::mem::take(&mut watch.streak);
            report(
                &config,
                waker.id,
                DiagnosisKind::BusyWait,
                &mut watch.reported,
                || busy_message(BLOCK_ON, spinning, polls),
            );
        }
    }

    /// True if only the runtime's own `runtime_refs` copies of `waker`
    /// exist and it is not queued: nothing can wake its task.
    pub(crate) fn nobody_else_holds(&self, waker: &Arc<TaskWaker>, runtime_refs: usize) -> bool {
        if Arc::strong_count(waker) != runtime_refs {
            return false;
        }
        // A thread that wakes and then drops its copy sets `queued`
        // before the count falls: the fence makes that store visible here.
        fence(Ordering::Acquire);
        !waker.is_queued()
    }

    /// Extends or ends a streak; returns how long it has been spinning if
    /// that is now long enough to report.
    fn count_spin(&self, watch: &mut TaskWatch, id: TaskId, spun: bool) -> Option<Duration> {
        if !spun {
            if watch.streak >= SPIN_CHECK {
                self.watch.spin_since.borrow_mut().remove(&id);
            }
            watch.streak = 0;
            return None;
        }
        watch.streak = watch.streak.saturating_add(1);
        if !watch.streak.is_multiple_of(SPIN_CHECK) {
            return None;
        }
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

    /// The loop is about to turn the reactor (`parks`: and sleep in it).
    /// Returns the time, if it read the clock.
    pub(crate) fn watch_turn_begins(&self, parks: bool) -> Option<Instant> {
        let watch = &self.watch;
        let limit = watch.config.get().slow_poll?;
        let now = Instant::now();
        if let Some((start, polls)) = watch.turn_start.get()
            && watch.polls.get() > polls
        {
            let (held, timed) = (now - start, watch.timed_turns.get());
            if held < limit {
                watch.timed_turns.set(timed.saturating_sub(1));
            } else if timed != 0 {
                watch.timed_turns.set(TIMED_TURNS); // each poll was timed
            } else if watch.polls.get() == polls + 1 {
                self.slow_poll(held); // one poll: it was that one
            } else {
                watch.timed_turns.set(TIMED_TURNS); // one of several
            }
        }
        if !parks {
            // A look without sleeping is short: the next turn starts now.
            watch.turn_start.set(Some((now, watch.polls.get())));
            self.note_time_waited();
        }
        Some(now)
    }

    /// The loop woke from the reactor: the polls of a new turn begin.
    pub(crate) fn watch_turn_ends(&self) {
        if self.watch.config.get().slow_poll.is_some() {
            let now = Instant::now();
            self.watch
                .turn_start
                .set(Some((now, self.watch.polls.get())));
            self.note_time_waited();
        }
    }

    fn note_time_waited(&self) {
        if self.watch.timed_turns.get() != 0 {
            self.watch.waited_before.set(self.waited_for_core());
        }
    }

    /// How long this thread has waited for a core in its life, on Linux
    /// (the second number in `/proc/thread-self/schedstat`).
    fn waited_for_core(&self) -> Option<Duration> {
        let mut file = self.watch.schedstat.borrow_mut();
        let file = file
            .get_or_insert_with(|| File::open("/proc/thread-self/schedstat").ok())
            .as_ref()?;
        let mut buffer = [0u8; 96];
        let n = file.read_at(&mut buffer, 0).ok()?;
        let text = std::str::from_utf8(&buffer[..n]).ok()?;
        let nanos = text.split_whitespace().nth(1)?.parse().ok()?;
        Some(Duration::from_nanos(nanos))
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
