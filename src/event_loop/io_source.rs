//! `IoSource`: a non-blocking socket plus its registration with the reactor.
//!
//! Every I/O operation in `net` goes through [`IoSource::poll_io`], which
//! is the whole edge-triggered discipline in one loop (PITFALLS.md #8):
//!
//! ```text
//! loop {
//!     if the reactor has no unused edge for this direction:
//!         leave our waker with the reactor; return Pending
//!     try the system call
//!         WouldBlock  → the edge is used up: clear it, loop (and so wait)
//!         anything else (data, a partial write, EOF, an error) → return it
//! }
//! ```
//!
//! Readiness is cleared *only* on `WouldBlock`. A partial read or write
//! leaves it set, so the next call tries the system call again instead of
//! waiting for an edge that will never come (the kernel sent it already).
//! And because the waker is stored in the same poll that saw `WouldBlock`,
//! with no event processed in between (one thread), no edge can slip past.
//!
//! Registration is lazy: a socket registers with the runtime running on
//! this thread the first time it does I/O, so `TcpListener::bind` works
//! before `block_on`. It deregisters when dropped. A socket belongs to the
//! runtime that first used it.
//!
//! Read next: `net/mod.rs`.

use super::budget;
use super::context;
use super::executor::Core;
use super::reactor::Direction;
use super::slab::Key;
use crate::trace::{self, EventKind, WaitOn};
use std::cell::OnceCell;
use std::io;
use std::os::fd::AsRawFd;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, ready};

/// A non-blocking socket `S`, registered with a reactor on first use.
pub(crate) struct IoSource<S: AsRawFd> {
    inner: S,
    registration: OnceCell<Registration>,
}

struct Registration {
    core: Weak<Core>,
    key: Key,
}

impl<S: AsRawFd> IoSource<S> {
    /// Wraps a socket that is already in non-blocking mode.
    pub(crate) fn new(inner: S) -> IoSource<S> {
        IoSource {
            inner,
            registration: OnceCell::new(),
        }
    }

    pub(crate) fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Runs `op` (one non-blocking system call) until it does something
    /// other than `WouldBlock`, waiting for readiness in `direction`
    /// between tries.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        // Fairness inside the task: see `budget.rs`.
        ready!(budget::poll_spend(cx));
        let (core, key) = match self.registered_core() {
            Ok(found) => found,
            Err(error) => return Poll::Ready(Err(error)),
        };
        let reactor = core.reactor();
        loop {
            if !reactor.poll_ready(key, direction, cx) {
                trace::emit(|| {
                    let fd = self.inner.as_raw_fd();
                    let on = match direction {
                        Direction::Read => WaitOn::Readable { fd },
                        Direction::Write => WaitOn::Writable { fd },
                    };
                    (trace::current_task(), EventKind::Wait { on })
                });
                return Poll::Pending;
            }
            match op(&self.inner) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    reactor.clear_ready(key, direction);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                result => return Poll::Ready(result),
            }
        }
    }

    fn registered_core(&self) -> io::Result<(Rc<Core>, Key)> {
        let registration = match self.registration.get() {
            Some(registration) => registration,
            None => {
                let core = context::expect_current("duet::event_loop::net (doing I/O)");
                let key = core.reactor().register(self.inner.as_raw_fd())?;
                let registration = Registration {
                    core: Rc::downgrade(&core),
                    key,
                };
                self.registration.get_or_init(|| registration)
            }
        };
        let core = registration.core.upgrade().ok_or_else(|| {
            io::Error::other(
                "duet: the runtime this socket was registered with has been dropped; \
                 a socket belongs to the runtime that first used it",
            )
        })?;
        Ok((core, registration.key))
    }
}

impl<S: AsRawFd> Drop for IoSource<S> {
    fn drop(&mut self) {
        if let Some(registration) = self.registration.take()
            && let Some(core) = registration.core.upgrade()
        {
            core.reactor()
                .deregister(registration.key, self.inner.as_raw_fd());
        }
        // `inner` is dropped after this, closing the socket.
    }
}
