//! The reactor: where the loop sleeps, and what wakes it.
//!
//! When no task is runnable the loop must wait without burning the CPU,
//! and must wake for whichever comes first: a timer's deadline, a socket
//! becoming ready, or a wake from another thread. One system call waits
//! for all three: `mio::Poll::poll` (epoll on Linux), with the time to the
//! earliest deadline as its timeout. Parking the loop *is* polling mio.
//! (The timeout counts whole milliseconds; `precise_wakeup.rs` shows how
//! a `timerfd` ends the park on the deadline's microsecond instead.)
//!
//! **Wakes from other threads** arrive as an event too: a [`mio::Waker`]
//! (an eventfd) is registered with the poll, and [`Unparker`] writes to
//! it. This closes the "check, then sleep" race (docs/PITFALLS.md #3): a wake
//! that lands after the loop found nothing to do but before it entered
//! `epoll_wait` has already made the eventfd readable, so the wait returns
//! at once. No `thread::park` token can be stolen either
//! (docs/PITFALLS.md #4).
//!
//! **Sockets** are registered once, for both directions, *edge-triggered*:
//! the kernel reports a change from "not ready" to "ready", once. So the
//! reactor remembers readiness per source and direction, and only the I/O
//! code clears it, when a system call says `WouldBlock` or a short read or
//! write proves the kernel's buffer empty or full
//! (docs/PITFALLS.md #8).
//! The I/O side of that contract is in `io_source.rs`.
//!
//! Turning the reactor is two steps, so the trace tells the story in
//! order: [`Reactor::poll_events`] sleeps and collects what became ready
//! (and whose wakers to call); the executor records that it is awake; then
//! [`Reactor::dispatch`] records each ready socket and calls its wakers.
//!
//! Each source's token is its slab key (see `slab.rs`), generation and
//! all. An event for a socket that was dropped, whose slot now belongs to
//! a new socket, carries the old generation and is ignored: the newcomer
//! is never woken for its predecessor's event.
//!
//! Read next: `sources.rs`, what the reactor keeps per socket.

use super::precise_wakeup::PreciseWakeup;
use super::slab::{Key, Slab};
pub(crate) use super::sources::Direction;
use super::sources::{Readiness, SourceState, deliver};
use crate::task_id::TaskId;
use crate::trace::{self, EventKind, WokenBy};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use std::cell::RefCell;
use std::io;
use std::os::fd::RawFd;
use std::task::{Context, Waker};
use std::time::Duration;

/// The token of the cross-thread waker. Slab keys never pack to this
/// value (its index half is the slab's reserved index).
const UNPARK: Token = Token(usize::MAX);

/// The token of the precise wake-up timer (`precise_wakeup.rs`): the
/// reserved index too, with another generation.
const PRECISE_WAKEUP: Token = Token(usize::MAX - (1 << 32));

/// What one event made ready, for the trace: the socket, the directions,
/// and which of the collected wakers are its (`to_wake[wakers]`).
struct Delivery {
    fd: RawFd,
    readable: bool,
    writable: bool,
    wakers: std::ops::Range<usize>,
}

/// Owns the loop's `mio::Poll` and every registered I/O source's state.
pub(crate) struct Reactor {
    poll: RefCell<Poll>,
    events: RefCell<Events>,
    sources: RefCell<Slab<SourceState>>,
    /// Reused between parks, so dispatching events does not allocate:
    /// the wakers `poll_events` collected, for `dispatch` to call.
    to_wake: RefCell<Vec<(Waker, Option<TaskId>)>>,
    /// Ends a park with a deadline to the microsecond, not the millisecond.
    precise_wakeup: PreciseWakeup,
    /// Filled only while tracing: what each event made ready.
    deliveries: RefCell<Vec<Delivery>>,
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
        let precise_wakeup = PreciseWakeup::new()?;
        poll.registry().register(
            &mut SourceFd(&precise_wakeup.raw_fd()),
            PRECISE_WAKEUP,
            Interest::READABLE,
        )?;
        let reactor = Reactor {
            poll: RefCell::new(poll),
            events: RefCell::new(Events::with_capacity(1024)),
            sources: RefCell::default(),
            to_wake: RefCell::default(),
            precise_wakeup,
            deliveries: RefCell::default(),
        };
        Ok((reactor, Unparker { waker }))
    }

    /// Sleeps in the kernel until an event arrives or `timeout` passes
    /// (`None`: no timeout; `Some(ZERO)`: just look, never sleep), then
    /// marks what became ready and collects the wakers of every task
    /// waiting for it. [`dispatch`](Reactor::dispatch) calls them.
    pub(crate) fn poll_events(&self, timeout: Option<Duration>) {
        // A look (no sleep) at a reactor with no socket registered can find
        // nothing to wake, so it skips the system call. (Wakes from other
        // threads are read from their queue after every look anyway.)
        if timeout == Some(Duration::ZERO) && self.sources.borrow().len() == 0 {
            return;
        }
        // `epoll_wait` counts whole milliseconds: for a deadline between
        // two of them, let the timerfd end the park on time.
        if let Some(timeout) = timeout
            && timeout.subsec_nanos() % 1_000_000 != 0
        {
            self.precise_wakeup.arm(timeout);
        }
        let mut events = self.events.borrow_mut();
        match self.poll.borrow_mut().poll(&mut events, timeout) {
            Ok(()) => {}
            // A signal interrupted the wait: the loop re-checks its queues
            // and timers, and parks again if there is still nothing to do.
            // (`tests/event_loop_executor.rs` stops and continues a parked
            // loop to make this happen.) Any other error means the epoll
            // descriptor itself is broken: the loop cannot wait any more.
            Err(error) if error.kind() == io::ErrorKind::Interrupted => return,
            Err(error) => panic!("duet: the event loop's epoll_wait failed: {error}"),
        }
        let mut to_wake = self.to_wake.borrow_mut();
        let mut sources = self.sources.borrow_mut();
        let tracing = trace::enabled();
        for event in events.iter() {
            // The unparker's event means "look at the remote queue",
            // which the executor does after every park anyway.
            if event.token() == UNPARK {
                continue;
            }
            if event.token() == PRECISE_WAKEUP {
                self.precise_wakeup.reset();
                continue;
            }
            let first = to_wake.len();
            let readiness = Readiness::of(event);
            if let Some(fd) = deliver(&mut sources, event.token(), readiness, &mut to_wake)
                && tracing
            {
                self.deliveries.borrow_mut().push(Delivery {
                    fd,
                    readable: readiness.readable,
                    writable: readiness.writable,
                    wakers: first..to_wake.len(),
                });
            }
        }
    }

    /// Traces what the last `poll_events` found ready and wakes the tasks
    /// that waited for it, each with its socket as the cause.
    pub(crate) fn dispatch(&self) {
        // Wake with no borrow held (docs/PITFALLS.md #9).
        let mut to_wake = self.to_wake.take();
        let deliveries = self.deliveries.take();
        if deliveries.is_empty() {
            to_wake.drain(..).for_each(|(waker, _)| waker.wake());
        } else {
            // Every collected waker belongs to a delivery: `poll_events`
            // read the tracing switch once for the whole turn.
            for delivery in &deliveries {
                let wakers = &to_wake[delivery.wakers.clone()];
                trace::emit(|| {
                    let wakes = wakers.iter().filter_map(|(_, task)| *task).collect();
                    let (fd, readable, writable) =
                        (delivery.fd, delivery.readable, delivery.writable);
                    let ready = EventKind::IoReady {
                        fd,
                        readable,
                        writable,
                        wakes,
                    };
                    (None, ready)
                });
                for (waker, _) in wakers {
                    trace::waking(
                        || WokenBy::Socket { fd: delivery.fd },
                        || waker.wake_by_ref(),
                    );
                }
            }
            to_wake.clear();
        }
        self.to_wake.replace(to_wake);
        let mut deliveries = deliveries;
        deliveries.clear();
        self.deliveries.replace(deliveries);
    }

    /// Starts watching `fd` in both directions, edge-triggered.
    pub(crate) fn register(&self, fd: RawFd) -> io::Result<Key> {
        let key = self.sources.borrow_mut().insert(|_| SourceState {
            ready: [true, true],
            closed: [false, false],
            waiters: Default::default(),
            fd,
        });
        let interest = Interest::READABLE | Interest::WRITABLE;
        let registered = self.poll.borrow().registry().register(
            &mut SourceFd(&fd),
            Token(key.to_usize()),
            interest,
        );
        if let Err(error) = registered {
            self.sources.borrow_mut().remove(key);
            return Err(error);
        }
        Ok(key)
    }

    /// Stops watching `fd`. Its waiting tasks' wakers are dropped: whoever
    /// dropped the socket also dropped the futures that waited on it.
    pub(crate) fn deregister(&self, key: Key, fd: RawFd) {
        // Deregistering an fd that is about to be closed can only fail if
        // it was never registered; there is nothing useful to do then.
        let _ = self.poll.borrow().registry().deregister(&mut SourceFd(&fd));
        let removed = self.sources.borrow_mut().remove(key);
        drop(removed); // outside the borrow: dropping a waker may run code
    }

    /// Ready if the source's last edge in `direction` is unused; otherwise
    /// leaves `cx`'s waker to be woken by the next edge.
    pub(crate) fn poll_ready(&self, key: Key, direction: Direction, cx: &mut Context<'_>) -> bool {
        let mut sources = self.sources.borrow_mut();
        let Some(source) = sources.get_mut(key) else {
            return true; // deregistered: let the system call report why
        };
        if source.ready[direction as usize] {
            return true;
        }
        source.waiters[direction as usize].add(cx.waker());
        false
    }

    /// The edge is used up: a system call said `WouldBlock`, or a short
    /// read or write emptied or filled the kernel's buffer. A closed
    /// direction stays ready.
    pub(crate) fn clear_ready(&self, key: Key, direction: Direction) {
        if let Some(source) = self.sources.borrow_mut().get_mut(key)
            && !source.closed[direction as usize]
        {
            source.ready[direction as usize] = false;
        }
    }

    /// Calls `f` with every waiting task's waker, the direction it waits
    /// in and the descriptor (for a hang report, `stall.rs`).
    pub(crate) fn for_each_waiter(&self, mut f: impl FnMut(&Waker, Direction, RawFd)) {
        for (_, source) in self.sources.borrow().iter() {
            for direction in [Direction::Read, Direction::Write] {
                for waker in source.waiters[direction as usize].wakers() {
                    f(waker, direction, source.fd);
                }
            }
        }
    }

    /// How many sources are registered.
    pub(crate) fn source_count(&self) -> usize {
        self.sources.borrow().len()
    }
}

impl Unparker {
    /// Makes the loop's current or next `poll_events` return.
    pub(crate) fn unpark(&self) {
        // `wake` can only fail if the eventfd is broken; the loop would
        // then find the remote wake at its next regular check.
        let _ = self.waker.wake();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    /// Counts its wakes.
    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn an_event_for_a_dropped_source_does_not_wake_the_slots_next_owner() {
        let (reactor, _unparker) = Reactor::new().unwrap();
        let (a, _a_peer) = UnixStream::pair().unwrap();
        let (b, _b_peer) = UnixStream::pair().unwrap();
        let old = reactor.register(a.as_raw_fd()).unwrap();
        reactor.deregister(old, a.as_raw_fd());
        let new = reactor.register(b.as_raw_fd()).unwrap();
        assert_ne!(old, new, "the reused slot has a new generation");
        // The new source has used up its readiness, and a task waits on it.
        reactor.clear_ready(new, Direction::Read);
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(!reactor.poll_ready(new, Direction::Read, &mut cx));

        // The predecessor's event, still in flight when it was dropped.
        let readable = Readiness {
            readable: true,
            ..Readiness::default()
        };
        let mut to_wake = Vec::new();
        let old_token = Token(old.to_usize());
        deliver(
            &mut reactor.sources.borrow_mut(),
            old_token,
            readable,
            &mut to_wake,
        );
        assert!(to_wake.is_empty(), "the old token woke the new owner");
        assert!(
            !reactor.poll_ready(new, Direction::Read, &mut cx),
            "the old token made the new owner ready"
        );

        // The same event with the new owner's own token does reach it.
        let new_token = Token(new.to_usize());
        deliver(
            &mut reactor.sources.borrow_mut(),
            new_token,
            readable,
            &mut to_wake,
        );
        to_wake.drain(..).for_each(|(waker, _)| waker.wake());
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert!(reactor.poll_ready(new, Direction::Read, &mut cx));
    }
}
