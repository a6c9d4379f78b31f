//! The timer workloads on duet's event loop, tokio's current-thread
//! runtime and duet's blocking runtime (smol's are in `smol.rs`): how late
//! sleepers wake, what a timer costs in CPU, how much CPU a runtime
//! spends while every task sleeps, and what claiming a finished sleeper's
//! output costs (join_many: the work left after the last deadline). The
//! measuring code (`lateness`,
//! `timer_cost`, `sleep_cpu`) is shared with `smol.rs`, so every runtime
//! is measured by the same lines.

use super::child::{Metrics, process_cpu};
use super::workloads::tokio_runtime;
use std::time::{Duration, Instant};

/// Sleepers in sleep_cpu (each sleeps SIZE ms, to the same deadline).
pub const SLEEPERS: usize = 1_000;

/// What a run of sleepers reports: when it started, when each woke, when
/// the last was done, and the process's CPU time in between.
pub type Woken = (Instant, Vec<Instant>, Instant, Duration);

/// One way to run every sleeper of a plan; `None` if the runtime has no
/// timers row.
pub type Timers<'a> = &'a dyn Fn(&[Duration]) -> Option<Woken>;

/// Runs a plan's sleepers on `runtime` ("duet", "tokio", "blocking").
pub fn timers(runtime: &str, plan: &[Duration]) -> Option<Woken> {
    match runtime {
        "duet" => Some(el_timers(plan)),
        "tokio" => Some(tokio_timers(plan)),
        "blocking" => Some(blocking_timers(plan)),
        _ => None,
    }
}

/// `n` seeded-random sleeps of `offset` + 0–50 ms, the same for every
/// runtime.
pub fn sleep_plan(n: usize, offset: Duration) -> Vec<Duration> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            // xorshift64: deterministic, good enough to spread deadlines.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            offset + Duration::from_micros(state % 50_000)
        })
        .collect()
}

/// Lateness: how long after its deadline each sleeper woke, and how long
/// the run went on past the last deadline.
pub fn lateness(plan: &[Duration], run: Timers) -> Option<Metrics> {
    let (start, woke, end, _) = run(plan)?;
    let mut late: Vec<f64> = plan
        .iter()
        .zip(&woke)
        .map(|(sleep, woke)| (*woke - (start + *sleep)).as_secs_f64() * 1e6)
        .collect();
    late.sort_by(f64::total_cmp);
    let longest = plan.iter().max().copied().unwrap_or_default();
    Some(vec![
        (
            "overhead_ms",
            ((end - start).as_secs_f64() - longest.as_secs_f64()) * 1e3,
        ),
        ("p50_us", late[late.len() / 2]),
        ("p99_us", late[late.len() * 99 / 100]),
    ])
}

/// CPU per timer: `n` tasks that each sleep to a deadline far enough
/// ahead (2 µs per timer, plus 20 ms) that every timer is still pending
/// when it is set, then 0–50 ms apart; the process's CPU time over `n`,
/// from the start of the run (the runtime built) to its end.
/// Spawning the task is part of the cost (see spawn_many for that share).
pub fn timer_cost(n: usize, run: Timers) -> Option<Metrics> {
    let offset = Duration::from_millis(20) + Duration::from_micros(2 * n as u64);
    let plan = sleep_plan(n, offset);
    let (.., cpu) = run(&plan)?;
    Some(vec![("ns", cpu.as_secs_f64() * 1e9 / n as f64)])
}

fn el_timers(plan: &[Duration]) -> Woken {
    let rt = duet::event_loop::Runtime::new().unwrap();
    let (start, cpu) = (Instant::now(), process_cpu());
    let woke = rt.block_on(async {
        let handles: Vec<_> = plan
            .iter()
            .map(|&d| {
                duet::event_loop::spawn(async move {
                    duet::event_loop::sleep_until(start + d).await;
                    Instant::now()
                })
            })
            .collect();
        let mut woke = Vec::with_capacity(plan.len());
        for handle in handles {
            woke.push(handle.await.unwrap());
        }
        woke
    });
    (start, woke, Instant::now(), process_cpu() - cpu)
}

fn tokio_timers(plan: &[Duration]) -> Woken {
    let rt = tokio_runtime();
    let (start, cpu) = (Instant::now(), process_cpu());
    let woke = rt.block_on(async {
        let handles: Vec<_> = plan
            .iter()
            .map(|&d| {
                tokio::spawn(async move {
                    tokio::time::sleep_until((start + d).into()).await;
                    Instant::now()
                })
            })
            .collect();
        let mut woke = Vec::with_capacity(plan.len());
        for handle in handles {
            woke.push(handle.await.unwrap());
        }
        woke
    });
    (start, woke, Instant::now(), process_cpu() - cpu)
}

fn blocking_timers(plan: &[Duration]) -> Woken {
    let (start, cpu) = (Instant::now(), process_cpu());
    let handles: Vec<_> = plan
        .iter()
        .map(|&d| {
            duet::blocking::spawn(move || {
                let now = Instant::now();
                if start + d > now {
                    duet::blocking::sleep(start + d - now);
                }
                Instant::now()
            })
        })
        .collect();
    let woke: Vec<Instant> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    (start, woke, Instant::now(), process_cpu() - cpu)
}

/// join_many: the cost of claiming a finished task's output, the work
/// that the timers row's main task does after the last deadline. `n`
/// tasks each sleep 1 ms and return the time; once every one has
/// finished, the claiming of all their outputs, in order, is timed.
pub fn el_join_many(n: usize) -> Duration {
    use duet::event_loop::{sleep, spawn};
    let rt = duet::event_loop::Runtime::new().unwrap();
    rt.block_on(async {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                spawn(async {
                    sleep(Duration::from_millis(1)).await;
                    Instant::now()
                })
            })
            .collect();
        while !handles.iter().all(|handle| handle.is_finished()) {
            sleep(Duration::from_millis(1)).await;
        }
        let start = Instant::now();
        let mut woke = Vec::with_capacity(n);
        for handle in handles {
            woke.push(handle.await.unwrap());
        }
        start.elapsed()
    })
}

pub fn tokio_join_many(n: usize) -> Duration {
    use tokio::time::sleep;
    tokio_runtime().block_on(async {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                tokio::spawn(async {
                    sleep(Duration::from_millis(1)).await;
                    Instant::now()
                })
            })
            .collect();
        while !handles.iter().all(|handle| handle.is_finished()) {
            sleep(Duration::from_millis(1)).await;
        }
        let start = Instant::now();
        let mut woke = Vec::with_capacity(n);
        for handle in handles {
            woke.push(handle.await.unwrap());
        }
        start.elapsed()
    })
}

/// CPU while every task sleeps: SLEEPERS tasks sleep `ms` to one shared
/// deadline. `sleepers` returns the process's CPU time from the moment
/// every sleeper has set its timer to the moment all have woken, in µs.
/// A runtime that parks in the kernel spends next to none (waking a
/// thousand tasks costs some); one that polls or spins spends about `ms`.
pub fn sleep_cpu(ms: usize, sleepers: fn(Instant) -> Duration) -> Metrics {
    let deadline = Instant::now() + Duration::from_millis(ms as u64);
    vec![("cpu_us", sleepers(deadline).as_secs_f64() * 1e6)]
}

pub fn el_sleepers(deadline: Instant) -> Duration {
    let rt = duet::event_loop::Runtime::new().unwrap();
    rt.block_on(async move {
        let handles: Vec<_> = (0..SLEEPERS)
            .map(|_| duet::event_loop::spawn(duet::event_loop::sleep_until(deadline)))
            .collect();
        // Every sleeper runs once, sets its timer, and waits.
        duet::event_loop::yield_now().await;
        let asleep = process_cpu();
        for handle in handles {
            handle.await.unwrap();
        }
        process_cpu() - asleep
    })
}

pub fn tokio_sleepers(deadline: Instant) -> Duration {
    tokio_runtime().block_on(async move {
        let handles: Vec<_> = (0..SLEEPERS)
            .map(|_| tokio::spawn(tokio::time::sleep_until(deadline.into())))
            .collect();
        tokio::task::yield_now().await;
        let asleep = process_cpu();
        for handle in handles {
            handle.await.unwrap();
        }
        process_cpu() - asleep
    })
}
