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
use super::task::{Task, TaskKey};
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
/// A busy loop that never sleeps reads the clock at one look at the
/// reactor in this many (a look comes at most `EVENT_INTERVAL` polls
/// apart, so a stretch between readings holds about a thousand polls at
/// most: a healthy loop takes well under a millisecond for them).
const LOOKS_PER_READ: u32 = 16;
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
    last_polled: Cell<TaskKey>,
    /// When the polls since the last reactor turn began, and how many
    /// polls had run by then.
    turn_start: Cell<Option<(Instant, u64)>>,
    timed_turns: Cell<u32>,
    /// Looks at the reactor without sleeping, counted to space out clock
    /// readings.
    looks: Cell<u32>,
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

    /// The poll has returned (its task is still in the table). A pending
    /// poll's notes are read by `watch_pending`; any other poll's are
    /// dropped here, so the next poll starts with none.
    #[inline]
    pub(crate) fn watch_poll_ends(&self, pending: bool) {
        if !pending {
            diagnostics::clear_notes();
        }
        if self.watch.timed_turns.get() != 0 {
            self.check_timed_poll();
        }
    }

    #[cold]
    fn check_timed_poll(&self) {
        let Some(start) = self.watch.poll_start.take() else {
            return;
        };
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
    /// enough to explain it.
    #[cold]
    fn slow_poll(&self, held: Duration) {
        let Some(limit) = self.watch.config.get().slow_poll else {
            return;
        };
        if self.set_aside_explains(held, limit) {
            return;
        }
        let key = self.watch.last_polled.get();
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
        self.report_on(key, DiagnosisKind::SlowPoll, message);
    }

    /// Reports about task `key` (or `block_on`'s future), with its name.
    fn report_on(&self, key: TaskKey, kind: DiagnosisKind, message: impl FnOnce(String) -> String) {
        let config = self.watch.config.get();
        let mut tasks = self.tasks.borrow_mut();
        if let Some(task) = tasks.get_mut(key) {
            let id = task.waker.id;
            let who = task.label.describe(id);
            return report(&config, id, kind, &mut task.watch.reported, || message(who));
        }
        drop(tasks);
        let mut block_on = self.watch.block_on.borrow_mut();
        if let Some(waker) = block_on.0.upgrade()
            && waker.key == key
        {
            report(&config, waker.id, kind, &mut block_on.1.reported, || {
                message(BLOCK_ON.to_string())
            });
        }
        // A detached task that finished in that very poll is gone from
        // the table, its name with it: nothing left to report it by.
    }

    /// A spawned task returned `Pending` (and is back in its slot);
    /// `waker` is the turn's copy. The common case costs a few loads.
    #[inline]
    pub(crate) fn watch_pending(&self, task: &mut Task, waker: &Arc<TaskWaker>) {
        let notes = diagnostics::take_notes();
        task.watch.waits_on = notes.wait;
        let spun = waker.is_queued() || (notes.yielded() && !notes.budget_spent);
        if spun {
            task.watch.streak = task.watch.streak.saturating_add(1);
            if task.watch.streak.is_multiple_of(SPIN_CHECK) {
                self.check_spin(task, waker.id);
            }
            return; // queued or deferred: not lost
        }
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
            let who = task.label.describe(id);
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
            let who = task.label.describe(id);
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

    /// `block_on`'s future returned `Pending`.
    pub(crate) fn watch_block_on_pending(&self, waker: &Arc<TaskWaker>) {
        let notes = diagnostics::take_notes();
        let spun = waker.is_queued() || (notes.yielded() && !notes.budget_spent);
        let mut block_on = self.watch.block_on.borrow_mut();
        let watch = &mut block_on.1;
        watch.waits_on = notes.wait;
        if spun {
            watch.streak = watch.streak.saturating_add(1);
            if watch.streak.is_multiple_of(SPIN_CHECK)
                && let Some(spinning) = self.spinning_for(watch, waker.id)
            {
                let polls = std::mem::take(&mut watch.streak);
                let config = self.watch.config.get();
                report(
                    &config,
                    waker.id,
                    DiagnosisKind::BusyWait,
                    &mut watch.reported,
                    || busy_message(BLOCK_ON, spinning, polls),
                );
            }
            return;
        }
        if watch.streak != 0 {
            self.end_streak(watch, waker.id);
        }
        if self.nobody_else_holds(waker, BLOCK_ON_REFS) {
            let config = self.watch.config.get();
            if config.lost_waker {
                report(
                    &config,
                    waker.id,
                    DiagnosisKind::LostWaker,
                    &mut watch.reported,
                    || lost_message(BLOCK_ON),
                );
            }
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

    /// The loop is about to turn the reactor (`parks`: and sleep in it).
    /// Returns the time, if it read the clock.
    pub(crate) fn watch_turn_begins(&self, parks: bool) -> Option<Instant> {
        let watch = &self.watch;
        let limit = watch.config.get().slow_poll?;
        if !parks && watch.timed_turns.get() == 0 {
            // A look without sleeping comes every few dozen polls in a busy
            // loop: read the clock at one look in LOOKS_PER_READ only.
            let looks = watch.looks.get().wrapping_add(1);
            watch.looks.set(looks);
            if !looks.is_multiple_of(LOOKS_PER_READ) {
                return None;
            }
        }
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
            } else if !self.set_aside_explains(held, limit) {
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

    /// Could the OS have held the thread for long enough that `held` is
    /// no longer over `limit`? Time spent waiting for a core is the OS's
    /// doing, not the task's. What the thread waited since the last
    /// reading (taken at the start of the turn when timing, else earlier,
    /// or else the thread's start) bounds what it waited during the poll
    /// or turn.
    fn set_aside_explains(&self, held: Duration, limit: Duration) -> bool {
        let now = self.waited_for_core();
        let set_aside = match (self.watch.waited_before.get(), now) {
            (Some(then), Some(now)) => now.saturating_sub(then),
            (None, Some(now)) => now,    // no reading yet: all its life
            (_, None) => Duration::ZERO, // not Linux: trust the clock
        };
        self.watch.waited_before.set(now);
        held.saturating_sub(set_aside) < limit
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
