//! `join`: two futures at once, in one task, by polling both.
//!
//! Futures compose by polling each other. `join(a, b)` is a future whose
//! `poll` polls `a` and `b`; it is `Ready` when both have been. Nothing
//! runs "in parallel": one task, one thread, and while `a` waits (returns
//! `Pending`) the poll goes on to `b`. That is all concurrency inside a
//! task is.
//!
//! It polls only the child that was woken: each child is polled with its
//! own waker (see `child_wakers.rs`), which records its index before it
//! wakes the task. So a `join` of a fast channel and a slow timer polls
//! the timer once to start it, and then not again until it fires. A
//! finished child is dropped at once and its output kept until the other
//! is done.
//!
//! Pinning. A future must be polled through `Pin<&mut F>`, and getting
//! that for a field of our own struct ("pin projection") takes `unsafe`
//! code or a macro crate such as `pin-project`. duet forbids `unsafe`, so
//! each child is boxed (`Box::pin`): a `Pin<Box<F>>` can be polled from a
//! plain `&mut`. That costs one allocation per child per `join`. And since
//! no field is ever pinned in place, `Join` may promise to be `Unpin`
//! (`impl Unpin`, which is safe to write) even when an output type is not.
//!
//! Read next: `join_all.rs`, the same for any number of futures.

use super::child_wakers::ChildWakers;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Waits for both `a` and `b` and gives both outputs, polling them in one
/// task. Neither is cancelled when the other finishes.
///
/// ```
/// use duet::event_loop::{Runtime, join, sleep};
/// use std::time::Duration;
///
/// let rt = Runtime::new().unwrap();
/// let both = rt.block_on(async {
///     let slow = async {
///         sleep(Duration::from_millis(10)).await;
///         "slow"
///     };
///     join(slow, async { 2 }).await
/// });
/// assert_eq!(both, ("slow", 2));
/// ```
pub fn join<A: Future, B: Future>(a: A, b: B) -> Join<A, B> {
    Join {
        a: Slot::Running(Box::pin(a)),
        b: Slot::Running(Box::pin(b)),
        wakers: ChildWakers::new(2),
        woken: Vec::new(),
    }
}

/// The future made by [`join`]: a type you can name, store in a struct,
/// or return, like any other future.
///
/// ```
/// use duet::event_loop::{Join, Runtime, join};
/// use std::future::{Ready, ready};
///
/// let both: Join<Ready<u8>, Ready<char>> = join(ready(1), ready('x'));
/// assert_eq!(Runtime::new().unwrap().block_on(both), (1, 'x'));
/// ```
#[must_use = "a Join does nothing unless you .await it"]
pub struct Join<A: Future, B: Future> {
    a: Slot<A>,
    b: Slot<B>,
    wakers: ChildWakers,
    /// Reused between polls: the children woken since the last one.
    woken: Vec<usize>,
}

// Sound without `unsafe`: nothing inside a `Join` is ever pinned in place
// (the children are pinned in their own boxes).
impl<A: Future, B: Future> Unpin for Join<A, B> {}

impl<A: Future, B: Future> Future for Join<A, B> {
    type Output = (A::Output, B::Output);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.wakers.set_parent(cx.waker());
        this.wakers.take_woken(&mut this.woken);
        for index in this.woken.drain(..) {
            match index {
                0 => this.a.poll_with(this.wakers.waker(0)),
                _ => this.b.poll_with(this.wakers.waker(1)),
            }
        }
        match (&this.a, &this.b) {
            (Slot::Done(_), Slot::Done(_)) => Poll::Ready((this.a.take(), this.b.take())),
            (Slot::Taken, _) | (_, Slot::Taken) => panic!("a Join was polled after it completed"),
            _ => Poll::Pending,
        }
    }
}

/// One child of a combinator: still running, or finished with its output.
pub(crate) enum Slot<F: Future> {
    Running(Pin<Box<F>>),
    Done(F::Output),
    Taken,
}

impl<F: Future> Slot<F> {
    /// Polls a running child with its own waker; keeps its output and
    /// drops the finished future at once.
    pub(crate) fn poll_with(&mut self, waker: &Waker) {
        if let Slot::Running(future) = self
            && let Poll::Ready(output) = future.as_mut().poll(&mut Context::from_waker(waker))
        {
            *self = Slot::Done(output);
        }
    }

    /// The output of a `Done` child.
    pub(crate) fn take(&mut self) -> F::Output {
        match std::mem::replace(self, Slot::Taken) {
            Slot::Done(output) => output,
            _ => unreachable!("take is only called on a finished child"),
        }
    }
}

impl<A: Future, B: Future> fmt::Debug for Join<A, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = |slot_done: bool| if slot_done { "done" } else { "pending" };
        f.debug_struct("Join")
            .field("a", &state(!matches!(self.a, Slot::Running(_))))
            .field("b", &state(!matches!(self.b, Slot::Running(_))))
            .finish()
    }
}
