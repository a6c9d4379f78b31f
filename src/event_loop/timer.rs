//! Timers: `sleep` without a thread that sleeps.
//!
//! A [`Sleep`] future, when first polled, puts its deadline and its task's
//! waker into the runtime's [`TimerTable`] and returns `Pending`. The loop
//! asks the table for the earliest deadline and parks in the reactor no
//! longer than that; after every park it takes every expired entry out and
//! wakes its waker. One thread can so wait for 100,000 deadlines at once.
//!
//! The table is a `BTreeMap` keyed by `(deadline, sequence number)`:
//!
//! - the earliest deadline is the first key, found in O(log n);
//! - a dropped `Sleep` removes its own entry in O(log n), so cancelled
//!   timers leave nothing behind (a `BinaryHeap` cannot remove from the
//!   middle: it would keep dead entries until their deadlines pass);
//! - the sequence number keeps equal deadlines apart and in creation order.
//!
//! A hashed timer wheel would make insert and remove O(1), at the price of
//! rounding deadlines to ticks and of a good deal more code; a teaching
//! runtime takes the exact, obvious structure.
//!
//! Three rules make timers correct rather than approximately right:
//!
//! - never early: `Sleep::poll` itself compares the runtime's clock (see
//!   `clock.rs`: `Instant::now()` unless the clock is virtual) with the
//!   deadline, so a spurious wake cannot end a sleep early; and mio rounds
//!   its timeout *up* to whole milliseconds, so the loop never wakes early
//!   either (it would just park again);
//! - the latest waker wins: a `Sleep` polled by a new task (or with a new
//!   waker) replaces the stored waker unless `will_wake` says it is the
//!   same (docs/PITFALLS.md #2);
//! - the latest runtime wins too: a `Sleep` polled by a task of another
//!   runtime moves its entry into that runtime's table, since that is the
//!   loop that will park waiting for it.
//!
//! The table sits behind a mutex so that `Sleep` is `Send` and can be
//! dropped on any thread; the loop is its only busy user.
//!
//! Read next: `task.rs`, what the loop keeps for each task it polls.

use super::budget;
use super::context;
use super::diagnostics;
use crate::task_id::TaskId;
use crate::trace::{self, WaitOn};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker, ready};
use std::time::{Duration, Instant};

/// A deadline plus a sequence number that makes it unique.
type TimerKey = (Instant, u64);

/// Every pending timer of one runtime.
#[derive(Default)]
pub(crate) struct TimerTable {
    /// Each timer's waker, and the task that set it (only known while
    /// tracing: the trace says whom a fired timer wakes).
    entries: BTreeMap<TimerKey, (Waker, Option<TaskId>)>,
    next_sequence: u64,
}

/// The table, shared between the loop and the `Sleep`s that use it.
pub(crate) type Timers = Arc<Mutex<TimerTable>>;

impl TimerTable {
    fn insert(&mut self, deadline: Instant, waker: Waker) -> TimerKey {
        let key = (deadline, self.next_sequence);
        self.next_sequence += 1;
        self.entries.insert(key, (waker, traced_task()));
        key
    }

    /// Replaces the waker of a pending entry. False if the entry has fired.
    fn update_waker(&mut self, key: TimerKey, waker: &Waker) -> bool {
        match self.entries.get_mut(&key) {
            Some((stored, task)) => {
                if !stored.will_wake(waker) {
                    stored.clone_from(waker);
                    *task = traced_task();
                }
                true
            }
            None => false,
        }
    }

    fn remove(&mut self, key: TimerKey) -> Option<Waker> {
        self.entries.remove(&key).map(|(waker, _)| waker)
    }

    /// The earliest pending deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.entries
            .first_key_value()
            .map(|(&(deadline, _), _)| deadline)
    }

    /// Moves the wakers of every entry due at `now` into `expired`, in
    /// deadline order. The caller wakes them after unlocking the table.
    pub(crate) fn take_expired(
        &mut self,
        clock: impl FnOnce() -> Instant,
        expired: &mut Vec<(Waker, Option<TaskId>)>,
    ) {
        // An empty table needs no clock: reading it is a call into the
        // kernel's shared page, paid on every look at the reactor.
        if self.entries.is_empty() {
            return;
        }
        let now = clock();
        while let Some(entry) = self.entries.first_entry() {
            // (`>=` would leave an entry due exactly now for the next turn,
            // a zero-length park later: never early either way.)
            if entry.key().0 > now {
                break;
            }
            expired.push(entry.remove());
        }
    }

    /// Every pending timer's waker (for a hang report, `stall.rs`).
    pub(crate) fn wakers(&self) -> impl Iterator<Item = &Waker> {
        self.entries.values().map(|(waker, _)| waker)
    }

    /// How many timers are pending.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn clear(&mut self) -> BTreeMap<TimerKey, (Waker, Option<TaskId>)> {
        std::mem::take(&mut self.entries)
    }
}

/// The task polling now, if tracing (else `None`, at the cost of one load).
fn traced_task() -> Option<TaskId> {
    if trace::enabled() {
        trace::current_task()
    } else {
        None
    }
}

/// A future that completes at a deadline. Made by [`sleep`] or
/// [`sleep_until`]; it may be created anywhere (even outside `block_on`)
/// and registers its timer when first polled.
///
/// ```
/// use duet::event_loop::{Runtime, sleep};
/// use std::time::Duration;
///
/// let nap = sleep(Duration::from_millis(5)); // made outside any runtime
/// let rt = Runtime::new()?;
/// rt.block_on(nap); // registers its timer on the first poll
/// # Ok::<(), std::io::Error>(())
/// ```
#[must_use = "a Sleep does nothing unless you .await it"]
pub struct Sleep {
    deadline: Instant,
    registration: Option<Registration>,
}

/// Where a polled `Sleep` left its entry.
struct Registration {
    timers: Timers,
    key: TimerKey,
}

/// Waits until `duration` has passed, measured from this call on the
/// clock of the runtime running on this thread ([`now`](super::now)).
///
/// Made outside a runtime, the deadline counts from the real clock, since
/// there is no other; awaited later under a virtual clock, such a sleep
/// waits until the virtual clock reaches that real instant, which is
/// later than `duration` of virtual time (never earlier). Under a virtual
/// clock, make it inside `block_on`.
///
/// Cancel safe: dropping a `Sleep` removes its timer. A new `sleep` starts
/// a new duration, so to keep a deadline across a `select` loop, poll
/// `&mut` one `Sleep` (it is `Unpin`) or use [`sleep_until`].
///
/// ```
/// use duet::event_loop::{Runtime, sleep};
/// use std::time::{Duration, Instant};
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let start = Instant::now();
///     sleep(Duration::from_millis(10)).await;
///     assert!(start.elapsed() >= Duration::from_millis(10));
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(deadline_after(duration))
}

/// Waits until `deadline`, on the clock of the runtime that polls it. A
/// deadline in the past completes at once.
///
/// ```
/// use duet::event_loop::{Runtime, sleep_until};
/// use std::time::{Duration, Instant};
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(10);
///     sleep_until(deadline).await;
///     assert!(Instant::now() >= deadline);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        registration: None,
    }
}

/// `now + duration`, saturating for durations too large for `Instant`
/// (`Duration::MAX` means "never", in practice).
pub(crate) fn deadline_after(duration: Duration) -> Instant {
    let now = super::now();
    now.checked_add(duration)
        .unwrap_or_else(|| now + Duration::from_secs(60 * 60 * 24 * 365 * 30))
}

impl Sleep {
    /// When this sleep completes.
    ///
    /// ```
    /// use duet::event_loop::sleep_until;
    /// use std::time::{Duration, Instant};
    ///
    /// let deadline = Instant::now() + Duration::from_secs(1);
    /// assert_eq!(sleep_until(deadline).deadline(), deadline);
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    fn deregister(&mut self) {
        if let Some(registration) = self.registration.take() {
            // Drop the removed waker after the lock is released.
            let waker = registration.timers.lock().remove(registration.key);
            drop(waker);
        }
    }
}

impl Sleep {
    /// The deadline check and the timer registration, without the budget:
    /// `Timeout` calls this directly, so a deadline is looked at on every
    /// poll however much of the budget the inner future has spent.
    pub(crate) fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        // The runtime's clock, real or virtual (`clock.rs`).
        let now = super::now();
        if now >= self.deadline {
            self.deregister();
            return Poll::Ready(());
        }
        let remaining = self.deadline - now;
        diagnostics::waits_for(WaitOn::Timer { remaining });
        let executor = context::expect_current("duet::event_loop::sleep (polling a Sleep)");
        if let Some(registration) = &self.registration {
            // Still in the same runtime's table, and not fired: just make
            // sure the latest waker is the one stored.
            if Arc::ptr_eq(&registration.timers, executor.timers())
                && registration
                    .timers
                    .lock()
                    .update_waker(registration.key, cx.waker())
            {
                return Poll::Pending;
            }
            // Fired already (yet the clock says we are early: it cannot,
            // with a monotonic clock, but we would rather register again
            // than trust that), or polled now by another runtime, whose
            // timers are the ones that run while this one is awaited.
            self.deregister();
        }
        let timers = executor.timers().clone();
        let key = timers.lock().insert(self.deadline, cx.waker().clone());
        self.registration = Some(Registration { timers, key });
        Poll::Pending
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // A loop of already-expired sleeps must still let others run.
        ready!(budget::poll_spend(cx));
        self.poll_deadline(cx)
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.deregister();
    }
}

impl std::fmt::Debug for Sleep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("registered", &self.registration.is_some())
            .finish()
    }
}
