//! What the tour runs: three runtimes, three workloads, and the plan that
//! pairs them.
//!
//! The runtimes are the three ways to run many tasks that a learner weighs:
//!
//! - **blocking, one thread**: straight-line code that does one task after
//!   another. The simplest program; no task starts before the previous one
//!   is done.
//! - **blocking, a thread per task**: `duet::blocking::spawn` for each
//!   task. Tasks overlap because the OS switches between their threads.
//! - **event_loop, one thread**: `duet::event_loop::spawn` for each task.
//!   Tasks overlap because each one gives the thread back whenever it
//!   waits.
//!
//! The network workload has a fourth row, **event_loop, a loop per core**:
//! the same server run by one event loop on each core, to show that async
//! needs no threads but uses them when there are cores to spare.
//!
//! The workloads each answer one claim learners bring (see `explain.rs`):
//! `timers.rs` (tasks that only wait), `cpu.rs` (tasks that only compute)
//! and `network.rs` (a server whose requests wait a few ms each). In each
//! file the three versions read almost line for line alike.
//!
//! Read next: `timers.rs`, then `cpu.rs` and `network.rs`.

pub mod cpu;
pub mod network;
pub mod timers;

use std::io;
use std::time::Duration;

/// A way to run many tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuntimeKind {
    /// Straight-line code on the main thread: one task after another.
    OneThread,
    /// `duet::blocking`: one OS thread per task.
    ThreadPerTask,
    /// `duet::event_loop`: every task a future, all on one thread.
    EventLoop,
    /// One `duet::event_loop` per core, each on its own thread, given the
    /// connections in turn; each connection's task stays on the loop it
    /// was given to. Network only.
    EventLoopPerCore,
}

/// A program the tour runs on each runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// N tasks that each wait D ms.
    Timers,
    /// N tasks that each compute for about C ms.
    Cpu,
    /// A server answering C clients × R requests, each taking S ms.
    Network,
}

/// One measured run: a workload on a runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    pub runtime: RuntimeKind,
    pub workload: Workload,
}

/// The sizes the workloads run at (from the flags; see `args.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// Timers: how many tasks wait at once.
    pub tasks: usize,
    /// Timers: how long each task waits, in ms.
    pub wait_ms: u64,
    /// CPU: how many tasks compute.
    pub cpu_tasks: usize,
    /// CPU: about how long each task computes on an idle core, in ms.
    pub work_ms: u64,
    /// CPU: the number of steps that takes here; measured once by the
    /// parent ([`cpu::calibrate`]) so that every runtime does exactly the
    /// same work. Zero until then.
    pub work_steps: u64,
    /// Network: how many clients connect at once.
    pub clients: usize,
    /// Network: how many requests each client makes, one after another.
    pub requests: usize,
    /// Network: how long the server takes per request (waiting, not
    /// computing, like a call to a database), in ms.
    pub service_ms: u64,
}

/// What a workload reports back besides the time it took: each task's (or
/// request's) latency. The network workload's latencies are measured by
/// its clients, in the parent process, so its list is empty.
pub type Latencies = Vec<Duration>;

impl RuntimeKind {
    /// Every runtime, in the order the tables show them: the two the
    /// reader knows first.
    pub const ALL: [RuntimeKind; 3] = [
        RuntimeKind::OneThread,
        RuntimeKind::ThreadPerTask,
        RuntimeKind::EventLoop,
    ];

    /// The name on the hidden `--child` command line.
    pub fn name(self) -> &'static str {
        match self {
            RuntimeKind::OneThread => "one-thread",
            RuntimeKind::ThreadPerTask => "thread-per-task",
            RuntimeKind::EventLoop => "event-loop",
            RuntimeKind::EventLoopPerCore => "event-loop-per-core",
        }
    }

    /// The name in the tables.
    pub fn label(self) -> &'static str {
        match self {
            RuntimeKind::OneThread => "blocking, 1 thread",
            RuntimeKind::ThreadPerTask => "blocking, thread/task",
            RuntimeKind::EventLoop => "event_loop, 1 thread",
            RuntimeKind::EventLoopPerCore => "event_loop, loop/core",
        }
    }

    pub fn from_name(name: &str) -> Option<RuntimeKind> {
        Self::ALL
            .into_iter()
            .chain([RuntimeKind::EventLoopPerCore])
            .find(|kind| kind.name() == name)
    }
}

impl Workload {
    /// Every workload, in the order the tour shows them.
    pub const ALL: [Workload; 3] = [Workload::Timers, Workload::Cpu, Workload::Network];

    /// The name in headings, in `--only`, and on the `--child` line.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Timers => "timers",
            Workload::Cpu => "cpu",
            Workload::Network => "network",
        }
    }

    pub fn from_name(name: &str) -> Option<Workload> {
        Self::ALL
            .into_iter()
            .find(|workload| workload.name() == name)
    }

    /// The runtimes this workload runs on, in table order: all three,
    /// and for the network a loop per core as well.
    pub fn runtimes(self) -> Vec<RuntimeKind> {
        let mut runtimes = RuntimeKind::ALL.to_vec();
        if self == Workload::Network {
            runtimes.push(RuntimeKind::EventLoopPerCore);
        }
        runtimes
    }
}

/// Runs `run.workload` on `run.runtime` in this process, returning once
/// every task is done. An error means the workload went wrong (a task
/// panicked, a client was refused), not merely that it was slow.
pub fn run(run: Run, params: &Params) -> io::Result<Latencies> {
    match run.workload {
        Workload::Timers => timers::run(run.runtime, params),
        Workload::Cpu => cpu::run(run.runtime, params),
        Workload::Network => network::run(run.runtime, params),
    }
}

/// Turns a task's panic into this workload's error.
fn joined<T>(result: Result<T, duet::JoinError>) -> io::Result<T> {
    result.map_err(io::Error::other)
}

/// The error of a run the tour never plans: a loop per core on a workload
/// other than the network (`Workload::runtimes`).
fn only_network() -> io::Error {
    io::Error::other("only the network workload runs a loop per core")
}
