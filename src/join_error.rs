//! `JoinError`: what a `JoinHandle` reports when its task did not finish
//! normally. Both runtimes share it, so a program reads the same on either.
//!
//! Read next: `channel_error.rs`, then `task_id.rs`: the other small types
//! both runtimes share.

use parking_lot::Mutex;
use std::any::Any;
use std::fmt;

/// Why a task produced no value: it panicked, or it was cancelled (aborted,
/// or its runtime was dropped before it finished).
///
/// ```
/// use duet::blocking::{JoinHandle, spawn};
///
/// let handle: JoinHandle<u32> = spawn(|| panic!("boom"));
/// let error = handle.join().unwrap_err();
/// assert!(error.is_panic());
/// assert_eq!(error.to_string(), "task panicked: boom");
/// ```
pub struct JoinError {
    repr: Repr,
}

enum Repr {
    Cancelled,
    // A panic payload is `Send` but not `Sync`. Errors are expected to be
    // `Send + Sync` (so `?` can turn them into `Box<dyn Error + Send + Sync>`),
    // and wrapping the payload in a mutex makes it `Sync` without `unsafe`.
    Panic(Mutex<Box<dyn Any + Send>>),
}

impl JoinError {
    pub(crate) fn cancelled() -> JoinError {
        JoinError {
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panic(payload: Box<dyn Any + Send>) -> JoinError {
        JoinError {
            repr: Repr::Panic(Mutex::new(payload)),
        }
    }

    /// True if the task panicked.
    ///
    /// ```
    /// use duet::event_loop::{JoinHandle, Runtime, spawn};
    ///
    /// let rt = Runtime::new()?;
    /// let handle: JoinHandle<u32> = rt.block_on(async { spawn(async { panic!("boom") }) });
    /// let error = rt.block_on(handle).unwrap_err();
    /// assert!(error.is_panic() && !error.is_cancelled());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// True if the task was aborted, or its runtime shut down first.
    ///
    /// ```
    /// use duet::event_loop::{Runtime, spawn};
    /// use std::future::pending;
    ///
    /// let rt = Runtime::new()?;
    /// let error = rt.block_on(async {
    ///     let handle = spawn(pending::<()>());
    ///     handle.abort();
    ///     handle.await.unwrap_err()
    /// });
    /// assert!(error.is_cancelled() && !error.is_panic());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The value the task panicked with, ready for
    /// [`std::panic::resume_unwind`].
    ///
    /// # Panics
    /// If the task did not panic; check [`JoinError::is_panic`] first.
    ///
    /// ```
    /// use duet::blocking::{JoinHandle, spawn};
    ///
    /// let handle: JoinHandle<()> = spawn(|| std::panic::panic_any(42_u8));
    /// let payload = handle.join().unwrap_err().into_panic();
    /// assert_eq!(payload.downcast_ref::<u8>(), Some(&42));
    /// // or pass the panic on: std::panic::resume_unwind(payload)
    /// ```
    pub fn into_panic(self) -> Box<dyn Any + Send> {
        match self.repr {
            Repr::Panic(payload) => payload.into_inner(),
            Repr::Cancelled => panic!(
                "JoinError::into_panic called on a cancelled task; \
                 check is_panic() before taking the panic payload"
            ),
        }
    }

    /// The panic message, when the payload is a string (as `panic!` makes it).
    fn panic_message(&self) -> Option<String> {
        match &self.repr {
            Repr::Panic(payload) => {
                let payload = payload.lock();
                payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
            }
            Repr::Cancelled => None,
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => f.write_str("task was cancelled"),
            Repr::Panic(_) => match self.panic_message() {
                Some(message) => write!(f, "task panicked: {message}"),
                None => f.write_str("task panicked"),
            },
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => f.write_str("JoinError::Cancelled"),
            Repr::Panic(_) => match self.panic_message() {
                Some(message) => write!(f, "JoinError::Panic({message:?})"),
                None => f.write_str("JoinError::Panic(..)"),
            },
        }
    }
}

impl std::error::Error for JoinError {}
