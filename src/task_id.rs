//! `TaskId`: a small number that names a task in traces and messages.
//!
//! Both runtimes number their tasks from one counter, so a trace of a
//! program that uses both never shows two tasks with the same number.
//!
//! Read next: `blocking/mod.rs` ([`crate::blocking`]), the runtime you
//! already know.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// A task's number: unique in the process, never reused.
///
/// ```
/// use duet::event_loop::{Runtime, spawn};
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let (first, second) = (spawn(async {}), spawn(async {}));
///     assert_ne!(first.id(), second.id());
///     assert_eq!(first.id().to_string(), format!("task {}", first.id().as_u64()));
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct TaskId(u64);

impl TaskId {
    /// The next unused id.
    pub(crate) fn next() -> TaskId {
        // Relaxed is enough: we need each number once, not an order
        // between this counter and any other memory.
        static NEXT: AtomicU64 = AtomicU64::new(1);
        TaskId(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The number itself.
    ///
    /// ```
    /// use duet::event_loop::{Runtime, spawn};
    ///
    /// let rt = Runtime::new()?;
    /// rt.block_on(async {
    ///     let (first, second) = (spawn(async {}), spawn(async {}));
    ///     assert!(first.id().as_u64() < second.id().as_u64()); // counted up, never reused
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {}", self.0)
    }
}

/// `file.rs:line`: the readable default name of a task, where it was
/// spawned (`#[track_caller]` hands us the caller's location for free).
pub(crate) fn spawn_site(location: &std::panic::Location<'_>) -> String {
    let file = location
        .file()
        .rsplit('/')
        .next()
        .unwrap_or(location.file());
    format!("{file}:{}", location.line())
}
