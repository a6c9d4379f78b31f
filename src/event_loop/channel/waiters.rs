//! `Waiters`: a list of parked wakers, woken oldest first, and the rule
//! that keeps a wake-up from being lost when a waiter gives up.
//!
//! A future that must wait (`recv` on an empty channel, `send` on a full
//! one) registers here under a ticket number. The other side *chooses*
//! waiters by popping them off the front and waking them. A chosen waiter
//! is off the list; the next time it is polled it tries again.
//!
//! Wakes go oldest first, but service is not strictly first-come,
//! first-served: between the wake and the chosen waiter's poll, a
//! newcomer (a `try_send`, or a future polled for the first time) may take
//! the freed slot or the value. The woken waiter then finds nothing, and
//! joins the list again at the back, with a new ticket. Nothing is lost,
//! only the order; strict fairness would need the slot reserved for the
//! chosen waiter, a hand-off this channel does not do.
//!
//! The trap: a waiter is chosen, then dropped (cancelled by a `timeout`,
//! say) before it is polled. The wake-up it was given dies with it, and
//! the value or slot it was meant to take is left with nobody woken for
//! it. So a dropped waiter calls [`Waiters::cancel`]: if its ticket is
//! still on the list, it just leaves; if it is gone, it had been chosen,
//! and the caller passes the wake-up on to the next waiter.
//!
//! Read next: `oneshot.rs`.

use crate::event_loop::diagnostics;
use crate::trace::WaitOn;
use std::collections::VecDeque;
use std::task::Waker;

/// Waiting futures, oldest first.
#[derive(Default)]
pub(super) struct Waiters {
    queue: VecDeque<(u64, Waker)>,
    next_ticket: u64,
}

/// A waiting future's place: `None` until it first has to wait.
pub(super) type Ticket = Option<u64>;

impl Waiters {
    /// Leaves `waker` to be woken, or refreshes it if `ticket` is still on
    /// the list (the latest waker wins: the future may have moved tasks).
    pub(super) fn register(&mut self, ticket: &mut Ticket, waker: &Waker) {
        diagnostics::waits_for(WaitOn::Channel);
        if let Some(number) = *ticket
            && let Some((_, stored)) = self.queue.iter_mut().find(|(n, _)| *n == number)
        {
            if !stored.will_wake(waker) {
                stored.clone_from(waker);
            }
            return;
        }
        let number = self.next_ticket;
        self.next_ticket += 1;
        self.queue.push_back((number, waker.clone()));
        *ticket = Some(number);
    }

    /// Chooses the oldest waiter. The caller wakes it after unlocking.
    pub(super) fn choose_one(&mut self) -> Option<Waker> {
        self.queue.pop_front().map(|(_, waker)| waker)
    }

    /// Chooses every waiter (the channel closed: all of them must look).
    pub(super) fn choose_all(&mut self) -> Vec<Waker> {
        self.queue.drain(..).map(|(_, waker)| waker).collect()
    }

    /// The future holding `ticket` is done waiting (it got what it wanted,
    /// or it is being dropped). Returns true if it had been chosen, i.e.
    /// it was handed a wake-up that it will not use.
    pub(super) fn cancel(&mut self, ticket: &mut Ticket) -> bool {
        let Some(number) = ticket.take() else {
            return false; // never waited
        };
        match self.queue.iter().position(|(n, _)| *n == number) {
            Some(index) => {
                self.queue.remove(index);
                false
            }
            None => true,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.queue.len()
    }
}
