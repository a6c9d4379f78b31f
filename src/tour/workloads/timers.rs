//! The timer workload: N tasks that each wait D ms and do nothing else.
//!
//! It answers the claim "async is multi-threaded". Waiting needs no CPU, so
//! what matters is what a waiting task costs: on one blocking thread the
//! waits happen one after another; with a thread per task they overlap,
//! one sleeping thread each; on the event loop they overlap too, as small
//! futures in a timer table, all on one thread.
//!
//! Each task's latency is the time from the start of the workload until
//! that task was done. A wait never ends early, so every latency must be at
//! least D; a shorter one is reported as an error.
//!
//! Read next: `cpu.rs`, where the event loop does not win.

use super::{Latencies, Params, RuntimeKind, joined, only_network};
use std::io;
use std::time::{Duration, Instant};

pub fn run(runtime: RuntimeKind, params: &Params) -> io::Result<Latencies> {
    let wait = Duration::from_millis(params.wait_ms);
    let latencies = match runtime {
        RuntimeKind::OneThread => one_thread(params.tasks, wait),
        RuntimeKind::ThreadPerTask => thread_per_task(params.tasks, wait)?,
        RuntimeKind::EventLoopPerCore => return Err(only_network()),
        RuntimeKind::EventLoop => event_loop(params.tasks, wait)?,
    };
    match latencies.iter().find(|latency| **latency < wait) {
        Some(early) => Err(io::Error::other(format!(
            "a task finished after {early:?}, before its {wait:?} wait was over"
        ))),
        None => Ok(latencies),
    }
}

/// Straight-line code: each wait starts when the one before it ends.
fn one_thread(tasks: usize, wait: Duration) -> Latencies {
    use duet::blocking::sleep;
    let start = Instant::now();
    let mut latencies = Vec::with_capacity(tasks);
    for _ in 0..tasks {
        sleep(wait);
        latencies.push(start.elapsed());
    }
    latencies
}

/// A thread per task: every task is a thread asleep in the kernel.
fn thread_per_task(tasks: usize, wait: Duration) -> io::Result<Latencies> {
    use duet::blocking::{Runtime, sleep, spawn};
    Runtime::new().block_on(|| {
        let start = Instant::now();
        let mut handles = Vec::with_capacity(tasks);
        for _ in 0..tasks {
            handles.push(spawn(move || {
                sleep(wait);
                start.elapsed()
            }));
        }
        let mut latencies = Vec::with_capacity(tasks);
        for handle in handles {
            latencies.push(joined(handle.join())?);
        }
        Ok(latencies)
    })
}

/// The event loop: every task is a future waiting on a timer.
fn event_loop(tasks: usize, wait: Duration) -> io::Result<Latencies> {
    use duet::event_loop::{Runtime, sleep, spawn};
    Runtime::new()?.block_on(async {
        let start = Instant::now();
        let mut handles = Vec::with_capacity(tasks);
        for _ in 0..tasks {
            handles.push(spawn(async move {
                sleep(wait).await;
                start.elapsed()
            }));
        }
        let mut latencies = Vec::with_capacity(tasks);
        for handle in handles {
            latencies.push(joined(handle.await)?);
        }
        Ok(latencies)
    })
}
