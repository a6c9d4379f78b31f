//! A oneshot channel: one value, once. The smallest waker handshake.
//!
//! The receiver is itself a future. Polled before the value is there, it
//! leaves its waker in the shared slot; `send` puts the value in and wakes
//! it; dropping the sender without sending wakes it too, so it can return
//! `None` instead of waiting forever. (That last wake is the one
//! hand-written channels forget; docs/PITFALLS.md #1.)
//!
//! Read next: `../spawn_blocking.rs`.

use crate::event_loop::diagnostics;
use crate::trace::{self, WaitOn};
use parking_lot::Mutex;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// Makes a oneshot channel.
///
/// ```
/// use duet::event_loop::{Runtime, channel, spawn};
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let (reply_tx, reply_rx) = channel::oneshot();
///     spawn(async move { reply_tx.send("pong").unwrap() });
///     assert_eq!(reply_rx.recv().await, Some("pong"));
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn oneshot<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Mutex::new(Slot {
        value: None,
        sender_alive: true,
        receiver_alive: true,
        waker: None,
    }));
    (Sender { slot: slot.clone() }, Receiver { slot })
}

struct Slot<T> {
    value: Option<T>,
    sender_alive: bool,
    receiver_alive: bool,
    waker: Option<Waker>,
}

/// Sends the one value.
///
/// ```
/// use duet::event_loop::{Runtime, channel};
///
/// let (tx, rx) = channel::oneshot();
/// tx.send(1).unwrap(); // not async: a oneshot send never waits
/// let rt = Runtime::new()?;
/// assert_eq!(rt.block_on(rx.recv()), Some(1));
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Sender<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

/// Awaits the one value: `Some(value)`, or `None` if the sender was
/// dropped without sending.
///
/// Cancel safe when polled through `&mut` (it is `Unpin`): the value is
/// taken only by the poll that returns it. Dropping the receiver itself
/// drops a value already sent, and makes a later `send` fail.
///
/// ```
/// use duet::event_loop::{Runtime, channel};
///
/// let rt = Runtime::new()?;
/// let (tx, rx) = channel::oneshot::<u8>();
/// drop(tx); // dropped unused: the receiver is told, not left waiting
/// assert_eq!(rt.block_on(rx), None); // the receiver is itself a future
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Receiver<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

impl<T> Sender<T> {
    /// Sends `value`; gives it back if the receiver is gone.
    ///
    /// ```
    /// use duet::event_loop::channel;
    ///
    /// let (tx, rx) = channel::oneshot();
    /// drop(rx);
    /// assert_eq!(tx.send(5), Err(5)); // nobody to receive it: the value comes back
    /// ```
    pub fn send(self, value: T) -> Result<(), T> {
        let mut slot = self.slot.lock();
        if !slot.receiver_alive {
            return Err(value);
        }
        slot.value = Some(value);
        let waker = slot.waker.take();
        drop(slot);
        if let Some(waker) = waker {
            trace::waking(super::mpsc::channel_cause, || waker.wake());
        }
        Ok(())
        // `self` drops here; its Drop finds no waker left to wake.
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut slot = self.slot.lock();
        slot.sender_alive = false;
        let waker = slot.waker.take();
        drop(slot);
        if let Some(waker) = waker {
            trace::waking(super::mpsc::channel_cause, || waker.wake());
        }
    }
}

impl<T> Receiver<T> {
    /// Waits for the value; the same as `.await` on the receiver, named
    /// like `blocking::channel::oneshot::Receiver::recv` for parity.
    ///
    /// ```
    /// use duet::event_loop::{Runtime, channel, spawn_blocking};
    ///
    /// let rt = Runtime::new()?;
    /// rt.block_on(async {
    ///     let (tx, rx) = channel::oneshot();
    ///     spawn_blocking(move || tx.send("from a thread").unwrap());
    ///     assert_eq!(rx.recv().await, Some("from a thread"));
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn recv(self) -> Option<T> {
        self.await
    }
}

impl<T> Future for Receiver<T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut slot = self.slot.lock();
        if let Some(value) = slot.value.take() {
            return Poll::Ready(Some(value));
        }
        if !slot.sender_alive {
            return Poll::Ready(None);
        }
        // Keeping an equal waker saves a clone, no more: replacing it every
        // time would be slower, not wrong.
        match &mut slot.waker {
            Some(stored) if stored.will_wake(cx.waker()) => {}
            stored => *stored = Some(cx.waker().clone()),
        }
        diagnostics::waits_for(WaitOn::Channel);
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut slot = self.slot.lock();
        slot.receiver_alive = false;
        let value = slot.value.take();
        let waker = slot.waker.take();
        drop(slot);
        drop((value, waker)); // destructors run outside the lock
    }
}

impl<T> std::fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("oneshot::Sender")
    }
}

impl<T> std::fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let waiting = self.slot.lock().waker.is_some();
        f.debug_struct("oneshot::Receiver")
            .field("waiting", &waiting)
            .finish()
    }
}
