//! `join_all`: any number of futures at once, outputs in input order.
//!
//! The same idea as `join.rs`, for a `Vec` of children. It shows why the
//! per-child wakers of `child_wakers.rs` matter: a `join_all` over 1,000
//! futures that passed its task's waker straight down would have to poll
//! all 1,000 every time one of them was woken. Here a wake names its
//! child, and a poll polls exactly the children woken since the last one
//! (each at most once per poll), in the order they were woken.
//!
//! Outputs are kept in the slot of their input, so they come out in
//! input order whatever order the children finish in. As in `join`, the
//! children are boxed so that no `unsafe` pin projection is needed, and a
//! finished child's future is dropped at once.
//!
//! Read next: `select.rs`, where the first to finish wins.

use super::child_wakers::ChildWakers;
use super::join::Slot;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Waits for every future of `futures` and gives their outputs in input
/// order. An empty input gives an empty `Vec` at once.
///
/// ```
/// use duet::event_loop::{Runtime, join_all, sleep};
/// use std::time::Duration;
///
/// let rt = Runtime::new().unwrap();
/// let outputs = rt.block_on(join_all([30u64, 10, 20].map(|ms| async move {
///     sleep(Duration::from_millis(ms)).await; // finish in the order 10, 20, 30
///     ms
/// })));
/// assert_eq!(outputs, vec![30, 10, 20]); // ...but come back in input order
/// ```
pub fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> JoinAll<F> {
    let slots: Vec<Slot<F>> = futures
        .into_iter()
        .map(|future| Slot::Running(Box::pin(future)))
        .collect();
    JoinAll {
        running: slots.len(),
        wakers: ChildWakers::new(slots.len()),
        slots,
        woken: Vec::new(),
    }
}

/// The future made by [`join_all`].
///
/// ```
/// use duet::event_loop::{JoinAll, Runtime, join_all};
/// use std::future::{Ready, ready};
///
/// let all: JoinAll<Ready<u8>> = join_all((1..=3).map(ready));
/// assert_eq!(Runtime::new().unwrap().block_on(all), vec![1, 2, 3]);
/// ```
#[must_use = "a JoinAll does nothing unless you .await it"]
pub struct JoinAll<F: Future> {
    slots: Vec<Slot<F>>,
    /// How many slots are still `Running`.
    running: usize,
    wakers: ChildWakers,
    woken: Vec<usize>,
}

// As for `Join`: no field is ever pinned in place.
impl<F: Future> Unpin for JoinAll<F> {}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.wakers.set_parent(cx.waker());
        this.wakers.take_woken(&mut this.woken);
        for index in this.woken.drain(..) {
            let slot = &mut this.slots[index];
            if let Slot::Running(_) = slot {
                slot.poll_with(this.wakers.waker(index));
                if !matches!(slot, Slot::Running(_)) {
                    this.running -= 1;
                }
            }
        }
        if this.running > 0 {
            return Poll::Pending;
        }
        assert!(
            this.slots.iter().all(|slot| matches!(slot, Slot::Done(_))),
            "a JoinAll was polled after it completed"
        );
        Poll::Ready(this.slots.iter_mut().map(Slot::take).collect())
    }
}

impl<F: Future> fmt::Debug for JoinAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinAll")
            .field("futures", &self.slots.len())
            .field("running", &self.running)
            .finish()
    }
}
