//! The same workloads on smol's single-thread stack: async-executor's
//! `LocalExecutor` for the tasks, driven by async-io's `block_on`, which
//! parks in async-io's reactor (epoll via `polling`, with a timer list of
//! its own) whenever the executor has nothing to run; async-channel for
//! the channels. This is what `smol::LocalExecutor` with `smol::block_on`
//! is made of.
//!
//! A task that spawns needs the executor: it is shared as an
//! `Rc<LocalExecutor>`, as smol's own examples do.

use super::child::{Metrics, process_cpu, thread_cpu};
use super::timers::{SLEEPERS, Woken, lateness, sleep_cpu, sleep_plan, timer_cost};
use super::workloads::YIELD_TASKS;
use async_executor::LocalExecutor;
use async_io::{Async, Timer};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Runs `workload` of `size` on smol; `None` if it has no smol row.
pub fn measure(workload: &str, n: usize) -> Option<Metrics> {
    let per = |d: Duration, count: usize| d.as_secs_f64() * 1e9 / count as f64;
    Some(match workload {
        "spawn_many" => vec![("ns", per(spawn_many(n), n))],
        "yield_many" => vec![("ns", per(yield_many(n), n * YIELD_TASKS))],
        "ping_pong" => vec![("ns", per(ping_pong(n), n))],
        "chained_spawn" => vec![("ns", per(chained_spawn(n), n))],
        "timers" => lateness(&sleep_plan(n, Duration::ZERO), &|plan| Some(timers(plan)))?,
        "timer_scaling" => timer_cost(n, &|plan| Some(timers(plan)))?,
        "join_many" => vec![("ns", per(join_many(n), n))],
        "sleep_cpu" => sleep_cpu(n, sleepers),
        _ => return None,
    })
}

/// Runs `body(executor)` on a fresh executor, timing only the run.
fn on_smol<F, B>(body: B) -> Duration
where
    B: FnOnce(Rc<LocalExecutor<'static>>) -> F,
    F: Future<Output = ()>,
{
    let ex = Rc::new(LocalExecutor::new());
    let start = Instant::now();
    async_io::block_on(ex.run(body(ex.clone())));
    start.elapsed()
}

fn spawn_many(n: usize) -> Duration {
    on_smol(|ex| async move {
        let handles: Vec<_> = (0..n).map(|_| ex.spawn(async {})).collect();
        for handle in handles {
            handle.await;
        }
    })
}

fn yield_many(yields: usize) -> Duration {
    on_smol(|ex| async move {
        let handles: Vec<_> = (0..YIELD_TASKS)
            .map(|_| {
                ex.spawn(async move {
                    for _ in 0..yields {
                        futures_lite::future::yield_now().await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await;
        }
    })
}

fn ping_pong(n: usize) -> Duration {
    use async_channel::bounded;
    on_smol(|ex| async move {
        let (ping_tx, ping_rx) = bounded::<u32>(1);
        let (pong_tx, pong_rx) = bounded::<u32>(1);
        let echo = ex.spawn(async move {
            while let Ok(n) = ping_rx.recv().await {
                pong_tx.send(n).await.unwrap();
            }
        });
        for n in 0..n as u32 {
            ping_tx.send(n).await.unwrap();
            assert_eq!(pong_rx.recv().await, Ok(n));
        }
        drop(ping_tx);
        echo.await;
    })
}

fn chained_spawn(depth: usize) -> Duration {
    type Done = async_channel::Sender<()>;
    fn link(ex: Rc<LocalExecutor<'static>>, done: Done, left: usize) {
        if left == 0 {
            done.try_send(()).unwrap();
        } else {
            let next = ex.clone();
            ex.spawn(async move { link(next, done, left - 1) }).detach();
        }
    }
    on_smol(|ex| async move {
        let (done, finished) = async_channel::bounded(1);
        link(ex, done, depth);
        finished.recv().await.unwrap();
    })
}

fn timers(plan: &[Duration]) -> Woken {
    let ex = LocalExecutor::new();
    let (start, cpu) = (Instant::now(), process_cpu());
    let woke = async_io::block_on(ex.run(async {
        let handles: Vec<_> = plan
            .iter()
            .map(|&d| {
                ex.spawn(async move {
                    Timer::at(start + d).await;
                    Instant::now()
                })
            })
            .collect();
        let mut woke = Vec::with_capacity(plan.len());
        for handle in handles {
            woke.push(handle.await);
        }
        woke
    }));
    (start, woke, Instant::now(), process_cpu() - cpu)
}

fn join_many(n: usize) -> Duration {
    let ex = LocalExecutor::new();
    async_io::block_on(ex.run(async {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                ex.spawn(async {
                    Timer::after(Duration::from_millis(1)).await;
                    Instant::now()
                })
            })
            .collect();
        while !handles.iter().all(|handle| handle.is_finished()) {
            Timer::after(Duration::from_millis(1)).await;
        }
        let start = Instant::now();
        let mut woke = Vec::with_capacity(n);
        for handle in handles {
            woke.push(handle.await);
        }
        start.elapsed()
    }))
}

fn sleepers(deadline: Instant) -> Duration {
    let ex = LocalExecutor::new();
    async_io::block_on(ex.run(async {
        let handles: Vec<_> = (0..SLEEPERS)
            .map(|_| {
                ex.spawn(async move {
                    Timer::at(deadline).await;
                })
            })
            .collect();
        futures_lite::future::yield_now().await;
        let asleep = process_cpu();
        for handle in handles {
            handle.await;
        }
        process_cpu() - asleep
    }))
}

/// The echo server of `echo.rs` on smol; returns its thread's CPU time.
pub fn echo_server(listener: std::net::TcpListener, stop: Arc<AtomicBool>) -> Duration {
    let ex = LocalExecutor::new();
    async_io::block_on(ex.run(async {
        let listener = Async::new(listener).unwrap();
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            if stop.load(Ordering::SeqCst) {
                return thread_cpu();
            }
            stream.get_ref().set_nodelay(true).unwrap();
            ex.spawn(async move {
                let mut buf = [0u8; 1024];
                while let Ok(n @ 1..) = stream.read(&mut buf).await {
                    if stream.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            })
            .detach();
        }
    }))
}

/// The idle-connection server of `idle.rs` on smol: reports, accepts
/// `connections`, each with a task blocked reading, reports again, and
/// waits for the parent with the tasks still held.
pub fn idle_server(listener: std::net::TcpListener, connections: usize, report: &dyn Fn(&str)) {
    let ex = LocalExecutor::new();
    async_io::block_on(ex.run(async {
        let listener = Async::new(listener).unwrap();
        report("ready");
        for _ in 0..connections {
            let (mut stream, _) = listener.accept().await.unwrap();
            ex.spawn(async move {
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf).await;
            })
            .detach();
        }
        // Let every task reach its first read.
        futures_lite::future::yield_now().await;
        report("accepted");
    }));
    super::idle::wait_for_parent();
}
