//! Cancel safety, as a property: a consumer that waits for "a message or
//! a timer, whichever first" — and so cancels a waiting `recv` every time
//! the timer wins — loses no message and duplicates none, whatever the
//! timings.
//!
//! On the event loop the consumer loops over `select(rx.recv(),
//! sleep(d))`; a producer task sends with random gaps, through a bounded
//! channel of random capacity (so the producer's `send` waits on a full
//! channel too). Waits of zero are frequent on purpose: a `sleep(0)` is
//! ready at once, so the `select` often cancels a `recv` that was about to
//! succeed.
//!
//! On the blocking runtime the same consumer uses `recv_timeout(d)`, the
//! blocking twin of `select(recv, sleep(d))`, against a producer thread.
//!
//! Every case runs under `within` (a watchdog thread), the event-loop run
//! under a `timeout` too. Timings are microseconds, so 64 cases take a few
//! seconds; set `PROPTEST_CASES` to try more.

mod support;

use duet::blocking;
use duet::event_loop::{Either, channel, select, sleep, spawn, yield_now};
use proptest::collection::vec;
use proptest::prelude::*;
use std::time::Duration;
use support::{bounded, runtime, within};

/// A gap or a wait, in microseconds; zero one time in three.
fn micros() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), 0u64..800, 0u64..800]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn select_recv_or_sleep_loses_and_duplicates_nothing(
        gaps in vec(micros(), 1..30),
        waits in vec(micros(), 1..30),
        capacity in 1usize..4,
    ) {
        let count = gaps.len();
        let (received, timer_wins) = within(move || {
            runtime().block_on(bounded(async move {
                let (tx, rx) = channel::bounded::<usize>(capacity);
                let producer = spawn(async move {
                    for (i, gap) in gaps.into_iter().enumerate() {
                        if gap == 0 {
                            yield_now().await;
                        } else {
                            sleep(Duration::from_micros(gap)).await;
                        }
                        tx.send(i).await.unwrap();
                    }
                });
                let (mut received, mut timer_wins) = (Vec::new(), 0);
                for wait in waits.iter().cycle() {
                    match select(rx.recv(), sleep(Duration::from_micros(*wait))).await {
                        Either::Left(Some(i)) => received.push(i),
                        Either::Left(None) => break,
                        Either::Right(()) => timer_wins += 1,
                    }
                }
                producer.await.unwrap();
                (received, timer_wins)
            }))
        });
        prop_assert_eq!(received, (0..count).collect::<Vec<_>>(), "timer won {} times", timer_wins);
    }

    #[test]
    fn recv_timeout_loses_and_duplicates_nothing(
        gaps in vec(micros(), 1..30),
        waits in vec(micros(), 1..30),
        capacity in 1usize..4,
    ) {
        let count = gaps.len();
        let received = within(move || {
            let (tx, rx) = blocking::channel::bounded::<usize>(capacity);
            let producer = blocking::spawn(move || {
                for (i, gap) in gaps.into_iter().enumerate() {
                    if gap == 0 {
                        blocking::yield_now();
                    } else {
                        blocking::sleep(Duration::from_micros(gap));
                    }
                    tx.send(i).unwrap();
                }
            });
            let mut received = Vec::new();
            for wait in waits.iter().cycle() {
                match rx.recv_timeout(Duration::from_micros(*wait)) {
                    Ok(Some(i)) => received.push(i),
                    Ok(None) => break,
                    Err(_elapsed) => {}
                }
            }
            producer.join().unwrap();
            received
        });
        prop_assert_eq!(received, (0..count).collect::<Vec<_>>());
    }
}
