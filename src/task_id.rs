//! `TaskId`: a small number that names a task in traces and messages.
//!
//! Tasks are numbered per runtime, from 1 in the order they are spawned,
//! and the future or thread a runtime's `block_on` runs is task 0, "main".
//! So the same program run on either runtime shows the same numbers for
//! the same tasks, and a learner can put the two traces side by side.
//! The blocking runtime has no state of its own (its tasks are threads of
//! the process), so its numbering is the process's; each event loop has
//! its own. An id also carries its runtime's serial number, so two
//! runtimes' "task 1"s are still different ids (and the trace's summary
//! can tell the runtimes apart).
//!
//! `spawn_blocking` work is numbered apart, as "blocking 1", "blocking 2",
//! ... (its helper thread is named `duet-blocking-N` after it): it is a
//! thread lent to the event loop, and the blocking twin of a program has
//! no such task, so it must not shift the numbers of the tasks that follow.
//!
//! Read next: `blocking/mod.rs` ([`crate::blocking`]), the runtime you
//! already know.

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

/// A task's name in traces: its runtime, its kind and its number.
///
/// ```
/// use duet::event_loop::{Runtime, spawn};
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let (first, second) = (spawn(async {}), spawn(async {}));
///     assert_ne!(first.id(), second.id());
///     assert_eq!(first.id().to_string(), "task 1"); // main is task 0
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct TaskId {
    runtime: u32,
    kind: Kind,
    number: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
enum Kind {
    Task,
    Blocking,
}

/// The blocking runtime's serial: the process has one.
pub(crate) const BLOCKING_RUNTIME: u32 = 0;

impl TaskId {
    /// The number shown after "task" (or "blocking"): counted per runtime,
    /// 0 for the main future or thread.
    ///
    /// ```
    /// use duet::event_loop::{Runtime, spawn};
    ///
    /// for _ in 0..2 {
    ///     // Each runtime counts its own tasks, so the same program shows
    ///     // the same numbers every time it runs.
    ///     let rt = Runtime::new()?;
    ///     rt.block_on(async { assert_eq!(spawn(async {}).id().as_u64(), 1) });
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn as_u64(self) -> u64 {
        u64::from(self.number)
    }

    /// The serial of the runtime the task belongs to: 0 for the blocking
    /// runtime, 1, 2, ... for event loops in the order they were created.
    pub(crate) fn runtime(self) -> u32 {
        self.runtime
    }

    /// Is this a `spawn_blocking` job rather than a task?
    pub(crate) fn is_blocking_job(self) -> bool {
        self.kind == Kind::Blocking
    }

    /// The blocking runtime's next task: numbered for the whole process.
    pub(crate) fn next_blocking() -> TaskId {
        // Relaxed is enough: we need each number once, not an order
        // between this counter and any other memory.
        static NEXT: AtomicU32 = AtomicU32::new(1);
        TaskId {
            runtime: BLOCKING_RUNTIME,
            kind: Kind::Task,
            number: NEXT.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The thread that runs the blocking runtime's `block_on`.
    pub(crate) fn blocking_main() -> TaskId {
        TaskId {
            runtime: BLOCKING_RUNTIME,
            kind: Kind::Task,
            number: 0,
        }
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Task => write!(f, "task {}", self.number),
            Kind::Blocking => write!(f, "blocking {}", self.number),
        }
    }
}

/// One event loop's numbering: its serial, and the next numbers to give.
pub(crate) struct Numbering {
    runtime: u32,
    next_task: Cell<u32>,
    next_job: Cell<u32>,
}

impl Numbering {
    /// A new event loop's numbering, with the next serial of the process.
    pub(crate) fn new() -> Numbering {
        static NEXT_RUNTIME: AtomicU32 = AtomicU32::new(BLOCKING_RUNTIME + 1);
        Numbering {
            runtime: NEXT_RUNTIME.fetch_add(1, Ordering::Relaxed),
            next_task: Cell::new(1),
            next_job: Cell::new(1),
        }
    }

    /// The runtime's serial.
    pub(crate) fn runtime(&self) -> u32 {
        self.runtime
    }

    /// Task 0: the future `block_on` runs (every call's, one at a time).
    pub(crate) fn main(&self) -> TaskId {
        self.id(Kind::Task, 0)
    }

    /// The next spawned task's id.
    pub(crate) fn next_task(&self) -> TaskId {
        self.take(Kind::Task, &self.next_task)
    }

    /// The next `spawn_blocking` job's id.
    pub(crate) fn next_job(&self) -> TaskId {
        self.take(Kind::Blocking, &self.next_job)
    }

    fn take(&self, kind: Kind, next: &Cell<u32>) -> TaskId {
        let number = next.get();
        next.set(number.wrapping_add(1));
        self.id(kind, number)
    }

    fn id(&self, kind: Kind, number: u32) -> TaskId {
        TaskId {
            runtime: self.runtime,
            kind,
            number,
        }
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
