//! The scheduler workloads on duet's event loop, tokio's current-thread
//! runtime and duet's blocking runtime: spawn, yield, channel ping-pong,
//! chained spawns, and tracing on versus off; the timer rows are in
//! `timers.rs`, smol's versions of both, line for line the same, in
//! `smol.rs`. Runtimes are built outside the timed part; each call runs in
//! its own process.

use super::child::Metrics;
use super::timers::{
    el_join_many, el_sleepers, lateness, sleep_cpu, sleep_plan, timer_cost, timers,
    tokio_join_many, tokio_sleepers,
};
use std::time::{Duration, Instant};

/// Tasks in yield_many (each yields SIZE times).
pub const YIELD_TASKS: usize = 100;

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
        ("join_many", "duet") => vec![("ns", per(el_join_many(n), n))],
        ("join_many", "tokio") => vec![("ns", per(tokio_join_many(n), n))],
        ("sleep_cpu", "duet") => sleep_cpu(n, el_sleepers),
        ("sleep_cpu", "tokio") => sleep_cpu(n, tokio_sleepers),
        _ => return None,
    })
}

/// Runs `body` on a fresh event loop, timing only `body`. With `traced`,
/// inside `duet::trace::capture` (the events are counted, then dropped).
pub fn on_event_loop<F: std::future::Future<Output = ()>>(traced: bool, body: F) -> Duration {
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

pub fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub fn on_tokio<F: std::future::Future<Output = ()>>(body: F) -> Duration {
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
