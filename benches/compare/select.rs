//! The `select` row: one iteration is "a value is queued; `select` between
//! receiving it and a timer an hour away", so the channel always wins and
//! the timer is dropped every time, having registered itself whenever it
//! was polled first. It measures the combinator's own cost plus a
//! cancelled timer, per iteration, against tokio's `select!` on the same
//! shape. Both pick the side to poll first at random, so both poll the
//! timer first, and register and then cancel it, about half the time.

use super::child::Metrics;
use std::time::{Duration, Instant};

const ITERATIONS: u32 = 100_000;
const FAR: Duration = Duration::from_secs(3600);

/// In a measuring child: nanoseconds per iteration on `runtime`.
pub fn measure(runtime: &str) -> Option<Metrics> {
    let took = match runtime {
        "duet" => duet_select(),
        "tokio" => tokio_select(),
        _ => return None,
    };
    Some(vec![(
        "ns",
        took.as_secs_f64() * 1e9 / f64::from(ITERATIONS),
    )])
}

fn duet_select() -> Duration {
    use duet::event_loop::{Either, Runtime, channel, select, sleep};
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let (tx, rx) = channel::unbounded::<u32>();
        let start = Instant::now();
        for i in 0..ITERATIONS {
            tx.try_send(i).unwrap();
            match select(rx.recv(), sleep(FAR)).await {
                Either::Left(value) => assert_eq!(value, Some(i)),
                Either::Right(()) => unreachable!("the timer is an hour away"),
            }
        }
        start.elapsed()
    })
}

fn tokio_select() -> Duration {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u32>();
        let start = Instant::now();
        for i in 0..ITERATIONS {
            tx.send(i).unwrap();
            tokio::select! {
                value = rx.recv() => assert_eq!(value, Some(i)),
                () = tokio::time::sleep(FAR) => unreachable!("the timer is an hour away"),
            }
        }
        start.elapsed()
    })
}
