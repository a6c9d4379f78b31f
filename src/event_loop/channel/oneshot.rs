//! A oneshot channel: one value, once. The smallest waker handshake.
//!
//! The receiver is itself a future. Polled before the value is there, it
//! leaves its waker in the shared slot; `send` puts the value in and wakes
//! it; dropping the sender without sending wakes it too, so it can return
//! `None` instead of waiting forever. (That last wake is the one
//! hand-written channels forget; PITFALLS.md #1.)
//!
//! Read next: `../spawn_blocking.rs`.

use crate::event_loop::diagnostics;
use crate::trace::WaitOn;
use parking_lot::Mutex;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// Makes a oneshot channel.
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
pub struct Sender<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

/// Awaits the one value: `Some(value)`, or `None` if the sender was
/// dropped without sending.
pub struct Receiver<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

impl<T> Sender<T> {
    /// Sends `value`; gives it back if the receiver is gone.
    pub fn send(self, value: T) -> Result<(), T> {
        let mut slot = self.slot.lock();
        if !slot.receiver_alive {
            return Err(value);
        }
        slot.value = Some(value);
        let waker = slot.waker.take();
        drop(slot);
        if let Some(waker) = waker {
            waker.wake();
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
            waker.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// Waits for the value; the same as `.await` on the receiver, named
    /// like `blocking::channel::oneshot::Receiver::recv` for parity.
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
        // Keeping an equal waker saves a clone, no more. (Mutation testing:
        // `will_wake` → `false` clones every time; slower, not wrong.)
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
