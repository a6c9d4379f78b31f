//! What one trace event says, and the one-line form `DUET_TRACE` prints.
//!
//! The two runtimes share one vocabulary where they do the same thing
//! (a task is spawned; it waits) and have their own words where they
//! differ: the event loop *polls*, *parks* and is *woken*; a blocking
//! thread *blocks* in the kernel and *unblocks*.
//!
//! Read next: `svg.rs`.

use crate::task_id::TaskId;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// One thing a runtime did.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// When, since the capture began (or the process, under `DUET_TRACE`).
    pub at: Duration,
    /// The OS thread that recorded it: its name, or its id if unnamed.
    pub thread: String,
    /// The task it is about, if any. For a `Wake`, the task woken.
    pub task: Option<TaskId>,
    /// What happened.
    pub kind: EventKind,
    /// The task's name (`spawn_named`), or where it was spawned.
    pub task_name: Option<Arc<str>>,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A task was created (either runtime).
    Spawn,
    /// The event loop began polling the task.
    PollStart,
    /// The poll returned: `Ready` (the task is done) or `Pending`.
    PollEnd {
        /// True if the task completed.
        ready: bool,
    },
    /// The task was put on the run queue by a waker. `from_other_thread`:
    /// the waker was called on a thread other than the loop's.
    Wake {
        /// True if the wake crossed threads (and so went through the
        /// remote queue and the reactor's waker).
        from_other_thread: bool,
    },
    /// During its poll, the task left a waker with something: it now waits
    /// for that (event loop).
    Wait {
        /// What it waits for.
        on: WaitOn,
    },
    /// The loop had nothing to run and went to sleep in `epoll_wait`, for
    /// at most `timeout` (`None`: until something happens).
    Park {
        /// The longest the loop will sleep: the time to the earliest timer.
        timeout: Option<Duration>,
    },
    /// The loop woke from `epoll_wait`.
    Unpark,
    /// The kernel reported a socket ready.
    IoReady {
        /// It can be read (or hit EOF or an error).
        readable: bool,
        /// It can be written (or hit an error).
        writable: bool,
    },
    /// A timer's deadline passed; its waker is woken next.
    TimerFired,
    /// A blocking task's thread started.
    ThreadStart,
    /// A blocking task's thread went to sleep in the kernel, waiting on
    /// `on`: "sleep", "join", "accept", "connect", "read", "write",
    /// "recv" or "send".
    Block {
        /// The call it waits in.
        on: &'static str,
    },
    /// The thread woke from its `Block`.
    Unblock,
    /// A blocking task's thread finished.
    ThreadExit,
    /// The event loop noticed a likely mistake in a task (see
    /// `docs/DIAGNOSTICS.md`): `message` names the task, the mistake and
    /// the fix, in the words printed after `duet: ` on stderr.
    Diagnosis {
        /// Which mistake.
        kind: DiagnosisKind,
        /// What the runtime says about it.
        message: String,
    },
}

/// The mistakes the event loop notices (see [`EventKind::Diagnosis`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DiagnosisKind {
    /// A task returned `Pending` and nobody but the runtime holds its waker.
    LostWaker,
    /// One poll held the loop longer than the slow-poll threshold.
    SlowPoll,
    /// A task woke itself (or yielded) on every poll for a long time.
    BusyWait,
    /// The loop has had nothing to do for a long time; what each task waits for.
    Hang,
    /// Nothing can ever wake any task: `block_on` panics.
    Deadlock,
}

impl fmt::Display for DiagnosisKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DiagnosisKind::LostWaker => "lost waker",
            DiagnosisKind::SlowPoll => "slow poll",
            DiagnosisKind::BusyWait => "busy waiting",
            DiagnosisKind::Hang => "hang",
            DiagnosisKind::Deadlock => "deadlock",
        })
    }
}

/// What a pending event-loop task waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitOn {
    /// A socket (by file descriptor) to become readable.
    Readable {
        /// The socket's file descriptor.
        fd: i32,
    },
    /// A socket to become writable.
    Writable {
        /// The socket's file descriptor.
        fd: i32,
    },
    /// A timer, due this long after the wait began.
    Timer {
        /// Time left until the deadline.
        remaining: Duration,
    },
    /// A channel: a value to receive, or room to send.
    Channel,
    /// Another task to finish (awaiting its `JoinHandle`).
    Task(TaskId),
    /// Its next turn: the task yielded (`yield_now`, or its operation
    /// budget ran out) and runs again once the loop has looked at its
    /// sockets, timers and other threads.
    Turn,
}

impl fmt::Display for WaitOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitOn::Readable { fd } => write!(f, "readable fd {fd}"),
            WaitOn::Writable { fd } => write!(f, "writable fd {fd}"),
            WaitOn::Timer { remaining } => write!(f, "timer in {}", Millis(*remaining)),
            WaitOn::Channel => f.write_str("channel"),
            WaitOn::Task(id) => write!(f, "{id} to finish"),
            WaitOn::Turn => f.write_str("its next turn (yielded)"),
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventKind::Spawn => f.write_str("spawn"),
            EventKind::PollStart => f.write_str("poll start"),
            EventKind::PollEnd { ready: true } => f.write_str("poll end: ready (done)"),
            EventKind::PollEnd { ready: false } => f.write_str("poll end: pending"),
            EventKind::Wake {
                from_other_thread: false,
            } => f.write_str("woken (same thread)"),
            EventKind::Wake {
                from_other_thread: true,
            } => f.write_str("woken from another thread"),
            EventKind::Wait { on } => write!(f, "waits for {on}"),
            EventKind::Park { timeout: None } => {
                f.write_str("loop parks in epoll_wait (no timeout)")
            }
            EventKind::Park { timeout: Some(t) } => {
                write!(f, "loop parks in epoll_wait (at most {})", Millis(*t))
            }
            EventKind::Unpark => f.write_str("loop unparks"),
            EventKind::IoReady { readable, writable } => {
                let what = match (readable, writable) {
                    (true, true) => "readable+writable",
                    (true, false) => "readable",
                    (false, true) => "writable",
                    (false, false) => "nothing",
                };
                write!(f, "socket ready: {what}")
            }
            EventKind::TimerFired => f.write_str("timer fired"),
            EventKind::ThreadStart => f.write_str("thread starts"),
            EventKind::Block { on } => write!(f, "blocks in {on}"),
            EventKind::Unblock => f.write_str("unblocks"),
            EventKind::ThreadExit => f.write_str("thread exits"),
            EventKind::Diagnosis { kind, message } => write!(f, "diagnosis ({kind}): {message}"),
        }
    }
}

/// A duration printed as milliseconds with three decimals.
pub(crate) struct Millis(pub(crate) Duration);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}ms", self.0.as_secs_f64() * 1000.0)
    }
}

/// The `DUET_TRACE` line: `   12.345ms  main            task 3 (echo)       woken (same thread)`.
impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let task = match (&self.task, &self.task_name) {
            (Some(id), Some(name)) => format!("{id} ({name})"),
            (Some(id), None) => id.to_string(),
            (None, _) => "-".to_string(),
        };
        let at = Millis(self.at).to_string();
        write!(f, "{at:>12}  {:<16} {task:<34} {}", self.thread, self.kind)
    }
}
