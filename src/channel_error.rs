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
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// Takes back the value that was not sent.
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// `try_send` failed; the value that was not sent is inside.
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum TrySendError<T> {
    /// The channel is full: `send` would have waited.
    Full(T),
    /// The receiver is gone: no send can ever succeed.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// Takes back the value that was not sent.
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
