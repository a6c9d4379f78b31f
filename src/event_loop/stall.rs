//! A hang that explains itself, and a deadlock that fails instead of hanging.
//!
//! A *stall* begins when the loop parks with no poll since its last park
//! and nothing to run. While no timer is pending (a pending timer means
//! the program has planned to go on), the loop watches the stall:
//!
//! 1. After [`PROOF_AFTER`] it tries to prove a deadlock. A task runs
//!    again only if someone calls its waker, so if no copy of any waker
//!    exists outside the runtime, except the copies that tasks keep to be
//!    woken when *another task* finishes (a `JoinHandle`'s), then nothing
//!    can ever wake anyone: no timer, no socket, no `spawn_blocking` and
//!    no other thread holds one (each would hold a copy). The strong
//!    counts of the wakers say exactly that. `block_on` then panics with
//!    a report that says `deadlock`, instead of hanging forever.
//!    (A `block_on` future whose waker nobody holds is proven stuck at
//!    once, whatever else is pending.)
//! 2. After the `hang` threshold it prints, once, what every task waits
//!    for, in the trace's words. Not while a task waits for a socket (a
//!    server between clients waits for the world, not for a bug) or for a
//!    `spawn_blocking` thread.
//!
//! What a task waits for is found where its waker is kept: the reactor's
//! waiters (a socket), the timer table (a timer), another task's slot (a
//! `JoinHandle`). A poll also notes, as it happens, two kinds of wait
//! (`watch.rs`): on a channel, which keeps its wakers out of the loop's
//! sight, and on a socket, because a waiter found in the reactor may be
//! stale (its future dropped) or a `join`/`select` child's. The quiet
//! rule above goes by that note. Nothing of this is done while the loop
//! runs well: only a report pays.
//!
//! Read next: `src/trace/mod.rs`, where every report also goes.

use super::diagnostics::{BLOCK_ON, WaitKinds, report};
use super::executor::Executor;
use super::reactor::Direction;
use super::task::Stage;
use super::waker::TaskWaker;
use super::watch::{BLOCK_ON_REFS, TaskWatch};
use crate::task_id::TaskId;
use crate::trace::{self, DiagnosisKind, EventKind, WaitOn};
use std::collections::HashMap;
use std::fmt::{self, Write};
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

/// How long the loop waits, with nothing to do, before it tries to prove
/// a deadlock (a scan of every task: not for every short idle moment).
const PROOF_AFTER: Duration = Duration::from_millis(20);

/// What a task waits for, as a hang report finds it (`stall.rs`): a
/// [`WaitOn`] without the timer's remaining time.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Waiting {
    Readable(i32),
    Writable(i32),
    Timer,
    Channel,
    Task(TaskId),
}

/// In the trace's words (`WaitOn`'s), a timer without its time.
impl fmt::Display for Waiting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Waiting::Readable(fd) => WaitOn::Readable { fd }.fmt(f),
            Waiting::Writable(fd) => WaitOn::Writable { fd }.fmt(f),
            Waiting::Timer => f.write_str("timer"),
            Waiting::Channel => WaitOn::Channel.fmt(f),
            Waiting::Task(id) => WaitOn::Task(id).fmt(f),
        }
    }
}

/// The current stall, if the loop is in one.
#[derive(Clone, Copy, Default)]
pub(crate) struct Stall {
    /// `Executor::polls_so_far` when the stall began: any new poll ends it.
    polls: u64,
    since: Option<Instant>,
    proof_tried: bool,
    hang_reported: bool,
}

impl Executor {
    /// The loop is about to park for at most `timeout`. Watches the stall
    /// and returns how long to park (never longer than `timeout`).
    ///
    /// # Panics
    /// With the deadlock report, when it proves that `block_on` can never
    /// finish (and the runtime's diagnostics allow the panic).
    pub(crate) fn watch_park(&self, timeout: Option<Duration>) -> Option<Duration> {
        let now = self.watch_turn_begins(true).unwrap_or_else(Instant::now);
        let config = self.watch.config.get();
        if !config.deadlock_panics && config.hang.is_none() {
            return timeout;
        }
        let mut stall = self.watch.stall.get();
        if stall.since.is_none() || stall.polls != self.polls_so_far() {
            stall = Stall {
                polls: self.polls_so_far(),
                since: Some(now),
                ..Stall::default()
            };
        }
        let age = now - stall.since.unwrap_or(now);
        let block_on_stuck = self.running_block_on().is_some_and(|waker| {
            self.nobody_else_holds(&waker, BLOCK_ON_REFS + 1) // + this upgrade
        });
        let mut next_look = None;
        if timeout.is_none() || block_on_stuck {
            if !stall.proof_tried && (age >= PROOF_AFTER || block_on_stuck) {
                stall.proof_tried = true;
                let everyone_stuck = self.nothing_can_wake();
                if config.deadlock_panics && (block_on_stuck || everyone_stuck) {
                    self.watch.stall.set(stall);
                    self.deadlock(everyone_stuck);
                }
            } else if !stall.proof_tried {
                next_look = Some(PROOF_AFTER - age);
            }
        }
        if timeout.is_none()
            && let Some(hang) = config.hang
            && !stall.hang_reported
        {
            if age >= hang {
                stall.hang_reported = true;
                self.report_hang(age);
            } else {
                next_look = Some(next_look.map_or(hang - age, |t: Duration| t.min(hang - age)));
            }
        }
        self.watch.stall.set(stall);
        match (timeout, next_look) {
            (Some(t), Some(n)) => Some(t.min(n)),
            (t, n) => t.or(n),
        }
    }

    fn running_block_on(&self) -> Option<Arc<TaskWaker>> {
        self.watch.block_on.borrow().0.upgrade()
    }

    /// True if every waker's copies are the runtime's own or `JoinHandle`
    /// waiters' kept in the task table: then no one can ever wake a task.
    fn nothing_can_wake(&self) -> bool {
        if !self.run_queue.borrow().is_empty() || self.remote.has_wakes() {
            return false;
        }
        let Some(block_on) = self.running_block_on() else {
            return false;
        };
        let tasks = self.tasks.borrow();
        let mut joiners: HashMap<*const (), usize> = HashMap::new();
        for (_, task) in tasks.iter() {
            if let Some(waker) = &task.join_waker {
                *joiners.entry(waker.data()).or_default() += 1;
            }
        }
        let only_joiners = |waker: &Arc<TaskWaker>, own: usize| {
            let pointer = Arc::as_ptr(waker).cast::<()>();
            let joined = joiners.get(&pointer).copied().unwrap_or(0);
            Arc::strong_count(waker) == own + joined && !waker.is_queued()
        };
        only_joiners(&block_on, BLOCK_ON_REFS + 1)
            && tasks.iter().all(|(_, task)| {
                matches!(task.stage, Stage::Finished(_)) || only_joiners(task.waker(), 1)
            })
    }

    fn deadlock(&self, everyone_stuck: bool) -> ! {
        let mut message = String::from("deadlock: block_on can never finish. ");
        message.push_str(if everyone_stuck {
            "Every task waits for another task, and nothing else (no timer, socket, \
             spawn_blocking or other thread) holds a waker that could wake one."
        } else {
            "Nobody holds the waker of the future given to block_on, so nothing can wake it."
        });
        message.push_str(&self.who_waits_for_what());
        message.push_str(
            "\nFix: make sure every wait ends: a task must not await a JoinHandle of a task \
             that (directly or not) awaits it, and a future that returns Pending must first \
             hand cx.waker() to what will wake it.",
        );
        let id = self.running_block_on().map(|waker| waker.id);
        trace::emit(|| {
            (
                id,
                EventKind::Diagnosis {
                    kind: DiagnosisKind::Deadlock,
                    message: message.clone(),
                },
            )
        });
        panic!("duet: {message}");
    }

    fn report_hang(&self, age: Duration) {
        let Some(block_on) = self.running_block_on() else {
            return;
        };
        let on_socket = |watch: &TaskWatch| watch.waits.has(WaitKinds::SOCKET);
        let outside_world = on_socket(&self.watch.block_on.borrow().1)
            || self.tasks.borrow().iter().any(|(_, task)| {
                !matches!(task.stage, Stage::Finished(_))
                    && (on_socket(&task.watch) || task.waker().id.is_blocking_job())
            });
        if outside_world {
            return;
        }
        let config = self.watch.config.get();
        let mut reported = self.watch.block_on.borrow().1.reported;
        report(
            &config,
            block_on.id,
            DiagnosisKind::Hang,
            &mut reported,
            || {
                format!(
                    "nothing has happened for {:.1} s and block_on is still waiting. \
                 What every task waits for:{}",
                    age.as_secs_f64(),
                    self.who_waits_for_what().replace('\n', "\nduet: ")
                )
            },
        );
        self.watch.block_on.borrow_mut().1.reported = reported;
    }

    /// What each waker the loop can see is kept for, by the waker's
    /// address: a task's waker found here is the task's wait.
    fn kept_wakers(&self) -> HashMap<*const (), Vec<Waiting>> {
        let mut kept: HashMap<*const (), Vec<Waiting>> = HashMap::new();
        let mut keep = |waker: &Waker, on: Waiting| {
            kept.entry(waker.data()).or_default().push(on);
        };
        self.reactor().for_each_waiter(|waker, direction, fd| {
            keep(
                waker,
                match direction {
                    Direction::Read => Waiting::Readable(fd),
                    Direction::Write => Waiting::Writable(fd),
                },
            );
        });
        for waker in self.timers().lock().wakers() {
            keep(waker, Waiting::Timer);
        }
        for (_, task) in self.tasks.borrow().iter() {
            if let Some(waker) = &task.join_waker {
                keep(waker, Waiting::Task(task.waker().id));
            }
        }
        kept
    }

    /// One line per waiting task (and `block_on`'s future) saying what it
    /// waits for.
    fn who_waits_for_what(&self) -> String {
        let kept = self.kept_wakers();
        let found = |waker: &Arc<TaskWaker>| {
            kept.get(&Arc::as_ptr(waker).cast::<()>())
                .map_or(&[][..], Vec::as_slice)
        };
        let mut lines = String::new();
        if let Some(block_on) = self.running_block_on() {
            let watch = &self.watch.block_on.borrow().1;
            let stuck = self.nobody_else_holds(&block_on, BLOCK_ON_REFS + 1);
            let _ = write!(
                lines,
                "\n  {BLOCK_ON} {}",
                waits(watch, found(&block_on), stuck)
            );
        }
        for (_, task) in self.tasks.borrow().iter() {
            if matches!(task.stage, Stage::Finished(_)) {
                continue;
            }
            let waker = task.waker();
            let stuck = self.nobody_else_holds(waker, 1);
            let who = waker.describe();
            let waits = waits(&task.watch, found(waker), stuck);
            let _ = write!(lines, "\n  {who} {waits}");
        }
        lines
    }
}

/// "waits for task 4 to finish", in the trace's words: what keeps the
/// task's waker (`found`), and what its last poll said it waited on that
/// the loop cannot find by itself (a channel; a socket whose waiter is a
/// `join` or `select` child's).
fn waits(watch: &TaskWatch, found: &[Waiting], stuck: bool) -> String {
    if stuck {
        return "waits, but nobody holds its waker: it can never run again".to_string();
    }
    let mut on: Vec<String> = found.iter().map(Waiting::to_string).collect();
    if watch.waits.has(WaitKinds::CHANNEL) {
        on.push(Waiting::Channel.to_string());
    }
    let socket_found = found
        .iter()
        .any(|on| matches!(on, Waiting::Readable(_) | Waiting::Writable(_)));
    if watch.waits.has(WaitKinds::SOCKET) && !socket_found {
        on.push("a socket".to_string());
    }
    if on.is_empty() {
        return "waits for whoever holds its waker (a join or select the loop cannot see \
                into, a future of your own, or another thread)"
            .to_string();
    }
    format!("waits for {}", on.join(" or "))
}
