//! What one trace event says, and the one-line form `DUET_TRACE` prints.
//!
//! The two runtimes share one vocabulary where they do the same thing
//! (a task is spawned; it waits) and have their own words where they
//! differ: the event loop *polls*, *parks* and is *woken*; a blocking
//! thread *blocks* in the kernel and *unblocks*.
//!
//! Every event names its cause and its effect where it has them: a fired
//! timer and a ready socket name the tasks they wake (or that they woke
//! nobody), a wake says who woke it ([`WokenBy`]), a blocking `join` whose
//! it is.
//!
//! Read next: `summary.rs`.

use crate::task_id::TaskId;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// One thing a runtime did.
///
/// ```
/// use duet::event_loop::{Runtime, spawn_named};
/// use duet::trace::{EventKind, capture};
///
/// let rt = Runtime::new()?;
/// let (_, events) = capture(|| rt.block_on(async { spawn_named("worker", async {}).await }));
/// let spawned = events.iter().find(|e| e.kind == EventKind::Spawn).unwrap();
/// assert!(spawned.task.is_some());
/// println!("{spawned}"); // e.g. "0.012ms  main  task 5 (worker)  spawn"
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// When: since the capture began (for a line printed under
    /// `DUET_TRACE`, since the process's first event).
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
///
/// ```
/// use duet::blocking::{Runtime, sleep};
/// use duet::trace::{EventKind, capture};
/// use std::time::Duration;
///
/// let rt = Runtime::new();
/// let (_, events) = capture(|| rt.block_on(|| sleep(Duration::from_millis(1))));
/// assert!(events.iter().any(|e| matches!(e.kind, EventKind::Block { on: "sleep", .. })));
/// assert!(events.iter().any(|e| e.kind == EventKind::Unblock));
/// ```
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
        /// Who called the waker, and why.
        by: WokenBy,
    },
    /// During its poll, the task left a waker with something: it now waits
    /// for that (event loop).
    Wait {
        /// What it waits for.
        on: WaitOn,
    },
    /// A future that had begun to wait was dropped before it finished, so
    /// its wait is cancelled (event loop): the losing side of a `select`.
    Cancelled {
        /// Who dropped which future, e.g. "select: right side lost".
        what: &'static str,
    },
    /// The loop had nothing to run and went to sleep in `epoll_wait`, for
    /// at most `timeout` (`None`: until something happens).
    Park {
        /// The longest the loop will sleep: the time to the earliest timer.
        timeout: Option<Duration>,
    },
    /// The loop woke from `epoll_wait`.
    Unpark,
    /// The kernel reported a socket ready; the tasks in `wakes` are woken
    /// next (none: nobody was waiting for that direction).
    IoReady {
        /// The socket's file descriptor.
        fd: i32,
        /// It can be read (or hit EOF or an error).
        readable: bool,
        /// It can be written (or hit an error).
        writable: bool,
        /// The tasks that waited for what became ready, in wake order.
        wakes: Vec<TaskId>,
    },
    /// A timer's deadline passed; its waker is woken next.
    TimerFired {
        /// The task whose timer it was (`None`: a waker that belongs to no
        /// traced task, such as one made by hand).
        wakes: Option<TaskId>,
    },
    /// A blocking task's thread started.
    ThreadStart,
    /// A blocking task's thread went to sleep in the kernel, waiting on
    /// `on`: "sleep", "join", "accept", "connect", "read", "write",
    /// "recv" or "send".
    Block {
        /// The call it waits in.
        on: &'static str,
        /// For a `join`, the task joined.
        target: Option<TaskId>,
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
///
/// ```
/// use duet::event_loop::{Runtime, channel, spawn};
/// use duet::trace::{EventKind, WaitOn, capture};
///
/// let rt = Runtime::new()?;
/// let (tx, rx) = channel::unbounded::<()>();
/// let ((), events) = capture(|| rt.block_on(async {
///     spawn(async move { drop(tx) }); // runs only once block_on waits
///     assert_eq!(rx.recv().await, None);
/// }));
/// assert!(events.iter().any(|e| e.kind == EventKind::Wait { on: WaitOn::Channel }));
/// # Ok::<(), std::io::Error>(())
/// ```
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

/// Who called a task's waker: the cause of a [`EventKind::Wake`].
///
/// ```
/// use duet::trace::{EventKind, WokenBy, capture};
/// let ((), events) = capture(|| {
///     let rt = duet::event_loop::Runtime::new().unwrap();
///     rt.block_on(duet::event_loop::sleep(std::time::Duration::from_millis(1)));
/// });
/// assert!(events.iter().any(|e| matches!(e.kind, EventKind::Wake { by: WokenBy::Timer, .. })));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WokenBy {
    /// The loop fired the task's timer.
    Timer,
    /// The reactor: the socket became ready.
    Socket {
        /// The socket's file descriptor.
        fd: i32,
    },
    /// A channel operation (a send, a receive that made room, a close),
    /// by this task if it was one.
    Channel {
        /// The task that used the channel, if the caller was a task.
        from: Option<TaskId>,
    },
    /// The task it awaited finished.
    Finished(TaskId),
    /// This task, running, called the waker itself.
    Task(TaskId),
    /// The loop, after looking at the reactor: the task had yielded.
    Turn,
    /// Code on another thread that is no task (the thread column says which).
    Thread,
    /// Nothing traced says who (code outside any task on the loop thread).
    Unknown,
}

impl fmt::Display for WokenBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WokenBy::Timer => f.write_str("its timer"),
            WokenBy::Socket { fd } => write!(f, "socket fd {fd}"),
            WokenBy::Channel { from: Some(task) } => write!(f, "{task} via a channel"),
            WokenBy::Channel { from: None } => f.write_str("a channel"),
            WokenBy::Finished(task) => write!(f, "{task} finishing"),
            WokenBy::Task(task) => write!(f, "{task}"),
            WokenBy::Turn => f.write_str("the loop (its turn after a yield)"),
            WokenBy::Thread => f.write_str("another thread"),
            WokenBy::Unknown => f.write_str("untraced code"),
        }
    }
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
                from_other_thread,
                by,
            } => {
                write!(f, "woken by {by}")?;
                if *from_other_thread && *by != WokenBy::Thread {
                    f.write_str(" (from another thread)")?;
                }
                Ok(())
            }
            EventKind::Wait { on } => write!(f, "waits for {on}"),
            EventKind::Cancelled { what } => write!(f, "cancels a pending wait ({what})"),
            EventKind::Park { timeout: None } => {
                f.write_str("loop parks in epoll_wait (no timeout)")
            }
            EventKind::Park { timeout: Some(t) } => {
                write!(f, "loop parks in epoll_wait (at most {})", Millis(*t))
            }
            EventKind::Unpark => f.write_str("loop unparks"),
            EventKind::IoReady {
                fd,
                readable,
                writable,
                wakes,
            } => {
                let what = match (readable, writable) {
                    (true, true) => "readable+writable",
                    (true, false) => "readable",
                    (false, true) => "writable",
                    (false, false) => "nothing",
                };
                write!(f, "socket fd {fd} ready: {what} -> wakes ")?;
                write_tasks(f, wakes)
            }
            EventKind::TimerFired { wakes: Some(task) } => {
                write!(f, "timer fired -> wakes {task}")
            }
            EventKind::TimerFired { wakes: None } => f.write_str("timer fired -> wakes no task"),
            EventKind::ThreadStart => f.write_str("thread starts"),
            EventKind::Block {
                on,
                target: Some(task),
            } => write!(f, "blocks in {on} of {task}"),
            EventKind::Block { on, target: None } => write!(f, "blocks in {on}"),
            EventKind::Unblock => f.write_str("unblocks"),
            EventKind::ThreadExit => f.write_str("thread exits"),
            EventKind::Diagnosis { kind, message } => write!(f, "diagnosis ({kind}): {message}"),
        }
    }
}

/// "task 3, task 4", or "nobody (no task waited for it)".
fn write_tasks(f: &mut fmt::Formatter<'_>, tasks: &[TaskId]) -> fmt::Result {
    if tasks.is_empty() {
        return f.write_str("nobody (no task waited for it)");
    }
    for (n, task) in tasks.iter().enumerate() {
        if n > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{task}")?;
    }
    Ok(())
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

impl Event {
    /// The line `DUET_TRACE` prints first: the names of the columns, in
    /// the columns.
    ///
    /// ```
    /// let header = duet::trace::Event::header();
    /// assert!(header.trim_start().starts_with("time  thread"));
    /// assert!(header.ends_with("what happened"));
    /// ```
    pub fn header() -> String {
        format!(
            "{:>12}  {:<16} {:<34} {}",
            "time", "thread", "task (name)", "what happened"
        )
    }
}
