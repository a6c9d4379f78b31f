//! The scheduler workloads on duet's event loop, tokio's current-thread
//! runtime and duet's blocking runtime: spawn, yield, channel ping-pong,
//! chained spawns, timers, CPU while asleep, and tracing on versus off.
//! (smol's versions, line for line the same, are in `smol.rs`.) Runtimes
//! are built outside the timed part; each call runs in its own process.

use super::child::{Metrics, process_cpu};
use std::time::{Duration, Instant};

/// Tasks in yield_many (each yields SIZE times).
pub const YIELD_TASKS: usize = 100;
/// Sleepers in sleep_cpu (each sleeps SIZE ms, to the same deadline).
pub const SLEEPERS: usize = 1_000;

/// Runs `workload` of `size` on `runtime` ("duet", "duet-traced",
/// "tokio", "blocking"); `None` if that pair is not a row.
pub fn measure(workload: &str, runtime: &str, n: usize) -> Option<Metrics> {
    let per = |d: Duration, count: usize| d.as_secs_f64() * 1e9 / count as f64;
    let traced = runtime == "duet-traced";
    let duet = runtime == "duet" || traced;
    Some(match (workload, runtime) {
        ("spawn_many", _) if duet => vec![("ns", per(el_spawn_many(n, traced), n))],
        ("spawn_many", "tokio") => vec![("ns", per(tokio_spawn_many(n), n))],
        ("yield_many", _) if duet => vec![("ns", per(el_yield_many(n, traced), n * YIELD_TASKS))],
        ("yield_many", "tokio") => vec![("ns", per(tokio_yield_many(n), n * YIELD_TASKS))],
        ("yield_many", "blocking") => vec![("ns", per(blocking_yield_many(n), n * YIELD_TASKS))],
        ("ping_pong", "duet") => vec![("ns", per(el_ping_pong(n), n))],
        ("ping_pong", "tokio") => vec![("ns", per(tokio_ping_pong(n), n))],
        ("ping_pong", "blocking") => vec![("ns", per(blocking_ping_pong(n), n))],
        ("chained_spawn", "duet") => vec![("ns", per(el_chained_spawn(n), n))],
        ("chained_spawn", "tokio") => vec![("ns", per(tokio_chained_spawn(n), n))],
        ("timers", _) => lateness(&sleep_plan(n, Duration::ZERO), &|plan| {
            timers(runtime, plan)
        })?,
        ("timer_scaling", _) => timer_cost(n, &|plan| timers(runtime, plan))?,
        ("sleep_cpu", "duet") => sleep_cpu(n, el_sleepers),
        ("sleep_cpu", "tokio") => sleep_cpu(n, tokio_sleepers),
        _ => return None,
    })
}

/// What a run of sleepers reports: when it started, when each woke, when
/// the last was done, and the process's CPU time in between.
pub type Woken = (Instant, Vec<Instant>, Instant, Duration);

/// One way to run every sleeper of a plan; `None` if the runtime has no
/// timers row.
pub type Timers<'a> = &'a dyn Fn(&[Duration]) -> Option<Woken>;

fn timers(runtime: &str, plan: &[Duration]) -> Option<Woken> {
    match runtime {
        "duet" => Some(el_timers(plan)),
        "tokio" => Some(tokio_timers(plan)),
        "blocking" => Some(blocking_timers(plan)),
        _ => None,
    }
}

/// Runs `body` on a fresh event loop, timing only `body`. With `traced`,
/// inside `duet::trace::capture` (the events are counted, then dropped).
fn on_event_loop<F: std::future::Future<Output = ()>>(traced: bool, body: F) -> Duration {
    let rt = duet::event_loop::Runtime::new().unwrap();
    let run = || {
        let start = Instant::now();
        rt.block_on(body);
        start.elapsed()
    };
    if traced {
        duet::trace::capture(run).0
    } else {
        run()
    }
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn on_tokio<F: std::future::Future<Output = ()>>(body: F) -> Duration {
    let rt = tokio_runtime();
    let start = Instant::now();
    rt.block_on(body);
    start.elapsed()
}

fn el_spawn_many(n: usize, traced: bool) -> Duration {
    on_event_loop(traced, async {
        let handles: Vec<_> = (0..n).map(|_| duet::event_loop::spawn(async {})).collect();
        for handle in handles {
            handle.await.unwrap();
        }
    })
}

fn tokio_spawn_many(n: usize) -> Duration {
    on_tokio(async {
        let handles: Vec<_> = (0..n).map(|_| tokio::spawn(async {})).collect();
        for handle in handles {
            handle.await.unwrap();
        }
    })
}

fn el_yield_many(yields: usize, traced: bool) -> Duration {
    on_event_loop(traced, async {
        let handles: Vec<_> = (0..YIELD_TASKS)
            .map(|_| {
                duet::event_loop::spawn(async move {
                    for _ in 0..yields {
                        duet::event_loop::yield_now().await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    })
}

fn tokio_yield_many(yields: usize) -> Duration {
    on_tokio(async {
        let handles: Vec<_> = (0..YIELD_TASKS)
            .map(|_| {
                tokio::spawn(async move {
                    for _ in 0..yields {
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    })
}

fn blocking_yield_many(yields: usize) -> Duration {
    let start = Instant::now();
    let handles: Vec<_> = (0..YIELD_TASKS)
        .map(|_| {
            duet::blocking::spawn(move || {
                for _ in 0..yields {
                    duet::blocking::yield_now();
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    start.elapsed()
}

fn el_ping_pong(n: usize) -> Duration {
    use duet::event_loop::channel::bounded;
    on_event_loop(false, async {
        let (ping_tx, ping_rx) = bounded::<u32>(1);
        let (pong_tx, pong_rx) = bounded::<u32>(1);
        let echo = duet::event_loop::spawn(async move {
            while let Some(n) = ping_rx.recv().await {
                pong_tx.send(n).await.unwrap();
            }
        });
        for n in 0..n as u32 {
            ping_tx.send(n).await.unwrap();
            assert_eq!(pong_rx.recv().await, Some(n));
        }
        drop(ping_tx);
        echo.await.unwrap();
    })
}

fn tokio_ping_pong(n: usize) -> Duration {
    use tokio::sync::mpsc::channel;
    on_tokio(async {
        let (ping_tx, mut ping_rx) = channel::<u32>(1);
        let (pong_tx, mut pong_rx) = channel::<u32>(1);
        let echo = tokio::spawn(async move {
            while let Some(n) = ping_rx.recv().await {
                pong_tx.send(n).await.unwrap();
            }
        });
        for n in 0..n as u32 {
            ping_tx.send(n).await.unwrap();
            assert_eq!(pong_rx.recv().await, Some(n));
        }
        drop(ping_tx);
        echo.await.unwrap();
    })
}

fn blocking_ping_pong(n: usize) -> Duration {
    use duet::blocking::channel::bounded;
    let (ping_tx, ping_rx) = bounded::<u32>(1);
    let (pong_tx, pong_rx) = bounded::<u32>(1);
    let start = Instant::now();
    let echo = duet::blocking::spawn(move || {
        while let Some(n) = ping_rx.recv() {
            pong_tx.send(n).unwrap();
        }
    });
    for n in 0..n as u32 {
        ping_tx.send(n).unwrap();
        assert_eq!(pong_rx.recv(), Some(n));
    }
    drop(ping_tx);
    echo.join().unwrap();
    start.elapsed()
}

fn el_chained_spawn(depth: usize) -> Duration {
    use duet::event_loop::channel::oneshot;
    fn link(done: oneshot::Sender<()>, left: usize) {
        if left == 0 {
            done.send(()).unwrap();
        } else {
            drop(duet::event_loop::spawn(async move { link(done, left - 1) }));
        }
    }
    on_event_loop(false, async {
        let (done, finished) = oneshot::oneshot();
        link(done, depth);
        finished.await.unwrap();
    })
}

fn tokio_chained_spawn(depth: usize) -> Duration {
    use tokio::sync::oneshot;
    fn link(done: oneshot::Sender<()>, left: usize) {
        if left == 0 {
            done.send(()).unwrap();
        } else {
            drop(tokio::spawn(async move { link(done, left - 1) }));
        }
    }
    on_tokio(async {
        let (done, finished) = oneshot::channel();
        link(done, depth);
        finished.await.unwrap();
    })
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

/// CPU while every task sleeps: SLEEPERS tasks sleep `ms` to one shared
/// deadline. `sleepers` returns the process's CPU time from the moment
/// every sleeper has set its timer to the moment all have woken, in µs.
/// A runtime that parks in the kernel spends next to none (waking a
/// thousand tasks costs some); one that polls or spins spends about `ms`.
pub fn sleep_cpu(ms: usize, sleepers: fn(Instant) -> Duration) -> Metrics {
    let deadline = Instant::now() + Duration::from_millis(ms as u64);
    vec![("cpu_us", sleepers(deadline).as_secs_f64() * 1e6)]
}

fn el_sleepers(deadline: Instant) -> Duration {
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

fn tokio_sleepers(deadline: Instant) -> Duration {
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
