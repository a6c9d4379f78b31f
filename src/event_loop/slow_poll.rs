//! Noticing a poll that holds the loop, without slowing a healthy one.
//!
//! Reading the clock costs 20 ns on a good day and 150 ns
//! in some virtual machines: more than a cheap poll. So the loop reads
//! it only at each park and at one look at the reactor in
//! [`LOOKS_PER_READ`]. If the polls between two readings took longer
//! than the threshold and there was one poll, that poll is named; if
//! there were several, the loop *narrows*: for the next [`NARROW_TURNS`]
//! turns it looks at the reactor, and reads the clock, after every poll,
//! so that each turn is one poll, and names the slow one when it comes
//! back. (So a blocking call in a loop is named; a one-off among others
//! may not be.) A healthy loop pays nothing per poll for this. The OS
//! may also have kept the thread waiting for a core: on Linux that time
//! (`/proc/thread-self/schedstat`) is not counted against the task.
//!
//! Read next: `stall.rs`.

use super::diagnostics::{BLOCK_ON, report};
use super::executor::Executor;
use super::task::TaskKey;
use crate::trace::DiagnosisKind;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

/// Turns of one poll each that the loop runs after a slow stretch.
const NARROW_TURNS: u32 = 1_000;
/// A busy loop that never sleeps reads the clock at one look at the
/// reactor in this many. (Such a loop looks every `EVENT_INTERVAL` polls,
/// so a stretch between readings holds about a thousand polls at most.)
const LOOKS_PER_READ: u32 = 16;

impl Executor {
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
        let key = self.polled_last();
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
        if let Some(task) = tasks.get_mut(key)
            && let Some(waker) = &task.waker
        {
            let (id, who) = (waker.id, waker.describe());
            return report(&config, id, kind, &mut task.watch.reported, || message(who));
        }
        drop(tasks);
        // A task that finished in that very poll has let go of its waker,
        // and a detached one has left the table: the loop kept the waker.
        // (Its `spawn_named` name was forgotten in `finish`, so the report
        // names it by number and spawn site.)
        let finished = self.watch.finished_last.take();
        let finished_here = finished
            .as_ref()
            .filter(|waker| waker.key == key)
            .map(|waker| (waker.id, waker.describe()));
        self.watch.finished_last.set(finished);
        if let Some((id, who)) = finished_here {
            // The task is over, so this report is its last: nothing need
            // remember that it was made.
            return report(&config, id, kind, &mut Default::default(), || message(who));
        }
        let mut block_on = self.watch.block_on.borrow_mut();
        if let Some(waker) = block_on.0.upgrade()
            && waker.key == key
        {
            report(&config, waker.id, kind, &mut block_on.1.reported, || {
                message(BLOCK_ON.to_string())
            });
        }
    }

    /// The loop is about to turn the reactor (`parks`: and sleep in it).
    /// Returns the time, if it read the clock.
    pub(crate) fn watch_turn_begins(&self, parks: bool) -> Option<Instant> {
        let watch = &self.watch;
        let Some(limit) = watch.config.get().slow_poll else {
            if watch.narrow_turns.get() != 0 {
                self.narrow(0); // the check was turned off while narrowing
            }
            return None;
        };
        if !parks && watch.narrow_turns.get() == 0 {
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
            && self.polls_so_far() > polls
        {
            let held = now - start;
            if held < limit {
                self.narrow(watch.narrow_turns.get().saturating_sub(1));
            } else if self.polls_so_far() == polls + 1 {
                self.slow_poll(held); // one poll: it was that one
            } else if !self.set_aside_explains(held, limit) {
                self.narrow(NARROW_TURNS); // one of several
            }
        }
        if !parks {
            // A look without sleeping is short: the next turn starts now.
            watch.turn_start.set(Some((now, self.polls_so_far())));
            self.note_time_waited();
        }
        Some(now)
    }

    /// Runs the next `turns` turns one poll each (none: back to normal).
    fn narrow(&self, turns: u32) {
        self.watch.narrow_turns.set(turns);
        self.look_every(if turns == 0 { None } else { Some(1) });
    }

    /// The loop woke from the reactor: the polls of a new turn begin.
    pub(crate) fn watch_turn_ends(&self) {
        if self.watch.config.get().slow_poll.is_some() {
            let now = Instant::now();
            self.watch.turn_start.set(Some((now, self.polls_so_far())));
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
        if self.watch.narrow_turns.get() != 0 {
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
