//! The punch line of a trace: per runtime, how much work, how many wakes,
//! how long asleep, how many OS threads.
//!
//! [`Summary::of`] counts a list of events, so the same numbers come out
//! wherever the list comes from: `DUET_TRACE` prints a runtime's summary
//! when the runtime is dropped, the pipeline examples and the tour print
//! the summary of their `capture`.
//!
//! Which runtime an event belongs to: a task's event, its task's runtime
//! (a task id carries it, see `task_id.rs`); a `Wake`, the woken task's,
//! whichever thread called the waker. The loop's own events (parks,
//! readiness, timers) carry no task: they belong to the event loop that
//! last polled a task on their thread (a loop polls its `block_on` future
//! before it first parks). A blocking wait outside any task belongs to the
//! blocking runtime.
//!
//! Read next: `chrome.rs`, the same events for Perfetto.

use super::event::{Event, EventKind};
use crate::task_id::BLOCKING_RUNTIME;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::time::Duration;

/// Counts per runtime, in the order the runtimes first appear.
///
/// ```
/// let ((), events) = duet::trace::capture(|| {
///     let rt = duet::event_loop::Runtime::new().unwrap();
///     rt.block_on(async { duet::event_loop::spawn(async {}).await.unwrap() });
/// });
/// let summary = duet::trace::Summary::of(&events);
/// let event_loop = &summary.runtimes[0];
/// assert!(event_loop.event_loop);
/// assert_eq!(event_loop.tasks_spawned, 1);
/// assert!(summary.to_string().contains("1 spawned (+ main)"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// One entry per runtime seen in the events.
    pub runtimes: Vec<RuntimeSummary>,
}

/// What one runtime did, counted from its events.
#[derive(Clone, Debug, Default)]
pub struct RuntimeSummary {
    /// The runtime's serial: 0 for the blocking runtime, then 1, 2, ...
    /// for event loops in the order the process created them.
    pub runtime: u32,
    /// True for an event loop, false for the blocking runtime.
    pub event_loop: bool,
    /// `Spawn` events of tasks (not counting `spawn_blocking` jobs).
    pub tasks_spawned: usize,
    /// `Spawn` events of `spawn_blocking` jobs (event loop).
    pub blocking_jobs: usize,
    /// `PollStart` events (event loop).
    pub polls: usize,
    /// `Wake` events called on the woken task's own loop thread.
    pub wakes_same_thread: usize,
    /// `Wake` events called from another thread.
    pub wakes_other_threads: usize,
    /// `Park` events (event loop).
    pub parks: usize,
    /// Time from each `Park` to its `Unpark` (event loop).
    pub parked: Duration,
    /// OS threads: an event loop's loop threads plus one per
    /// `spawn_blocking` job; the blocking runtime's task threads plus the
    /// threads that ran its `block_on` and recorded an event there (a
    /// `block_on` that never blocked in a traced call leaves no trace).
    pub os_threads: usize,
    /// Time spent in each kind of blocking call, by call (blocking runtime).
    pub blocked: Vec<Blocked>,
}

/// Time a blocking runtime's threads spent in one kind of call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocked {
    /// The call: "sleep", "join", "read", ...
    pub on: &'static str,
    /// How many `Block` events.
    pub calls: usize,
    /// From each `Block` to its `Unblock`; a call still blocked at the
    /// last event counts up to that event.
    pub time: Duration,
}

impl Summary {
    /// Counts `events` (from `capture`, or kept under `DUET_TRACE`).
    pub fn of(events: &[Event]) -> Summary {
        let owners = runtime_of_each(events);
        let mut order: Vec<u32> = Vec::new();
        for &owner in &owners {
            if !order.contains(&owner) {
                order.push(owner);
            }
        }
        let runtimes = order
            .into_iter()
            .map(|runtime| {
                let mine = events
                    .iter()
                    .zip(&owners)
                    .filter(|&(_, &owner)| owner == runtime)
                    .map(|(event, _)| event);
                RuntimeSummary::count(runtime, mine, events.last().map(|e| e.at))
            })
            .collect();
        Summary { runtimes }
    }
}

impl RuntimeSummary {
    fn count<'a>(
        runtime: u32,
        events: impl Iterator<Item = &'a Event>,
        end: Option<Duration>,
    ) -> RuntimeSummary {
        let mut summary = RuntimeSummary {
            runtime,
            event_loop: runtime != BLOCKING_RUNTIME,
            ..RuntimeSummary::default()
        };
        let mut loop_threads = BTreeSet::new();
        let mut main_threads = BTreeSet::new();
        let mut thread_starts = 0;
        let mut parked_since: HashMap<&str, Duration> = HashMap::new();
        let mut blocked_since: HashMap<String, (&'static str, Duration)> = HashMap::new();
        let mut blocked: BTreeMap<&'static str, (usize, Duration)> = BTreeMap::new();
        for event in events {
            if event.task.is_some_and(|task| task.as_u64() == 0) {
                main_threads.insert(event.thread.as_str());
            }
            // A blocking wait is keyed by its task (thread names repeat).
            let waiter = match event.task {
                Some(task) => format!("{task}"),
                None => format!("thread {}", event.thread),
            };
            match &event.kind {
                EventKind::Spawn => match event.task {
                    Some(task) if task.is_blocking_job() => summary.blocking_jobs += 1,
                    _ => summary.tasks_spawned += 1,
                },
                EventKind::PollStart => {
                    summary.polls += 1;
                    loop_threads.insert(event.thread.as_str());
                }
                EventKind::Wake {
                    from_other_thread: false,
                    ..
                } => summary.wakes_same_thread += 1,
                EventKind::Wake {
                    from_other_thread: true,
                    ..
                } => summary.wakes_other_threads += 1,
                EventKind::Park { .. } => {
                    summary.parks += 1;
                    parked_since.insert(&event.thread, event.at);
                }
                EventKind::Unpark => {
                    if let Some(since) = parked_since.remove(event.thread.as_str()) {
                        summary.parked += event.at - since;
                    }
                }
                EventKind::ThreadStart => thread_starts += 1,
                EventKind::Block { on, .. } => {
                    blocked.entry(on).or_default().0 += 1;
                    blocked_since.insert(waiter, (on, event.at));
                }
                EventKind::Unblock => {
                    if let Some((on, since)) = blocked_since.remove(&waiter) {
                        blocked.entry(on).or_default().1 += event.at - since;
                    }
                }
                _ => {}
            }
        }
        for (on, since) in blocked_since.into_values() {
            blocked.entry(on).or_default().1 += end.unwrap_or(since) - since;
        }
        summary.blocked = blocked
            .into_iter()
            .map(|(on, (calls, time))| Blocked { on, calls, time })
            .collect();
        summary.os_threads = if summary.event_loop {
            loop_threads.len() + summary.blocking_jobs
        } else {
            thread_starts + main_threads.len()
        };
        summary
    }
}

/// The runtime each event belongs to, by the rules in the module comment.
pub(crate) fn runtime_of_each(events: &[Event]) -> Vec<u32> {
    let mut loop_on_thread: HashMap<&str, u32> = HashMap::new();
    events
        .iter()
        .map(|event| {
            if let Some(task) = event.task {
                if event.kind == EventKind::PollStart {
                    loop_on_thread.insert(&event.thread, task.runtime());
                }
                return task.runtime();
            }
            let blocking_kind = matches!(
                event.kind,
                EventKind::Block { .. }
                    | EventKind::Unblock
                    | EventKind::ThreadStart
                    | EventKind::ThreadExit
            );
            match loop_on_thread.get(event.thread.as_str()) {
                Some(&runtime) if !blocking_kind => runtime,
                _ => BLOCKING_RUNTIME,
            }
        })
        .collect()
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.runtimes
            .iter()
            .try_for_each(|part| write!(f, "{part}"))
    }
}

/// A few lines, each ending in a newline; the first starts with
/// "summary of", the others with two spaces.
impl fmt::Display for RuntimeSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        if self.event_loop {
            writeln!(f, "summary of event loop {}:", self.runtime)?;
            writeln!(
                f,
                "  tasks:   {} spawned (+ main), {} spawn_blocking job{}",
                self.tasks_spawned,
                self.blocking_jobs,
                plural(self.blocking_jobs)
            )?;
            writeln!(f, "  polls:   {}", self.polls)?;
            writeln!(
                f,
                "  wakes:   {} on the loop thread, {} from other threads",
                self.wakes_same_thread, self.wakes_other_threads
            )?;
            writeln!(
                f,
                "  parks:   {}, asleep in epoll_wait {} in all",
                self.parks,
                super::event::Millis(self.parked)
            )?;
            writeln!(
                f,
                "  threads: {} OS thread{} (the loop's, and one per spawn_blocking job)",
                self.os_threads,
                plural(self.os_threads)
            )
        } else {
            writeln!(f, "summary of the blocking runtime:")?;
            writeln!(
                f,
                "  tasks:   {} spawned (+ main), each on an OS thread of its own",
                self.tasks_spawned
            )?;
            writeln!(
                f,
                "  threads: {} OS thread{} in the trace (one per task, and block_on's if it blocked)",
                self.os_threads,
                plural(self.os_threads)
            )?;
            write!(f, "  blocked:")?;
            if self.blocked.is_empty() {
                write!(f, " never")?;
            }
            for (n, blocked) in self.blocked.iter().enumerate() {
                let comma = if n == 0 { "" } else { "," };
                write!(
                    f,
                    "{comma} {} {} ({} call{})",
                    blocked.on,
                    super::event::Millis(blocked.time),
                    blocked.calls,
                    plural(blocked.calls)
                )?;
            }
            writeln!(f)
        }
    }
}
