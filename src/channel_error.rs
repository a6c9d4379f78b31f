//! The errors of a channel `send`, shared by both runtimes' channels so
//! that a program handles them the same way on either.
//!
//! Their `Debug` and `Display` do not print the value, so they need no
//! `T: Debug`: like std's channel errors, they work for any `T`, and
//! `.unwrap()` and `?` work on them for any `T`.
//!
//! Read next: `task_id.rs`.

use std::fmt;

/// `send` failed because the receiver is gone; the value that could not
/// be sent is inside.
///
/// ```
/// use duet::blocking::channel::{self, SendError};
///
/// let (tx, rx) = channel::unbounded();
/// drop(rx);
/// let error: SendError<String> = tx.send("hello".to_string()).unwrap_err();
/// assert_eq!(error.to_string(), "sending on a closed channel");
/// assert_eq!(error.0, "hello"); // the value is not lost
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// Takes back the value that was not sent.
    ///
    /// ```
    /// use duet::event_loop::{Runtime, channel};
    ///
    /// let rt = Runtime::new()?;
    /// let (tx, rx) = channel::unbounded();
    /// drop(rx);
    /// let error = rt.block_on(tx.send(vec![1, 2, 3])).unwrap_err();
    /// assert_eq!(error.into_inner(), [1, 2, 3]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// `try_send` failed; the value that was not sent is inside.
///
/// ```
/// use duet::event_loop::channel::{self, TrySendError};
///
/// let (tx, rx) = channel::bounded(1);
/// tx.try_send(1).unwrap();
/// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
/// drop(rx);
/// assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum TrySendError<T> {
    /// The channel is full: `send` would have waited.
    Full(T),
    /// The receiver is gone: no send can ever succeed.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// Takes back the value that was not sent.
    ///
    /// ```
    /// use duet::blocking::channel;
    ///
    /// let (tx, _rx) = channel::bounded(1);
    /// tx.try_send("first").unwrap();
    /// let error = tx.try_send("second").unwrap_err();
    /// assert_eq!(error.into_inner(), "second");
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(value) | TrySendError::Closed(value) => value,
        }
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sending on a closed channel")
    }
}

impl<T> std::error::Error for SendError<T> {}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("sending on a full channel"),
            TrySendError::Closed(_) => f.write_str("sending on a closed channel"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}
