//! What the reactor knows about each registered socket: per direction,
//! whether the last edge is still unused, whether the direction is closed,
//! and which tasks wait for the next edge; and how one epoll event updates
//! that (`deliver`). `reactor.rs` owns the table of these and the epoll
//! instance; this file is the bookkeeping for one socket.
//!
//! Read next: `precise_wakeup.rs`.

use super::slab::{Key, Slab};
use crate::task_id::TaskId;
use crate::trace;
use mio::Token;
use std::os::fd::RawFd;
use std::task::Waker;

/// One direction of a source: reading or writing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Direction {
    Read,
    Write,
}

/// What the reactor knows about one registered source.
pub(super) struct SourceState {
    /// The last edge we saw in this direction has not yet been used up by
    /// a `WouldBlock`. New sources start "ready": the first attempt just
    /// tries the system call, which is the only way to find out.
    pub(super) ready: [bool; 2],
    /// The kernel reported this direction closed (the peer's FIN for
    /// reading) or failed. That never un-happens, so readiness in this
    /// direction is never cleared again: the next call reports EOF or the
    /// error at once. Without this, clearing readiness after a short read
    /// that arrived together with a FIN would wait for an edge that the
    /// kernel already sent.
    pub(super) closed: [bool; 2],
    /// Tasks waiting for the next edge, per direction. Usually one; a
    /// listener shared by several accepting tasks has several. All are
    /// woken: one wins the connection, the rest find `WouldBlock` and wait
    /// again. (A single slot would lose all but the last waiter.) Each
    /// waker comes with its task's id while tracing, for the trace to name.
    pub(super) waiters: [Waiters; 2],
    /// The descriptor, for the trace to name.
    pub(super) fd: RawFd,
}

/// A waiting task's waker, with its task's id while tracing.
pub(super) type Waiter = (Waker, Option<TaskId>);

/// The tasks waiting for one direction of one source. The first waiter is
/// kept in place and only a second one allocates: ten thousand idle
/// connections, each with one task waiting to read, then cost no heap
/// allocation here at all. The others sit behind one pointer: 8 bytes,
/// where a `Vec` kept in place takes 24 even when empty (so 32 bytes
/// less per socket, over both directions).
#[derive(Default)]
pub(super) struct Waiters {
    first: Option<Waiter>,
    #[allow(clippy::box_collection)] // a box is one word; the Vec is three
    more: Option<Box<Vec<Waiter>>>,
}

impl Waiters {
    /// Adds `waker` unless an equal one is already waiting.
    pub(super) fn add(&mut self, waker: &Waker) {
        let waiting = |(waiter, _): &Waiter| waiter.will_wake(waker);
        if self.first.as_ref().is_some_and(waiting) || self.more().iter().any(waiting) {
            return;
        }
        let task = if trace::enabled() {
            trace::current_task()
        } else {
            None
        };
        let waiter = (waker.clone(), task);
        match self.first {
            None => self.first = Some(waiter),
            Some(_) => self.more.get_or_insert_default().push(waiter),
        }
    }

    /// The waiters after the first.
    fn more(&self) -> &[Waiter] {
        self.more.as_deref().map_or(&[], Vec::as_slice)
    }

    /// Every waiting waker.
    pub(super) fn wakers(&self) -> impl Iterator<Item = &Waker> {
        self.first.iter().chain(self.more()).map(|(waker, _)| waker)
    }

    /// Moves every waiter into `to_wake`.
    fn take_into(&mut self, to_wake: &mut Vec<Waiter>) {
        to_wake.extend(self.first.take());
        if let Some(more) = &mut self.more {
            to_wake.append(more);
        }
    }
}

/// What one event says about its source, in both directions.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Readiness {
    pub(super) readable: bool,
    pub(super) writable: bool,
    pub(super) read_closed: bool,
    pub(super) write_closed: bool,
}

impl Readiness {
    pub(super) fn of(event: &mio::event::Event) -> Readiness {
        // A closed or failed socket counts as ready both ways: the next
        // system call reports EOF or the error. (mio reports a failed
        // socket as closed as well, so the `|| failed` is a belt to those
        // braces.)
        let failed = event.is_error();
        let read_closed = event.is_read_closed() || failed;
        let write_closed = event.is_write_closed() || failed;
        Readiness {
            readable: event.is_readable() || read_closed,
            writable: event.is_writable() || write_closed,
            read_closed,
            write_closed,
        }
    }
}

/// Marks the source that `token` names ready, collects the wakers of the
/// tasks waiting for it, and returns its descriptor. A token whose
/// generation is not the slot's current one names a source that is gone:
/// its event is dropped, and the slot's new owner never hears of it.
pub(super) fn deliver(
    sources: &mut Slab<SourceState>,
    token: Token,
    readiness: Readiness,
    to_wake: &mut Vec<(Waker, Option<TaskId>)>,
) -> Option<RawFd> {
    let Some(source) = sources.get_mut(Key::from_usize(token.0)) else {
        return None; // a stale token: that source is gone
    };
    let Readiness {
        readable,
        writable,
        read_closed,
        write_closed,
    } = readiness;
    if readable {
        source.mark_ready(Direction::Read, read_closed, to_wake);
    }
    if writable {
        source.mark_ready(Direction::Write, write_closed, to_wake);
    }
    Some(source.fd)
}

impl SourceState {
    fn mark_ready(
        &mut self,
        direction: Direction,
        closed: bool,
        to_wake: &mut Vec<(Waker, Option<TaskId>)>,
    ) {
        self.ready[direction as usize] = true;
        self.closed[direction as usize] |= closed;
        self.waiters[direction as usize].take_into(to_wake);
    }
}

// Every registered socket has one of these: kept small (see `Waiters`).
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<SourceState>() == 88);
