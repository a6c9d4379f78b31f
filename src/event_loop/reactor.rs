//! The reactor: where the loop sleeps, and what wakes it.
//!
//! When no task is runnable the loop must wait without burning the CPU,
//! and must wake for whichever comes first: a timer's deadline, a socket
//! becoming ready, or a wake from another thread. One system call waits
//! for all three: `mio::Poll::poll` (epoll on Linux), with the time to the
//! earliest deadline as its timeout. Parking the loop *is* polling mio.
//!
//! Wakes from other threads arrive as an event too: a [`mio::Waker`]
//! (an eventfd on Linux) is registered with the poll, and [`Unparker`]
//! writes to it. This closes the classic "check, then sleep" race
//! (PITFALLS.md #3): if a wake lands after the loop found nothing to do
//! but before it entered `poll`, the eventfd is already readable and
//! `poll` returns at once. Nothing is lost, and no `thread::park` token
//! can be stolen by other code on this thread (PITFALLS.md #4).
//!
//! Read next: `timer.rs`.

use mio::{Events, Poll, Token};
use std::io;
use std::time::Duration;

/// The token of the cross-thread waker. I/O sources get other tokens.
const UNPARK: Token = Token(0);

/// Owns the loop's `mio::Poll`.
pub(crate) struct Reactor {
    poll: Poll,
    events: Events,
}

/// Wakes a parked loop from any thread.
pub(crate) struct Unparker {
    waker: mio::Waker,
}

impl Reactor {
    /// A reactor and the unparker that wakes it.
    pub(crate) fn new() -> io::Result<(Reactor, Unparker)> {
        let poll = Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), UNPARK)?;
        let reactor = Reactor {
            poll,
            events: Events::with_capacity(1024),
        };
        Ok((reactor, Unparker { waker }))
    }

    /// Sleeps in the kernel until an event arrives or `timeout` passes
    /// (`None`: no timeout; `Some(ZERO)`: just look, never sleep).
    /// Returns how many events arrived.
    pub(crate) fn park(&mut self, timeout: Option<Duration>) -> usize {
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            // A signal interrupted the wait: the caller re-checks timers
            // and queues and parks again if there is still nothing to do.
            Err(error) if error.kind() == io::ErrorKind::Interrupted => return 0,
            Err(error) => panic!("duet: the event loop's epoll_wait failed: {error}"),
        }
        // Only the unparker is registered so far; its event carries no
        // information beyond "look at the remote queue", which the
        // executor does after every park anyway.
        self.events.iter().count()
    }
}

impl Unparker {
    /// Makes the loop's current or next `park` return.
    pub(crate) fn unpark(&self) {
        // `wake` can only fail if the eventfd is broken; the loop would
        // then find the remote wake at its next regular check.
        let _ = self.waker.wake();
    }
}
