//! The many-senders, one-receiver channel behind `bounded` and `unbounded`.
//!
//! All state sits behind one mutex: the queue, the counts of live ends,
//! and two [`Waiters`] lists, receivers waiting for a value and senders
//! waiting for a free slot. Every async `send` and `recv` follows the same
//! handshake:
//!
//! 1. lock, and **check** whether it can go on (a value to take, a slot
//!    to fill, or the other side gone);
//! 2. if not, **store the waker** in a waiters list, *still holding the
//!    lock*, and return `Pending`;
//! 3. whoever changes the state (a send, a recv, a drop) does so under the
//!    same lock, takes the waker(s) to wake, unlocks, and only then wakes.
//!
//! Because the check and the store happen under one lock, no send can slip
//! in between them: the "check, then sleep" race (docs/PITFALLS.md #3) has no
//! gap to happen in. Were the waker stored *after* unlocking, a value sent
//! in that gap would wake nobody, and the receiver would sleep forever
//! next to a non-empty queue. Waking after unlocking keeps foreign code
//! (a waker of another executor) from running under our lock
//! (docs/PITFALLS.md #9).
//!
//! Read next: `waiters.rs`, the line of waiting senders and receivers.

use super::waiters::{Ticket, Waiters};
use crate::channel_error::{SendError, TrySendError};
use crate::event_loop::budget;
use crate::trace::{self, WokenBy};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::task::{Context, Poll, Waker, ready};

/// The shared state of one channel.
pub(super) struct Chan<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    queue: VecDeque<T>,
    /// `None`: unbounded.
    capacity: Option<usize>,
    senders: usize,
    receiver_alive: bool,
    receivers_waiting: Waiters,
    senders_waiting: Waiters,
}

impl<T> State<T> {
    fn is_full(&self) -> bool {
        self.capacity
            .is_some_and(|capacity| self.queue.len() >= capacity)
    }
}

/// Wakes what a state change chose, after the lock is released.
fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        trace::waking(channel_cause, || waker.wake());
    }
}

/// The cause a channel's wakes give in the trace: the channel, used by
/// the task running here (if any).
pub(super) fn channel_cause() -> WokenBy {
    WokenBy::Channel {
        from: trace::current_task(),
    }
}

impl<T> Chan<T> {
    pub(super) fn new(capacity: Option<usize>) -> Chan<T> {
        Chan {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                capacity,
                senders: 1,
                receiver_alive: true,
                receivers_waiting: Waiters::default(),
                senders_waiting: Waiters::default(),
            }),
        }
    }

    pub(super) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let mut state = self.state.lock();
        if !state.receiver_alive {
            return Err(TrySendError::Closed(value));
        }
        if state.is_full() {
            return Err(TrySendError::Full(value));
        }
        state.queue.push_back(value);
        let receiver = state.receivers_waiting.choose_one();
        drop(state);
        wake(receiver);
        Ok(())
    }

    /// One poll of an async `send`. `value` is taken when sent (or handed
    /// back in the error); `ticket` is the future's place in line.
    pub(super) fn poll_send(
        &self,
        cx: &mut Context<'_>,
        value: &mut Option<T>,
        ticket: &mut Ticket,
    ) -> Poll<Result<(), SendError<T>>> {
        ready!(budget::poll_spend(cx));
        let mut state = self.state.lock();
        let item = value
            .take()
            .expect("a send future is not polled after Ready");
        if !state.receiver_alive {
            state.senders_waiting.cancel(ticket);
            return Poll::Ready(Err(SendError(item)));
        }
        if state.is_full() {
            *value = Some(item);
            state.senders_waiting.register(ticket, cx.waker());
            return Poll::Pending;
        }
        state.senders_waiting.cancel(ticket);
        state.queue.push_back(item);
        let receiver = state.receivers_waiting.choose_one();
        drop(state);
        wake(receiver);
        Poll::Ready(Ok(()))
    }

    /// One poll of an async `recv`.
    pub(super) fn poll_recv(&self, cx: &mut Context<'_>, ticket: &mut Ticket) -> Poll<Option<T>> {
        ready!(budget::poll_spend(cx));
        let mut state = self.state.lock();
        if let Some(value) = state.queue.pop_front() {
            state.receivers_waiting.cancel(ticket);
            // A slot just freed: the oldest waiting sender may fill it.
            let sender = state.senders_waiting.choose_one();
            drop(state);
            wake(sender);
            return Poll::Ready(Some(value));
        }
        if state.senders == 0 {
            state.receivers_waiting.cancel(ticket);
            return Poll::Ready(None);
        }
        state.receivers_waiting.register(ticket, cx.waker());
        Poll::Pending
    }

    /// A waiting `send` future is dropped: leave the line, and pass on a
    /// wake-up it was chosen for but will not use.
    pub(super) fn cancel_send(&self, ticket: &mut Ticket) {
        if ticket.is_none() {
            return; // never waited, or already done: nothing to tidy
        }
        let mut state = self.state.lock();
        // Pass the wake-up on only if it was ours and the slot is still
        // free. Passing it on in other cases too would be harmless but
        // wasteful: the next sender would find the channel full and wait
        // again.
        let pass_on = state.senders_waiting.cancel(ticket) && !state.is_full();
        let next = if pass_on {
            state.senders_waiting.choose_one()
        } else {
            None
        };
        drop(state);
        wake(next);
    }

    /// A waiting `recv` future is dropped: as [`Chan::cancel_send`].
    pub(super) fn cancel_recv(&self, ticket: &mut Ticket) {
        if ticket.is_none() {
            return;
        }
        let mut state = self.state.lock();
        // As in `cancel_send`: only our own wake-up, only if a value is
        // still there for the next receiver.
        let pass_on = state.receivers_waiting.cancel(ticket) && !state.queue.is_empty();
        let next = if pass_on {
            state.receivers_waiting.choose_one()
        } else {
            None
        };
        drop(state);
        wake(next);
    }

    pub(super) fn add_sender(&self) {
        self.state.lock().senders += 1;
    }

    /// The last sender leaving closes the channel for receivers: every
    /// waiting receiver must look again (and will find `None` once the
    /// queue is drained).
    pub(super) fn drop_sender(&self) {
        let mut state = self.state.lock();
        state.senders -= 1;
        let receivers = if state.senders == 0 {
            state.receivers_waiting.choose_all()
        } else {
            Vec::new()
        };
        drop(state);
        trace::waking(channel_cause, || {
            receivers.into_iter().for_each(Waker::wake)
        });
    }

    /// The receiver leaving closes the channel for senders: waiting senders
    /// get their value back in an `Err`, and queued values are dropped.
    pub(super) fn drop_receiver(&self) {
        let mut state = self.state.lock();
        state.receiver_alive = false;
        let values = std::mem::take(&mut state.queue);
        let senders = state.senders_waiting.choose_all();
        drop(state);
        drop(values); // values' destructors run outside the lock
        trace::waking(channel_cause, || senders.into_iter().for_each(Waker::wake));
    }

    pub(super) fn try_recv(&self) -> Option<T> {
        let mut state = self.state.lock();
        let value = state.queue.pop_front()?;
        let sender = state.senders_waiting.choose_one();
        drop(state);
        wake(sender);
        Some(value)
    }

    /// Queued values and parked futures, for `Debug`: the window through
    /// which tests check that no dangling waker is left behind.
    pub(super) fn describe(&self, f: &mut std::fmt::Formatter<'_>, name: &str) -> std::fmt::Result {
        let state = self.state.lock();
        f.debug_struct(name)
            .field("queued", &state.queue.len())
            .field("receivers_waiting", &state.receivers_waiting.len())
            .field("senders_waiting", &state.senders_waiting.len())
            .finish()
    }
}
