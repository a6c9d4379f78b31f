//! The scheduler workloads: spawn, yield, channel ping-pong, chained
//! spawns, timers, and tracing on versus off. Each cell is the median of
//! `repeats` runs; runtimes are built outside the timed part.

use super::table::Table;
use std::time::{Duration, Instant};

const SPAWN_MANY: usize = 100_000;
const YIELD_TASKS: usize = 100;
const YIELDS: usize = 1_000;
const PING_PONGS: usize = 100_000;
const CHAIN_DEPTH: usize = 10_000;
const TIMER_TASKS: usize = 10_000;
const TIMER_MAX_MS: u64 = 50;

pub fn run(table: &mut Table, repeats: usize, wanted: &dyn Fn(&str) -> bool) {
    let ms = |f: &dyn Fn() -> Duration| Some(median(repeats, f).as_secs_f64() * 1e3);
    if wanted("spawn_many") {
        table.add(
            "spawn_many (100k)",
            "ms",
            true,
            [ms(&|| el_spawn_many(false)), ms(&tokio_spawn_many), None],
        );
    }
    if wanted("yield_many") {
        table.add(
            "yield_many (100 x 1k)",
            "ms",
            true,
            [
                ms(&|| el_yield_many(false)),
                ms(&tokio_yield_many),
                ms(&blocking_yield_many),
            ],
        );
    }
    if wanted("ping_pong") {
        table.add(
            "ping_pong (100k round trips)",
            "ms",
            true,
            [
                ms(&el_ping_pong),
                ms(&tokio_ping_pong),
                ms(&blocking_ping_pong),
            ],
        );
    }
    if wanted("chained_spawn") {
        table.add(
            "chained_spawn (depth 10k)",
            "ms",
            true,
            [ms(&el_chained_spawn), ms(&tokio_chained_spawn), None],
        );
    }
    if wanted("timers") {
        timers(table);
    }
    if wanted("tracing") {
        let off = ms(&|| el_spawn_many(false));
        let on = ms(&|| el_spawn_many(true));
        table.add(
            "spawn_many, event_loop: trace off | on",
            "ms",
            true,
            [off, None, on],
        );
        let off = ms(&|| el_yield_many(false));
        let on = ms(&|| el_yield_many(true));
        table.add(
            "yield_many, event_loop: trace off | on",
            "ms",
            true,
            [off, None, on],
        );
    }
}

fn median(repeats: usize, f: &dyn Fn() -> Duration) -> Duration {
    let mut times: Vec<Duration> = (0..repeats).map(|_| f()).collect();
    times.sort();
    times[times.len() / 2]
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

fn on_tokio<F: std::future::Future<Output = ()>>(body: F) -> Duration {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let start = Instant::now();
    rt.block_on(body);
    start.elapsed()
}

fn el_spawn_many(traced: bool) -> Duration {
    on_event_loop(traced, async {
        let handles: Vec<_> = (0..SPAWN_MANY)
            .map(|_| duet::event_loop::spawn(async {}))
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    })
}

fn tokio_spawn_many() -> Duration {
    on_tokio(async {
        let handles: Vec<_> = (0..SPAWN_MANY).map(|_| tokio::spawn(async {})).collect();
        for handle in handles {
            handle.await.unwrap();
        }
    })
}

fn el_yield_many(traced: bool) -> Duration {
    on_event_loop(traced, async {
        let handles: Vec<_> = (0..YIELD_TASKS)
            .map(|_| {
                duet::event_loop::spawn(async {
                    for _ in 0..YIELDS {
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

fn tokio_yield_many() -> Duration {
    on_tokio(async {
        let handles: Vec<_> = (0..YIELD_TASKS)
            .map(|_| {
                tokio::spawn(async {
                    for _ in 0..YIELDS {
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

fn blocking_yield_many() -> Duration {
    let start = Instant::now();
    let handles: Vec<_> = (0..YIELD_TASKS)
        .map(|_| {
            duet::blocking::spawn(|| {
                for _ in 0..YIELDS {
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

fn el_ping_pong() -> Duration {
    use duet::event_loop::channel::bounded;
    on_event_loop(false, async {
        let (ping_tx, ping_rx) = bounded::<u32>(1);
        let (pong_tx, pong_rx) = bounded::<u32>(1);
        let echo = duet::event_loop::spawn(async move {
            while let Some(n) = ping_rx.recv().await {
                pong_tx.send(n).await.unwrap();
            }
        });
        for n in 0..PING_PONGS as u32 {
            ping_tx.send(n).await.unwrap();
            assert_eq!(pong_rx.recv().await, Some(n));
        }
        drop(ping_tx);
        echo.await.unwrap();
    })
}

fn tokio_ping_pong() -> Duration {
    use tokio::sync::mpsc::channel;
    on_tokio(async {
        let (ping_tx, mut ping_rx) = channel::<u32>(1);
        let (pong_tx, mut pong_rx) = channel::<u32>(1);
        let echo = tokio::spawn(async move {
            while let Some(n) = ping_rx.recv().await {
                pong_tx.send(n).await.unwrap();
            }
        });
        for n in 0..PING_PONGS as u32 {
            ping_tx.send(n).await.unwrap();
            assert_eq!(pong_rx.recv().await, Some(n));
        }
        drop(ping_tx);
        echo.await.unwrap();
    })
}

fn blocking_ping_pong() -> Duration {
    use duet::blocking::channel::bounded;
    let (ping_tx, ping_rx) = bounded::<u32>(1);
    let (pong_tx, pong_rx) = bounded::<u32>(1);
    let start = Instant::now();
    let echo = duet::blocking::spawn(move || {
        while let Some(n) = ping_rx.recv() {
            pong_tx.send(n).unwrap();
        }
    });
    for n in 0..PING_PONGS as u32 {
        ping_tx.send(n).unwrap();
        assert_eq!(pong_rx.recv(), Some(n));
    }
    drop(ping_tx);
    echo.join().unwrap();
    start.elapsed()
}

fn el_chained_spawn() -> Duration {
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
        link(done, CHAIN_DEPTH);
        finished.await.unwrap();
    })
}

fn tokio_chained_spawn() -> Duration {
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
        link(done, CHAIN_DEPTH);
        finished.await.unwrap();
    })
}

/// The same seeded-random sleeps (0–50 ms) for every runtime.
fn sleep_plan() -> Vec<Duration> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..TIMER_TASKS)
        .map(|_| {
            // xorshift64: deterministic, good enough to spread deadlines.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            Duration::from_micros(state % (TIMER_MAX_MS * 1000))
        })
        .collect()
}

/// Lateness statistics: how long after its deadline each sleeper woke.
struct Lateness {
    overhead_ms: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

fn lateness(start: Instant, end: Instant, plan: &[Duration], woke: &[Instant]) -> Lateness {
    let mut late: Vec<f64> = plan
        .iter()
        .zip(woke)
        .map(|(sleep, woke)| (*woke - (start + *sleep)).as_secs_f64() * 1e3)
        .collect();
    late.sort_by(f64::total_cmp);
    let longest = plan.iter().max().copied().unwrap_or_default();
    Lateness {
        overhead_ms: ((end - start).as_secs_f64() - longest.as_secs_f64()) * 1e3,
        p50_ms: late[late.len() / 2],
        p99_ms: late[late.len() * 99 / 100],
        max_ms: late[late.len() - 1],
    }
}

fn timers(table: &mut Table) {
    let plan = sleep_plan();
    let el = {
        let rt = duet::event_loop::Runtime::new().unwrap();
        let start = Instant::now();
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
            let mut woke = Vec::new();
            for handle in handles {
                woke.push(handle.await.unwrap());
            }
            woke
        });
        lateness(start, Instant::now(), &plan, &woke)
    };
    let tokio = {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let start = Instant::now();
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
            let mut woke = Vec::new();
            for handle in handles {
                woke.push(handle.await.unwrap());
            }
            woke
        });
        lateness(start, Instant::now(), &plan, &woke)
    };
    let blocking = {
        let start = Instant::now();
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
        lateness(start, Instant::now(), &plan, &woke)
    };
    let all = [&el, &tokio, &blocking];
    let row = |f: fn(&Lateness) -> f64| [Some(f(all[0])), Some(f(all[1])), Some(f(all[2]))];
    table.add(
        "timers 10k: overhead past longest",
        "ms",
        true,
        row(|l| l.overhead_ms),
    );
    table.add("timers 10k: lateness p50", "ms", true, row(|l| l.p50_ms));
    table.add("timers 10k: lateness p99", "ms", true, row(|l| l.p99_ms));
    table.add("timers 10k: lateness max", "ms", true, row(|l| l.max_ms));
}
