//! Channels written by hand: where wakers are easiest to see.
//!
//! A receiver with nothing to read leaves its waker in the channel and
//! returns `Pending`; a sender that adds a value takes that waker out and
//! wakes it. A sender facing a full bounded channel does the same in the
//! other direction. That is all an async channel is. Read `mpsc.rs` for the
//! handshake ("check, store the waker, all under one lock") and why its
//! order matters, and `waiters.rs` for how a cancelled waiter passes on a
//! wake-up it was given.
//!
//! The names and behaviour match [`crate::blocking::channel`] (which is
//! crossbeam's channel): `bounded(n)` holds exactly `n` values; `send`
//! fails once the receiver is gone, releasing senders that wait on a full
//! channel; `recv` gives `None` once every sender is gone and the queue is
//! drained; values left in the channel when the receiver goes are dropped.
//!
//! Senders and receivers are `Send` when `T` is: a `Sender` works from a
//! std thread (`try_send` needs no runtime at all), from `spawn_blocking`,
//! or from a task on another runtime; its wakes reach the receiving loop
//! through that loop's remote queue and reactor waker.
//!
//! Read next: `mpsc.rs`, `waiters.rs`, `oneshot.rs`, then
//! `spawn_blocking.rs`, which is built on a oneshot.

mod mpsc;
pub mod oneshot;
mod waiters;

pub use crate::channel_error::{SendError, TrySendError};
pub use oneshot::oneshot;

use mpsc::Chan;
use std::fmt;
use std::future::poll_fn;
use std::sync::Arc;
use waiters::Ticket;

/// A channel with no limit: `send` never waits (memory is the limit).
///
/// ```
/// use duet::event_loop::{Runtime, channel};
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let (tx, rx) = channel::unbounded();
///     tx.send("one").await.unwrap();
///     tx.send("two").await.unwrap(); // never waits
///     drop(tx);
///     assert_eq!(rx.recv().await, Some("one"));
///     assert_eq!(rx.recv().await, Some("two"));
///     assert_eq!(rx.recv().await, None); // every sender is gone
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    channel(None)
}

/// A channel that holds at most `capacity` values; `send` waits while it
/// is full. This back-pressure keeps a fast producer from running away
/// from a slow consumer.
///
/// # Panics
/// If `capacity` is 0 (there is no rendezvous channel on either runtime).
///
/// ```
/// use duet::event_loop::channel::{self, TrySendError};
/// use duet::event_loop::Runtime;
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let (tx, rx) = channel::bounded(1);
///     tx.send("a").await.unwrap();
///     assert_eq!(tx.try_send("b"), Err(TrySendError::Full("b"))); // send would wait
///     assert_eq!(rx.recv().await, Some("a"));
///     tx.send("b").await.unwrap(); // room again
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn bounded<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "duet::event_loop::channel::bounded: capacity must be at least 1"
    );
    channel(Some(capacity))
}

fn channel<T>(capacity: Option<usize>) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(Chan::new(capacity));
    (Sender { chan: chan.clone() }, Receiver { chan })
}

/// The sending side. Clone it to send from several tasks or threads.
///
/// ```
/// use duet::event_loop::{Runtime, channel, spawn};
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let (tx, rx) = channel::unbounded();
///     for i in 1..=3 {
///         let tx = tx.clone();
///         spawn(async move { tx.send(i).await.unwrap() });
///     }
///     drop(tx);
///     let mut sum = 0;
///     while let Some(i) = rx.recv().await {
///         sum += i;
///     }
///     assert_eq!(sum, 6);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

/// The receiving side. Share it (`Rc`/`Arc`) to receive from several tasks.
///
/// ```
/// use duet::event_loop::{Runtime, channel, spawn};
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let (tx, rx) = channel::unbounded();
///     spawn(async move {
///         for word in ["hello", "world"] {
///             tx.send(word).await.unwrap();
///         }
///     });
///     let mut words = Vec::new();
///     while let Some(word) = rx.recv().await {
///         words.push(word);
///     }
///     assert_eq!(words, ["hello", "world"]);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

/// Takes a waiting future out of line if it is dropped before it finishes
/// (see `waiters.rs`).
struct InLine<'a, T> {
    chan: &'a Chan<T>,
    ticket: Ticket,
    sending: bool,
}

impl<T> Drop for InLine<'_, T> {
    fn drop(&mut self) {
        if self.sending {
            self.chan.cancel_send(&mut self.ticket);
        } else {
            self.chan.cancel_recv(&mut self.ticket);
        }
    }
}

impl<T> Sender<T> {
    /// Sends `value`, waiting while the channel is full. Fails, handing
    /// `value` back, once the receiver is gone (also while waiting).
    ///
    /// Not cancel safe on a full channel: the future holds `value` while
    /// it waits, and dropping the future drops the value unsent. (It is
    /// never sent *and* lost: a dropped `send` either queued it in the
    /// poll that returned `Ready`, or did not queue it.) Use `try_send`
    /// where a value must not be lost to a `select`.
    ///
    /// ```
    /// use duet::event_loop::{Runtime, channel};
    ///
    /// let rt = Runtime::new()?;
    /// rt.block_on(async {
    ///     let (tx, rx) = channel::bounded(4);
    ///     drop(rx);
    ///     let error = tx.send("lost").await.unwrap_err();
    ///     assert_eq!(error.into_inner(), "lost");
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        let mut value = Some(value);
        let mut line = InLine {
            chan: &self.chan,
            ticket: None,
            sending: true,
        };
        poll_fn(|cx| self.chan.poll_send(cx, &mut value, &mut line.ticket)).await
    }

    /// Sends without waiting: `Full` if the channel is full, `Closed` if
    /// the receiver is gone. Needs no runtime, so any thread can feed a
    /// loop with it.
    ///
    /// ```
    /// use duet::event_loop::channel;
    ///
    /// let (tx, rx) = channel::bounded(8);
    /// // No runtime needed: a plain thread can feed a loop.
    /// std::thread::spawn(move || tx.try_send(42).unwrap()).join().unwrap();
    /// assert_eq!(rx.try_recv(), Some(42));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.chan.try_send(value)
    }
}

impl<T> Receiver<T> {
    /// Waits for the next value; `None` once every sender is gone and the
    /// queue is empty.
    ///
    /// Cancel safe: a value leaves the queue only in the poll that returns
    /// it, and a dropped `recv` passes on any wake-up it was given.
    ///
    /// ```
    /// use duet::event_loop::{Runtime, channel, spawn};
    ///
    /// let rt = Runtime::new()?;
    /// rt.block_on(async {
    ///     let (tx, rx) = channel::bounded(1);
    ///     spawn(async move { tx.send(7).await.unwrap() });
    ///     assert_eq!(rx.recv().await, Some(7)); // waits until the task has sent
    ///     assert_eq!(rx.recv().await, None); // the task is done, its sender gone
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn recv(&self) -> Option<T> {
        let mut line = InLine {
            chan: &self.chan,
            ticket: None,
            sending: false,
        };
        poll_fn(|cx| self.chan.poll_recv(cx, &mut line.ticket)).await
    }

    /// Takes a value if one is queued, without waiting.
    ///
    /// ```
    /// use duet::event_loop::channel;
    ///
    /// let (tx, rx) = channel::unbounded();
    /// assert_eq!(rx.try_recv(), None); // nothing yet, and no waiting
    /// tx.try_send(7).unwrap();
    /// assert_eq!(rx.try_recv(), Some(7));
    /// ```
    pub fn try_recv(&self) -> Option<T> {
        self.chan.try_recv()
    }
}

// Written by hand: `#[derive(Clone)]` would demand `T: Clone`, but cloning
// a Sender copies a handle, never a value.
impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.chan.drop_receiver();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.chan.describe(f, "Sender")
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.chan.describe(f, "Receiver")
    }
}
