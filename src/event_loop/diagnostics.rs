//! Diagnostics: the loop notices a learner's classic mistakes and says,
//! in plain words, which task made it, what went wrong and how to fix it.
//!
//! Five mistakes are watched for (`docs/DIAGNOSTICS.md` has an example
//! program of each):
//!
//! - a *lost waker*: a task returned `Pending` and nobody but the runtime
//!   holds its waker, so nothing will ever wake it (`watch.rs`);
//! - a *slow poll*: one poll held the loop, and so every other task, timer
//!   and socket, for longer than a threshold (`slow_poll.rs`);
//! - *busy waiting*: a task woke itself on every poll, for a long time
//!   (`watch.rs`);
//! - a *hang*: the loop has had nothing to do for seconds; it says what
//!   each task waits for, and when it can prove that nothing can ever
//!   wake any task, `block_on` panics with the word `deadlock`
//!   (`stall.rs`).
//!
//! This file holds what they share: the switches ([`Diagnostics`]), the
//! name a task is reported by ([`describe`]), what a poll noted on its
//! way (whether it spent its budget, whether it waited on a channel or a
//! socket), and
//! where a report goes: a trace event every time, and a line on stderr,
//! starting with `duet: `, the first time each task makes each mistake.
//!
//! Read next: `watch.rs`.

use super::budget;
use crate::task_id::{TaskId, spawn_site};
use crate::trace::{self, DiagnosisKind, EventKind, WaitOn};
use std::panic::Location;
use std::sync::OnceLock;
use std::time::Duration;

/// What the event loop watches for, and whether it prints what it finds.
///
/// [`Diagnostics::default`] reads the environment once per process:
/// `DUET_DIAGNOSTICS=0` turns the stderr lines off (the trace events stay);
/// `DUET_SLOW_POLL_MS`, `DUET_BUSY_WAIT_MS` and `DUET_HANG_MS` set the
/// thresholds in milliseconds (`0` turns that check off). A runtime takes
/// its own copy with [`Runtime::set_diagnostics`](super::Runtime::set_diagnostics).
///
/// ```
/// use duet::event_loop::{Diagnostics, Runtime};
/// use std::time::Duration;
///
/// let rt = Runtime::new().unwrap();
/// rt.set_diagnostics(Diagnostics {
///     slow_poll: Some(Duration::from_millis(50)),
///     print: false,
///     ..Diagnostics::default()
/// });
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Diagnostics {
    /// Report a task that returned `Pending` with nobody holding its waker.
    pub lost_waker: bool,
    /// Report a single poll longer than this (default 20 ms).
    pub slow_poll: Option<Duration>,
    /// Report a task that has woken itself on every poll for this long
    /// (default 200 ms).
    pub busy_wait: Option<Duration>,
    /// Say what every task waits for once the loop has had nothing to do
    /// for this long (default 3 s).
    pub hang: Option<Duration>,
    /// Panic in `block_on` when nothing can ever wake any task.
    pub deadlock_panics: bool,
    /// Print each report once per task and kind on stderr (`duet: ...`).
    pub print: bool,
}

impl Diagnostics {
    /// Everything off: no checks, no reports, no deadlock panic.
    ///
    /// ```
    /// let off = duet::event_loop::Diagnostics::off();
    /// assert!(!off.lost_waker && off.slow_poll.is_none() && !off.print);
    /// ```
    pub fn off() -> Diagnostics {
        Diagnostics {
            lost_waker: false,
            slow_poll: None,
            busy_wait: None,
            hang: None,
            deadlock_panics: false,
            print: false,
        }
    }
}

impl Default for Diagnostics {
    /// Every check on, with thresholds and printing as the environment says.
    fn default() -> Diagnostics {
        static FROM_ENV: OnceLock<Diagnostics> = OnceLock::new();
        *FROM_ENV.get_or_init(|| Diagnostics {
            lost_waker: true,
            slow_poll: threshold("DUET_SLOW_POLL_MS", 20),
            busy_wait: threshold("DUET_BUSY_WAIT_MS", 200),
            hang: threshold("DUET_HANG_MS", 3_000),
            deadlock_panics: true,
            print: std::env::var_os("DUET_DIAGNOSTICS").is_none_or(|value| value != "0"),
        })
    }
}

/// `NAME` in milliseconds, `0` meaning off; `default_ms` if unset or unreadable.
fn threshold(name: &str, default_ms: u64) -> Option<Duration> {
    let ms = std::env::var(name)
        .ok()
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(default_ms);
    (ms > 0).then(|| Duration::from_millis(ms))
}

/// `task 3 "worker" (spawned at main.rs:12)`: how a report names a task.
/// A task's waker keeps its spawn site (a `&'static Location` costs no
/// allocation) and its runtime the `spawn_named` names (`waker.rs`),
/// because a report may come long after the spawn.
pub(crate) fn describe(id: TaskId, site: &'static Location<'static>, name: Option<&str>) -> String {
    let site = spawn_site(site);
    match name {
        Some(name) => format!("{id} \"{name}\" (spawned at {site})"),
        None if id.is_blocking_job() => format!("{id} (spawn_blocking at {site})"),
        None => format!("{id} (spawned at {site})"),
    }
}

/// The name traces show: the `spawn_named` name, else the spawn site.
pub(crate) fn trace_name(
    id: TaskId,
    site: &'static Location<'static>,
    name: Option<&str>,
) -> String {
    match name {
        Some(name) => name.to_string(),
        None if id.is_blocking_job() => format!("spawn_blocking {}", spawn_site(site)),
        None => spawn_site(site),
    }
}

/// How `block_on`'s own future is named in reports.
pub(crate) const BLOCK_ON: &str = "the future given to block_on";

/// What a poll noted on its way, read by the loop when it ends, in the
/// access to the budget's thread-local that ends the budget anyway
/// (`budget.rs`).
#[derive(Clone, Copy)]
pub(crate) struct Notes {
    /// The poll used up its operation budget: it did real work, so a
    /// yield at its end is no spin.
    pub(crate) spent: bool,
    /// Where the poll left its waker, by kind.
    pub(crate) waits: WaitKinds,
}

/// Kinds of thing a poll waited on, as bits: the two a hang report cannot
/// find by itself (`stall.rs`). A channel keeps its wakers out of the
/// loop's sight; a socket's waiter stays in the reactor after its future
/// is dropped (until the socket is ready or closed), so finding one there
/// does not prove that anyone still waits on it.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct WaitKinds(pub(crate) u8);

impl WaitKinds {
    pub(crate) const CHANNEL: WaitKinds = WaitKinds(1);
    pub(crate) const SOCKET: WaitKinds = WaitKinds(2);

    pub(crate) fn has(self, kinds: WaitKinds) -> bool {
        self.0 & kinds.0 != 0
    }
}

/// Said by a future as it returns `Pending`: it now waits for `on`. The
/// trace records it. The diagnostics hear only of a channel or a socket:
/// the loop finds the rest in its own tables when it needs to (`stall.rs`).
#[inline(always)]
pub(crate) fn waits_for(on: WaitOn) {
    match on {
        WaitOn::Channel => budget::note_wait(WaitKinds::CHANNEL),
        WaitOn::Readable { .. } | WaitOn::Writable { .. } => {
            budget::note_wait(WaitKinds::SOCKET);
        }
        _ => {}
    }
    trace::emit(|| (trace::current_task(), EventKind::Wait { on }));
}

/// Which (task, kind) pairs have been printed: one bit per kind.
#[derive(Clone, Copy, Default)]
pub(crate) struct Reported(u8);

impl Reported {
    /// True the first time it is asked about `kind`.
    fn first(&mut self, kind: DiagnosisKind) -> bool {
        let bit = 1 << (kind as u8);
        let first = self.0 & bit == 0;
        self.0 |= bit;
        first
    }
}

/// Reports a diagnosis about task `id`: a trace event every time, and a
/// line on stderr the first time this task makes this mistake (if the
/// runtime's diagnostics print). `message` is only built if needed.
pub(crate) fn report(
    config: &Diagnostics,
    id: TaskId,
    kind: DiagnosisKind,
    reported: &mut Reported,
    message: impl FnOnce() -> String,
) {
    let print = reported.first(kind) && config.print;
    if !print && !trace::enabled() {
        return;
    }
    let message = message();
    if print {
        eprintln!("duet: {message}");
    }
    trace::emit(|| (Some(id), EventKind::Diagnosis { kind, message }));
}
