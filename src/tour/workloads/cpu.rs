//! The CPU workload: N tasks that each compute for about C ms and never
//! wait.
//!
//! It answers the claim "async is always faster". It is not: an event loop
//! is one thread, so it runs one computation at a time, exactly like
//! straight-line code on one thread, while a thread per task lets the OS
//! run as many at once as there are cores. And while one task computes,
//! nothing else on the loop runs: no other task, no timer, no I/O. Async
//! helps tasks *wait* cheaply; it does not make computing faster. (The
//! event loop's answer for CPU work is `spawn_blocking`: a thread.)
//!
//! "About C ms" is a number of steps of a small pseudo-random function,
//! measured once by the parent ([`calibrate`]) and given to every run, so
//! the three runtimes do exactly the same work. A time-based busy loop
//! would not do: a thread that spins "until 20 ms have passed" finishes on
//! time even when it got only half a core.
//!
//! Read next: `network.rs`.

use super::{Latencies, Params, RuntimeKind, joined, only_network};
use std::hint::black_box;
use std::io;
use std::time::{Duration, Instant};

pub fn run(runtime: RuntimeKind, params: &Params) -> io::Result<Latencies> {
    let steps = params.work_steps;
    Ok(match runtime {
        RuntimeKind::OneThread => one_thread(params.cpu_tasks, steps),
        RuntimeKind::ThreadPerTask => thread_per_task(params.cpu_tasks, steps)?,
        RuntimeKind::EventLoopPerCore => return Err(only_network()),
        RuntimeKind::EventLoop => event_loop(params.cpu_tasks, steps)?,
    })
}

/// Straight-line code: one computation after another.
fn one_thread(tasks: usize, steps: u64) -> Latencies {
    let start = Instant::now();
    let mut latencies = Vec::with_capacity(tasks);
    for task in 0..tasks {
        compute(task as u64, steps);
        latencies.push(start.elapsed());
    }
    latencies
}

/// A thread per task: the OS runs as many at once as there are cores.
fn thread_per_task(tasks: usize, steps: u64) -> io::Result<Latencies> {
    use duet::blocking::{Runtime, spawn};
    Runtime::new().block_on(|| {
        let start = Instant::now();
        let mut handles = Vec::with_capacity(tasks);
        for task in 0..tasks {
            handles.push(spawn(move || {
                compute(task as u64, steps);
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

/// The event loop: each task computes without an `.await`, so it keeps the
/// one thread until it is done.
fn event_loop(tasks: usize, steps: u64) -> io::Result<Latencies> {
    use duet::event_loop::{Diagnostics, Runtime, spawn};
    let rt = Runtime::new()?;
    // These polls hold the loop on purpose: this workload measures what
    // that costs. Without this line duet would rightly report them as
    // slow polls (docs/DIAGNOSTICS.md).
    rt.set_diagnostics(Diagnostics {
        slow_poll: None,
        ..Diagnostics::default()
    });
    rt.block_on(async {
        let start = Instant::now();
        let mut handles = Vec::with_capacity(tasks);
        for task in 0..tasks {
            handles.push(spawn(async move {
                compute(task as u64, steps);
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

/// `steps` rounds of xorshift, a pseudo-random step the compiler cannot
/// skip: `black_box` hides each value from the optimiser.
pub fn compute(seed: u64, steps: u64) -> u64 {
    let mut x = seed | 1;
    for _ in 0..steps {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x = black_box(x);
    }
    x
}

/// How many steps of [`compute`] take about `work` on this machine: time
/// ever larger batches until one takes at least 20 ms, then scale.
pub fn calibrate(work: Duration) -> u64 {
    let mut steps: u64 = 1 << 16;
    loop {
        let start = Instant::now();
        compute(1, steps);
        let took = start.elapsed();
        if took >= Duration::from_millis(20) || steps >= 1 << 40 {
            let per_ns = steps as f64 / took.as_nanos().max(1) as f64;
            return (per_ns * work.as_nanos() as f64).max(1.0) as u64;
        }
        steps *= 2;
    }
}
