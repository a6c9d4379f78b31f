//! The loop's clock: real time, or a virtual time that only the loop moves.
//!
//! Every timer question the event loop asks ("what time is it?", "how long
//! until the earliest deadline?") goes through a [`Clock`], chosen when the
//! runtime is built (`builder.rs`):
//!
//! - **real**: `Instant::now()`. The default, and what `Runtime::new()`
//!   builds.
//! - **virtual**: a zero `Instant` taken when the runtime was built, plus
//!   an offset that starts at zero and that nothing but the loop changes.
//!   Polling, computing, even blocking the thread: none of it moves this
//!   clock. It moves in one place only: when no task is runnable, the loop
//!   first looks at the reactor without waiting (real sockets and other
//!   threads still get their turn), and if that makes nothing runnable and
//!   a timer is pending, it sets the clock to the earliest deadline and
//!   fires that timer at once instead of sleeping until it. With no timer
//!   pending it parks for real, as the real clock would.
//!
//! So under the virtual clock a one-hour `sleep` takes no real time, and
//! a program that does no real I/O and starts no threads sees the very
//! same times on every run. docs/DETERMINISM.md says what this means for
//! programs that do touch the outside world.
//!
//! The choice is an enum, matched on each question: when the clock is
//! real, it costs a branch, no allocation and no extra system call.
//!
//! Read next: `schedule.rs`, the other half of a deterministic run.

use super::context;
use super::executor::Executor;
use crate::trace::{self, EventKind};
use std::cell::Cell;
use std::time::{Duration, Instant};

/// One runtime's clock.
pub(crate) enum Clock {
    /// `Instant::now()`.
    Real,
    /// Time that passes only when the loop jumps it to a deadline.
    Virtual {
        /// The runtime's time zero: when it was built.
        zero: Instant,
        /// How far the loop has moved the clock since `zero`.
        elapsed: Cell<Duration>,
    },
}

impl Clock {
    /// A virtual clock that starts at the real present.
    pub(crate) fn new_virtual() -> Clock {
        Clock::Virtual {
            zero: Instant::now(),
            elapsed: Cell::new(Duration::ZERO),
        }
    }

    /// What time it is on this clock.
    #[inline]
    pub(crate) fn now(&self) -> Instant {
        match self {
            Clock::Real => Instant::now(),
            Clock::Virtual { zero, elapsed } => *zero + elapsed.get(),
        }
    }

    /// For a virtual clock, the time since its zero; `None` for the real
    /// clock.
    pub(crate) fn virtual_elapsed(&self) -> Option<Duration> {
        match self {
            Clock::Real => None,
            Clock::Virtual { elapsed, .. } => Some(elapsed.get()),
        }
    }
}

impl Executor {
    /// Under the virtual clock, with nothing runnable: make something
    /// runnable without sleeping, if anything can. Returns false when the
    /// loop must park for real (real clock, or no timer pending), true
    /// when it should go back and look at the run queue.
    pub(super) fn jump_virtual_clock(&self) -> bool {
        let Clock::Virtual { zero, elapsed } = &self.clock else {
            return false;
        };
        // Sockets that are ready and wakes from other threads come first:
        // time must not jump past something that already happened.
        self.look_at_reactor();
        if !self.run_queue.borrow().is_empty() {
            return true;
        }
        let Some(deadline) = self.timers().lock().next_deadline() else {
            return false; // only I/O or another thread can wake a task now
        };
        let now = *zero + elapsed.get();
        // Traced as a park that took no real time, so a timeline still
        // shows where the loop was idle (in virtual time).
        let timeout = deadline.saturating_duration_since(now);
        trace::emit(|| {
            (
                None,
                EventKind::Park {
                    timeout: Some(timeout),
                },
            )
        });
        if deadline > now {
            elapsed.set(deadline - *zero);
        }
        trace::emit(|| (None, EventKind::Unpark));
        self.fire_timers();
        true
    }
}

/// The time on the clock of the runtime running on this thread: virtual
/// under [`Builder::virtual_clock`](super::Builder::virtual_clock)`(true)`,
/// `Instant::now()` otherwise, and `Instant::now()` outside a runtime.
///
/// `sleep`, `sleep_until` and `timeout` count from this clock, so code that
/// computes deadlines itself should too:
///
/// ```
/// use duet::event_loop::{Builder, now, sleep_until};
/// use std::time::{Duration, Instant};
///
/// let rt = Builder::new().virtual_clock(true).build().unwrap();
/// let real_start = Instant::now();
/// rt.block_on(async {
///     let start = now();
///     sleep_until(start + Duration::from_secs(3600)).await;
///     assert_eq!(now() - start, Duration::from_secs(3600)); // exactly
/// });
/// assert!(real_start.elapsed() < Duration::from_secs(60)); // an hour took no real time
/// ```
pub fn now() -> Instant {
    context::with_current(|executor| match executor {
        Some(executor) => executor.clock.now(),
        None => Instant::now(),
    })
}

/// The virtual time of the runtime running on this thread, if it has a
/// virtual clock: what the trace recorder stamps events with there, so
/// that a deterministic run has deterministic times.
pub(crate) fn virtual_elapsed() -> Option<Duration> {
    context::with_current(|executor| executor.and_then(|e| e.clock.virtual_elapsed()))
}
