//! The program `scripts/instruction-counts` runs under callgrind: four
//! hot paths of the event loop, one per run (the argument picks it), so
//! that two builds of duet can be compared by instructions executed, a
//! number that does not move with the machine's load.
//!
//! 0: spawn and join 100,000 tasks; 1: 100 tasks x 1,000 `yield_now`;
//! 2: 100,000 round trips over two `bounded(1)` channels; 3: a chain of
//! 10,000 tasks, each spawning and awaiting the next.

use duet::event_loop::{Runtime, channel, spawn, yield_now};
use std::future::Future;
use std::pin::Pin;

fn spawn_many(rt: &Runtime) {
    rt.block_on(async {
        let handles: Vec<_> = (0..100_000).map(|i| spawn(async move { i })).collect();
        for handle in handles {
            handle.await.unwrap();
        }
    });
}

fn yield_many(rt: &Runtime) {
    rt.block_on(async {
        let handles: Vec<_> = (0..100)
            .map(|_| {
                spawn(async {
                    for _ in 0..1_000 {
                        yield_now().await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    });
}

fn ping_pong(rt: &Runtime) {
    rt.block_on(async {
        let (ping, pings) = channel::bounded::<u32>(1);
        let (pong, pongs) = channel::bounded::<u32>(1);
        let echo = spawn(async move {
            while let Some(n) = pings.recv().await {
                pong.send(n).await.unwrap();
            }
        });
        for n in 0..100_000 {
            ping.send(n).await.unwrap();
            pongs.recv().await.unwrap();
        }
        drop(ping);
        echo.await.unwrap();
    });
}

fn chain(depth: u32) -> Pin<Box<dyn Future<Output = ()>>> {
    Box::pin(async move {
        if depth > 0 {
            spawn(chain(depth - 1)).await.unwrap();
        }
    })
}

fn main() {
    let rt = Runtime::new().unwrap();
    match std::env::args().nth(1).as_deref() {
        Some("0") => spawn_many(&rt),
        Some("1") => yield_many(&rt),
        Some("2") => ping_pong(&rt),
        Some("3") => rt.block_on(chain(10_000)),
        _ => eprintln!("usage: instruction_counts 0|1|2|3"),
    }
}
