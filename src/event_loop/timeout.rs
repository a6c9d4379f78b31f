//! `timeout`: race a future against a [`Sleep`].
//!
//! The combinator is tiny: poll the inner future; if it is not ready, check
//! the deadline; whichever finishes first decides the output. The inner
//! future is polled first, so one that is ready exactly at the deadline
//! still counts as in time. Both leave their wakers with the same task,
//! so whichever fires first gets the task polled again.
//!
//! One rule makes it a promise: the deadline check spends no operation
//! budget (`budget.rs`). A timeout is what you reach for when you do not
//! trust the inner future, and an inner future that spends the whole
//! budget on every poll (a loop over an always-ready channel, say) would
//! otherwise leave nothing for the check, and the timeout would never
//! fire.
//!
//! One detail teaches something about pinning: to poll a `!Unpin` future
//! that is a field of our struct we would need "pin projection", which is
//! either `unsafe` code or a macro crate. This crate forbids `unsafe`, so
//! the inner future is boxed instead. The price is one allocation per
//! `timeout` call.
//!
//! Read next: `docs/COMPOSING.md`, then `child_wakers.rs`: futures that
//! compose by polling each other.

use super::timer::{Sleep, sleep};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// The error of a [`timeout`] whose deadline came first.
///
/// ```
/// use duet::event_loop::{Runtime, timeout};
/// use std::future::pending;
/// use std::time::Duration;
///
/// let rt = Runtime::new()?;
/// let result = rt.block_on(timeout(Duration::ZERO, pending::<()>()));
/// assert_eq!(result.unwrap_err().to_string(), "deadline has elapsed");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed {
    _private: (),
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl Elapsed {
    /// Also made by the blocking channel's `recv_timeout`.
    pub(crate) fn new() -> Elapsed {
        Elapsed { _private: () }
    }
}

/// A future that gives `future`'s output, or `Err(Elapsed)` if `duration`
/// passes first. The deadline is counted from this call, on the clock of
/// the runtime running on this thread (see [`now`](super::now)).
///
/// Cancel safe exactly when `future` is: dropping a `Timeout` (or its
/// deadline passing) drops `future` where it stands.
///
/// ```
/// use duet::event_loop::{Runtime, sleep, timeout};
/// use std::time::Duration;
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let quick = timeout(Duration::from_secs(5), async { 42 }).await;
///     assert_eq!(quick, Ok(42));
///     let slow = timeout(Duration::from_millis(10), sleep(Duration::from_secs(60))).await;
///     assert!(slow.is_err());
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future: Box::pin(future),
        sleep: sleep(duration),
    }
}

/// The future made by [`timeout`].
///
/// ```
/// use duet::event_loop::{Runtime, timeout};
/// use std::future::pending;
/// use std::time::Duration;
///
/// let rt = Runtime::new()?;
/// // `pending` never wakes its task; the Timeout's own timer does.
/// let bounded = timeout(Duration::from_millis(10), pending::<()>());
/// assert!(rt.block_on(bounded).is_err());
/// # Ok::<(), std::io::Error>(())
/// ```
#[must_use = "a Timeout does nothing unless you .await it"]
pub struct Timeout<F> {
    future: Pin<Box<F>>,
    sleep: Sleep,
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(output) = self.future.as_mut().poll(cx) {
            return Poll::Ready(Ok(output));
        }
        // The deadline check spends no budget: the inner future may have
        // spent all of it, and a timeout must fire all the same.
        match self.sleep.poll_deadline(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed { _private: () })),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("deadline", &self.sleep.deadline())
            .finish_non_exhaustive()
    }
}
