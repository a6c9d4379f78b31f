//! # Channels the blocking way: a full or empty queue puts the thread to sleep
//!
//! A channel is a queue shared by threads. Here it is crossbeam's, wrapped
//! in the names the event loop uses too. `recv` on an empty channel and
//! `send` on a full one sleep in the kernel until another thread changes
//! that — the simplest possible way to wait, and it costs a whole thread.
//!
//! `send` and `recv` first try without waiting, and only a call that must
//! wait goes through `blocked_on` (in `mod.rs`), so the trace shows the
//! waits that really happen. The oneshot's `recv` is the exception: it
//! always goes through `blocked_on`, so its trace shows a `Block` even when
//! the value was already there.
//!
//! The twin of this file is [`crate::event_loop::channel`], where a
//! waiting `send` or `recv` parks a *waker* instead of a thread.
//!
//! Read next: `event_loop/mod.rs` ([`crate::event_loop`]).

use super::blocked_on;
pub use crate::channel_error::{SendError, TrySendError};
pub use crate::event_loop::Elapsed;
use crossbeam_channel as cb;
use std::time::Duration;

/// A channel with no limit: `send` never waits (memory is the limit).
///
/// ```
/// use duet::blocking::{Runtime, channel};
///
/// let rt = Runtime::new();
/// rt.block_on(|| {
///     let (tx, rx) = channel::unbounded();
///     tx.send("one").unwrap();
///     tx.send("two").unwrap(); // never waits
///     drop(tx);
///     assert_eq!(rx.recv(), Some("one"));
///     assert_eq!(rx.recv(), Some("two"));
///     assert_eq!(rx.recv(), None); // every sender is gone
/// });
/// ```
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    pair(cb::unbounded())
}

/// A channel that holds at most `capacity` values; `send` waits while it
/// is full. This back-pressure is what keeps a fast producer from running
/// away from a slow consumer.
///
/// # Panics
/// If `capacity` is 0. (crossbeam would make a "rendezvous" channel, where
/// each send waits for a matching recv; duet has no such channel on either
/// runtime, so that a program means the same thing on both.)
///
/// ```
/// use duet::blocking::channel::{self, TrySendError};
/// use duet::blocking::Runtime;
///
/// let rt = Runtime::new();
/// rt.block_on(|| {
///     let (tx, rx) = channel::bounded(1);
///     tx.send("a").unwrap();
///     assert_eq!(tx.try_send("b"), Err(TrySendError::Full("b"))); // send would wait
///     assert_eq!(rx.recv(), Some("a"));
///     tx.send("b").unwrap(); // room again
/// });
/// ```
pub fn bounded<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "duet::blocking::channel::bounded: capacity must be at least 1"
    );
    pair(cb::bounded(capacity))
}

/// Wraps crossbeam's ends, with the "receiver gone" signal between them.
fn pair<T>((tx, rx): (cb::Sender<T>, cb::Receiver<T>)) -> (Sender<T>, Receiver<T>) {
    // Nothing is ever sent on it: the receiver's drop disconnects it, and
    // that is the signal.
    let (alive, receiver_gone) = cb::bounded(0);
    let sender = Sender {
        inner: tx,
        receiver_gone,
    };
    let receiver = Receiver {
        inner: rx,
        alive: Some(alive),
    };
    (sender, receiver)
}

/// The sending side. Clone it to send from several threads.
///
/// ```
/// use duet::blocking::{Runtime, channel, spawn};
///
/// let rt = Runtime::new();
/// rt.block_on(|| {
///     let (tx, rx) = channel::unbounded();
///     for i in 1..=3 {
///         let tx = tx.clone();
///         spawn(move || tx.send(i).unwrap());
///     }
///     drop(tx);
///     let mut sum = 0;
///     while let Some(i) = rx.recv() {
///         sum += i;
///     }
///     assert_eq!(sum, 6);
/// });
/// ```
pub struct Sender<T> {
    inner: cb::Sender<T>,
    /// Disconnected once the [`Receiver`] starts to drop.
    receiver_gone: cb::Receiver<()>,
}

// Written by hand: `#[derive(Clone)]` would demand `T: Clone`, but cloning
// a Sender copies a handle, never a value.
impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender {
            inner: self.inner.clone(),
            receiver_gone: self.receiver_gone.clone(),
        }
    }
}

impl<T> Sender<T> {
    /// Sends `value`, waiting while the channel is full.
    ///
    /// Fails, handing `value` back, once the [`Receiver`] is gone — also if
    /// it goes while this call waits.
    ///
    /// ```
    /// use duet::blocking::{Runtime, channel};
    ///
    /// let rt = Runtime::new();
    /// rt.block_on(|| {
    ///     let (tx, rx) = channel::bounded(4);
    ///     drop(rx);
    ///     let error = tx.send("lost").unwrap_err();
    ///     assert_eq!(error.into_inner(), "lost");
    /// });
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        match self.try_send(value) {
            Ok(()) => Ok(()),
            Err(TrySendError::Closed(value)) => Err(SendError(value)),
            // Full: now we really wait, for a free slot or for the
            // receiver to go, whichever comes first. The select is biased
            // to the second: a dropping receiver frees slots as it drains
            // its queue, and a waiting send must not slip into one of them
            // and report success to a channel nobody will read.
            Err(TrySendError::Full(value)) => blocked_on("send", || {
                let mut select = cb::Select::new_biased();
                let gone = select.recv(&self.receiver_gone);
                select.send(&self.inner);
                let ready = select.select();
                if ready.index() == gone {
                    let _ = ready.recv(&self.receiver_gone);
                    return Err(SendError(value));
                }
                ready.send(&self.inner, value).map_err(|e| SendError(e.0))
            }),
        }
    }

    /// Sends `value` only if that needs no waiting: fails with
    /// [`TrySendError::Full`] or [`TrySendError::Closed`] otherwise.
    ///
    /// ```
    /// use duet::blocking::channel;
    ///
    /// let (tx, rx) = channel::bounded(8);
    /// // No runtime needed: a plain thread can feed a loop.
    /// std::thread::spawn(move || tx.try_send(42).unwrap()).join().unwrap();
    /// assert_eq!(rx.try_recv(), Some(42));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.inner.try_send(value).map_err(|e| match e {
            cb::TrySendError::Full(value) => TrySendError::Full(value),
            cb::TrySendError::Disconnected(value) => TrySendError::Closed(value),
        })
    }
}

/// The receiving side. There is one; share it (say, in an `Arc`) if
/// several threads should take turns receiving.
///
/// Values still queued when the receiver is dropped are dropped with it,
/// as on the event loop: nobody can ever read them.
///
/// ```
/// use duet::blocking::{Runtime, channel, spawn};
///
/// let rt = Runtime::new();
/// rt.block_on(|| {
///     let (tx, rx) = channel::unbounded();
///     spawn(move || {
///         for word in ["hello", "world"] {
///             tx.send(word).unwrap();
///         }
///     });
///     let mut words = Vec::new();
///     while let Some(word) = rx.recv() {
///         words.push(word);
///     }
///     assert_eq!(words, ["hello", "world"]);
/// });
/// ```
pub struct Receiver<T> {
    inner: cb::Receiver<T>,
    /// Its drop tells waiting senders that this receiver is gone.
    alive: Option<cb::Sender<()>>,
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // First tell every waiting sender to give up (see `Sender::send`).
        drop(self.alive.take());
        // crossbeam's `unbounded` drops queued values when its receiver
        // goes, but its `bounded` only marks itself disconnected and keeps
        // them until the last sender goes too. Draining here makes both
        // kinds behave as the event loop's channels do. (A `try_send` in
        // the instant between this drain and the disconnect may still
        // queue a value, which then waits for the last sender; it was
        // sent while the receiver existed.)
        while self.inner.try_recv().is_ok() {}
    }
}

impl<T> Receiver<T> {
    /// Takes the next value, waiting while the channel is empty.
    ///
    /// Returns `None` once every [`Sender`] is dropped and the queue is
    /// empty: nobody can send again, so waiting would be forever.
    ///
    /// ```
    /// use duet::blocking::{Runtime, channel, spawn};
    ///
    /// let rt = Runtime::new();
    /// rt.block_on(|| {
    ///     let (tx, rx) = channel::bounded(1);
    ///     spawn(move || tx.send(7).unwrap());
    ///     assert_eq!(rx.recv(), Some(7)); // waits until the task has sent
    ///     assert_eq!(rx.recv(), None); // the task is done, its sender gone
    /// });
    /// ```
    pub fn recv(&self) -> Option<T> {
        match self.inner.try_recv() {
            Ok(value) => Some(value),
            Err(cb::TryRecvError::Disconnected) => None,
            Err(cb::TryRecvError::Empty) => blocked_on("recv", || self.inner.recv()).ok(),
        }
    }

    /// Takes the next value, waiting at most `timeout` for one: the
    /// blocking twin of `timeout(d, rx.recv()).await` on the event loop,
    /// with the same output. `Ok(None)` once every [`Sender`] is gone and
    /// the queue is empty; `Err(Elapsed)` if `timeout` passed first, and
    /// then nothing was taken from the channel.
    ///
    /// A thread cannot wait for "a value *or* a socket *or* a timer" in
    /// one call; a timeout per wait is how it checks on other things in
    /// between (see `examples/select_blocking.rs`).
    ///
    /// ```
    /// use duet::blocking::channel;
    /// use std::time::Duration;
    ///
    /// let (tx, rx) = channel::unbounded::<u32>();
    /// assert!(rx.recv_timeout(Duration::from_millis(5)).is_err()); // nothing yet
    /// tx.send(7).unwrap();
    /// assert_eq!(rx.recv_timeout(Duration::from_millis(5)), Ok(Some(7)));
    /// drop(tx);
    /// assert_eq!(rx.recv_timeout(Duration::from_millis(5)), Ok(None)); // closed
    /// ```
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Option<T>, Elapsed> {
        match self.inner.try_recv() {
            Ok(value) => Ok(Some(value)),
            Err(cb::TryRecvError::Disconnected) => Ok(None),
            Err(cb::TryRecvError::Empty) => {
                match blocked_on("recv", || self.inner.recv_timeout(timeout)) {
                    Ok(value) => Ok(Some(value)),
                    Err(cb::RecvTimeoutError::Disconnected) => Ok(None),
                    Err(cb::RecvTimeoutError::Timeout) => Err(Elapsed::new()),
                }
            }
        }
    }

    /// Takes the next value if one is queued; never waits. `None` means
    /// "nothing right now" (or nothing ever again: see [`Receiver::recv`]).
    ///
    /// ```
    /// use duet::blocking::channel;
    ///
    /// let (tx, rx) = channel::unbounded();
    /// assert_eq!(rx.try_recv(), None); // nothing yet, and no waiting
    /// tx.try_send(7).unwrap();
    /// assert_eq!(rx.try_recv(), Some(7));
    /// ```
    pub fn try_recv(&self) -> Option<T> {
        self.inner.try_recv().ok()
    }
}

/// A channel for exactly one value, the reply to a request.
///
/// ```
/// use duet::blocking::{Runtime, channel, spawn};
///
/// let rt = Runtime::new();
/// rt.block_on(|| {
///     let (reply_tx, reply_rx) = channel::oneshot();
///     spawn(move || reply_tx.send("pong").unwrap());
///     assert_eq!(reply_rx.recv(), Some("pong"));
/// });
/// ```
pub fn oneshot<T>() -> (oneshot::Sender<T>, oneshot::Receiver<T>) {
    let (tx, rx) = cb::bounded(1);
    (
        oneshot::Sender { inner: tx },
        oneshot::Receiver { inner: rx },
    )
}

/// One value, once: both ends are used up by value, so the type system
/// rules out a second send or recv.
pub mod oneshot {
    use super::{blocked_on, cb};

    /// Sends the one value; made by [`super::oneshot()`].
    ///
    /// ```
    /// use duet::blocking::{Runtime, channel};
    ///
    /// let (tx, rx) = channel::oneshot();
    /// tx.send(1).unwrap(); // a oneshot send never waits
    /// let rt = Runtime::new();
    /// assert_eq!(rt.block_on(|| rx.recv()), Some(1));
    /// ```
    pub struct Sender<T> {
        pub(super) inner: cb::Sender<T>,
    }

    impl<T> Sender<T> {
        /// Sends `value`; never waits. Fails, handing `value` back, if the
        /// receiver is gone.
        ///
        /// ```
        /// use duet::blocking::channel;
        ///
        /// let (tx, rx) = channel::oneshot();
        /// drop(rx);
        /// assert_eq!(tx.send(5), Err(5)); // nobody to receive it: the value comes back
        /// ```
        pub fn send(self, value: T) -> Result<(), T> {
            // The channel has room for one value and this is the only
            // send, so "full" cannot happen: only a closed channel fails.
            self.inner.try_send(value).map_err(|e| e.into_inner())
        }
    }

    /// Receives the one value; made by [`super::oneshot()`].
    ///
    /// ```
    /// use duet::blocking::{Runtime, channel};
    ///
    /// let rt = Runtime::new();
    /// let (tx, rx) = channel::oneshot::<u8>();
    /// drop(tx); // dropped unused: the receiver is told, not left waiting
    /// assert_eq!(rt.block_on(|| rx.recv()), None);
    /// ```
    pub struct Receiver<T> {
        pub(super) inner: cb::Receiver<T>,
    }

    impl<T> Receiver<T> {
        /// Waits for the value. `None` if the sender was dropped unused.
        ///
        /// ```
        /// use duet::blocking::{Runtime, channel};
        ///
        /// let rt = Runtime::new();
        /// rt.block_on(|| {
        ///     let (tx, rx) = channel::oneshot();
        ///     std::thread::spawn(move || tx.send("from a thread").unwrap());
        ///     assert_eq!(rx.recv(), Some("from a thread"));
        /// });
        /// ```
        pub fn recv(self) -> Option<T> {
            blocked_on("recv", || self.inner.recv()).ok()
        }
    }
}
