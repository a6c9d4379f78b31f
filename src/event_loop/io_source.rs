//! `IoSource`: a non-blocking socket plus its registration with the reactor.
//!
//! Every I/O operation in `net` runs the same loop: `accept` and `connect`
//! through [`IoSource::poll_io`], reads and writes through
//! [`IoSource::poll_read`] and [`IoSource::poll_write`], which add one
//! refinement (below). That loop is the whole edge-triggered discipline
//! (docs/PITFALLS.md #8):
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
//! Readiness is cleared on `WouldBlock`, and otherwise never on a read that
//! filled the caller's buffer (or a write that sent all it was given): the
//! kernel may hold more, and the next call must try the system call again
//! instead of waiting for an edge that will never come (the kernel sent it
//! already). And because the waker is stored in the same poll that saw
//! `WouldBlock`, with no event processed in between (one thread), no edge
//! can slip past.
//!
//! One refinement saves a system call per message: a *short* read (fewer
//! bytes than the buffer holds) or short write proves that the kernel's
//! buffer was empty (or full) at that instant, so the next call could only
//! say `WouldBlock`. [`IoSource::poll_read`] and [`IoSource::poll_write`]
//! clear readiness right away then, as tokio does. It is safe here because
//! events are only processed when the loop turns the reactor
//! (`Reactor::poll_events`): data that arrives after the short
//! read raises a new edge, which the next turn delivers.
//!
//! Registration is lazy: a socket registers with the runtime running on
//! this thread the first time it does I/O, so `TcpListener::bind` works
//! before `block_on`. It deregisters when dropped. A socket belongs to the
//! runtime that first used it.
//!
//! Read next: `net/mod.rs`.

use super::budget;
use super::context;
use super::diagnostics;
use super::executor::Executor;
use super::reactor::Direction;
use super::slab::Key;
use crate::trace::WaitOn;
use std::cell::OnceCell;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, ready};

/// A non-blocking socket `S`, registered with a reactor on first use.
pub(crate) struct IoSource<S: AsRawFd> {
    inner: S,
    registration: OnceCell<Registration>,
}

struct Registration {
    executor: Weak<Executor>,
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
        op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_until(cx, direction, op, |_| false)
    }

    /// Reads into `buf` (see the module comment on short reads).
    pub(crate) fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>
    where
        for<'a> &'a S: Read,
    {
        let len = buf.len();
        // `n > 0`: EOF is not short, though clearing on it would be
        // harmless too (a closed direction stays ready).
        let short = move |&n: &usize| n > 0 && n < len;
        self.poll_io_until(cx, Direction::Read, |mut s| s.read(buf), short)
    }

    /// Writes from `buf` (see the module comment on short writes).
    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>
    where
        for<'a> &'a S: Write,
    {
        let short = |&n: &usize| n > 0 && n < buf.len();
        self.poll_io_until(cx, Direction::Write, |mut s| s.write(buf), short)
    }

    /// `poll_io`, also clearing readiness after a success that `drained`
    /// says used up the kernel's buffer.
    fn poll_io_until<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut(&S) -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        // Fairness inside the task: see `budget.rs`.
        ready!(budget::poll_spend(cx));
        let (executor, key) = match self.registered_executor() {
            Ok(found) => found,
            Err(error) => return Poll::Ready(Err(error)),
        };
        let reactor = executor.reactor();
        loop {
            if !reactor.poll_ready(key, direction, cx) {
                let fd = self.inner.as_raw_fd();
                diagnostics::waits_for(match direction {
                    Direction::Read => WaitOn::Readable { fd },
                    Direction::Write => WaitOn::Writable { fd },
                });
                return Poll::Pending;
            }
            match op(&self.inner) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    reactor.clear_ready(key, direction);
                }
                // Retried, as std's `read_exact` does. (A non-blocking
                // socket call does not wait, so in practice a signal hardly
                // ever lands in it.)
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                result => {
                    if matches!(&result, Ok(value) if drained(value)) {
                        reactor.clear_ready(key, direction);
                    }
                    return Poll::Ready(result);
                }
            }
        }
    }

    fn registered_executor(&self) -> io::Result<(Rc<Executor>, Key)> {
        let registration = match self.registration.get() {
            Some(registration) => registration,
            None => {
                let executor = context::expect_current("duet::event_loop::net (doing I/O)");
                let key = executor.reactor().register(self.inner.as_raw_fd())?;
                let registration = Registration {
                    executor: Rc::downgrade(&executor),
                    key,
                };
                self.registration.get_or_init(|| registration)
            }
        };
        let executor = registration.executor.upgrade().ok_or_else(|| {
            io::Error::other(
                "duet: the runtime this socket was registered with has been dropped; \
                 a socket belongs to the runtime that first used it",
            )
        })?;
        Ok((executor, registration.key))
    }
}

impl<S: AsRawFd> Drop for IoSource<S> {
    fn drop(&mut self) {
        if let Some(registration) = self.registration.take()
            && let Some(executor) = registration.executor.upgrade()
        {
            executor
                .reactor()
                .deregister(registration.key, self.inner.as_raw_fd());
        }
        // `inner` is dropped after this, closing the socket.
    }
}

#[cfg(test)]
mod tests {
    //! The short read/write refinement, counted: after a short read (or
    //! write) the next call waits for the reactor instead of making a
    //! system call that could only say `WouldBlock`.

    use super::*;
    use crate::event_loop::Runtime;
    use std::cell::Cell;
    use std::future::poll_fn;
    use std::os::fd::RawFd;
    use std::os::unix::net::UnixStream;

    /// A non-blocking socket that counts its system calls.
    struct Counted {
        stream: UnixStream,
        calls: Cell<usize>,
    }

    impl AsRawFd for Counted {
        fn as_raw_fd(&self) -> RawFd {
            self.stream.as_raw_fd()
        }
    }

    impl Read for &Counted {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.calls.set(self.calls.get() + 1);
            (&self.stream).read(buf)
        }
    }

    impl Write for &Counted {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.calls.set(self.calls.get() + 1);
            (&self.stream).write(buf)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A counted socket and its plain peer.
    fn pair() -> (IoSource<Counted>, UnixStream) {
        let (ours, theirs) = UnixStream::pair().expect("a socket pair");
        ours.set_nonblocking(true).expect("non-blocking mode");
        let counted = Counted {
            stream: ours,
            calls: Cell::new(0),
        };
        (IoSource::new(counted), theirs)
    }

    /// One poll, by hand: `Some` if ready.
    fn poll_once<T>(f: impl FnOnce(&mut Context<'_>) -> Poll<T>) -> Option<T> {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match f(&mut cx) {
            Poll::Ready(value) => Some(value),
            Poll::Pending => None,
        }
    }

    #[test]
    fn after_a_short_read_the_next_read_waits_without_a_system_call() {
        let (source, mut theirs) = pair();
        theirs.write_all(b"hello").unwrap();
        Runtime::new().unwrap().block_on(async {
            let mut buf = [0u8; 64];
            let n = poll_fn(|cx| source.poll_read(cx, &mut buf)).await.unwrap();
            assert_eq!(&buf[..n], b"hello");
            let calls = source.get_ref().calls.get();
            let next = poll_once(|cx| source.poll_read(cx, &mut buf));
            assert!(next.is_none(), "nothing more has arrived");
            assert_eq!(
                source.get_ref().calls.get(),
                calls,
                "no system call was made"
            );
        });
    }

    #[test]
    fn after_a_short_write_the_next_write_waits_without_a_system_call() {
        let (source, _theirs) = pair();
        Runtime::new().unwrap().block_on(async {
            // Far more than a socket buffer holds: the write is short.
            let big = vec![7u8; 16 << 20];
            let n = poll_fn(|cx| source.poll_write(cx, &big)).await.unwrap();
            assert!(0 < n && n < big.len(), "a short write, not {n}");
            let calls = source.get_ref().calls.get();
            let next = poll_once(|cx| source.poll_write(cx, &big));
            assert!(next.is_none(), "the peer has read nothing");
            assert_eq!(
                source.get_ref().calls.get(),
                calls,
                "no system call was made"
            );
        });
    }
}
