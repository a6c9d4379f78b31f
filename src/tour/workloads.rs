//! What the tour runs: the runtimes, the workloads, and the plan that pairs
//! them.
//!
//! The plan is data ([`PLAN`]), so adding a workload (a network echo, a
//! CPU-bound loop) or a runtime variant (blocking code on one thread) is a
//! new enum variant, a new function, and a new line in the plan; `mod.rs`,
//! `measure.rs` and `report.rs` need not change.
//!
//! The two versions of each workload read almost line for line alike, like
//! the examples: the difference is `async`, `.await` and the module path.
//!
//! Read next: `measure.rs`, which runs these and measures them.

use std::io;
use std::time::Duration;

/// A runtime the tour can run a workload on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuntimeKind {
    /// `duet::blocking`: one OS thread per task.
    Blocking,
    /// `duet::event_loop`: futures on one thread.
    EventLoop,
}

/// A program the tour runs on each runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// N tasks that each wait D ms and return; the main task joins them.
    Timers,
}

/// One measured run: a workload on a runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    pub runtime: RuntimeKind,
    pub workload: Workload,
}

/// Every run the tour makes, in order. Blocking comes first: it is the
/// reference the reader already knows.
pub const PLAN: &[Run] = &[
    Run {
        runtime: RuntimeKind::Blocking,
        workload: Workload::Timers,
    },
    Run {
        runtime: RuntimeKind::EventLoop,
        workload: Workload::Timers,
    },
];

/// The sizes a workload is run at (from `--tasks` and `--wait-ms`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// How many tasks to spawn.
    pub tasks: usize,
    /// How long each task waits, in milliseconds.
    pub wait_ms: u64,
}

impl RuntimeKind {
    /// Every runtime, for parsing names back.
    pub const ALL: [RuntimeKind; 2] = [RuntimeKind::Blocking, RuntimeKind::EventLoop];

    /// The name used in the table and on the hidden `--child` command line.
    pub fn name(self) -> &'static str {
        match self {
            RuntimeKind::Blocking => "blocking",
            RuntimeKind::EventLoop => "event_loop",
        }
    }

    pub fn from_name(name: &str) -> Option<RuntimeKind> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

impl Workload {
    /// Every workload, in the order the tour shows them.
    pub const ALL: [Workload; 1] = [Workload::Timers];

    /// The name used in headings and on the hidden `--child` command line.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Timers => "timers",
        }
    }

    pub fn from_name(name: &str) -> Option<Workload> {
        Self::ALL
            .into_iter()
            .find(|workload| workload.name() == name)
    }
}

/// Runs `run.workload` on `run.runtime`, returning once every task is done.
/// An error means the workload went wrong (a task panicked, a result was
/// off), not merely that it was slow.
pub fn run(run: Run, params: &Params) -> io::Result<()> {
    match (run.workload, run.runtime) {
        (Workload::Timers, RuntimeKind::Blocking) => timers_blocking(params),
        (Workload::Timers, RuntimeKind::EventLoop) => timers_event_loop(params),
    }
}

/// Timers on threads: every task is a thread that sleeps in the kernel.
fn timers_blocking(params: &Params) -> io::Result<()> {
    use duet::blocking::{Runtime, sleep, spawn};
    let wait = Duration::from_millis(params.wait_ms);
    let rt = Runtime::new();
    let total = rt.block_on(|| {
        let mut handles = Vec::with_capacity(params.tasks);
        for i in 0..params.tasks {
            handles.push(spawn(move || {
                sleep(wait);
                i
            }));
        }
        let mut total = 0;
        for handle in handles {
            total += handle.join().map_err(io::Error::other)?;
        }
        Ok::<usize, io::Error>(total)
    })?;
    check_total(total, params)
}

/// Timers on the event loop: every task is a future waiting on a timer.
fn timers_event_loop(params: &Params) -> io::Result<()> {
    use duet::event_loop::{Runtime, sleep, spawn};
    let wait = Duration::from_millis(params.wait_ms);
    let rt = Runtime::new()?;
    let total = rt.block_on(async {
        let mut handles = Vec::with_capacity(params.tasks);
        for i in 0..params.tasks {
            handles.push(spawn(async move {
                sleep(wait).await;
                i
            }));
        }
        let mut total = 0;
        for handle in handles {
            total += handle.await.map_err(io::Error::other)?;
        }
        Ok::<usize, io::Error>(total)
    })?;
    check_total(total, params)
}

/// Each task returns its index, so the sum proves every task ran once.
fn check_total(total: usize, params: &Params) -> io::Result<()> {
    let expected = params.tasks * params.tasks.saturating_sub(1) / 2;
    if total == expected {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "tasks returned a total of {total}, expected {expected}"
        )))
    }
}
