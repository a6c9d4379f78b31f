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
//! Two more properties pin down the combinators' polling, exactly: a
//! child that yields `k` times needs `k + 1` polls, and `join_all` gives
//! it exactly that many, outputs in input order; `select` of two such
//! children is won by the one with fewer yields, and its loser is dropped
//! once, having been polled no more than the winner.
//!
//! Every case runs under `within` (a watchdog thread), the event-loop run
//! under a `timeout` too. Timings are microseconds, so 64 cases take a few
//! seconds; set `PROPTEST_CASES` to try more.

mod support;

use duet::blocking;
use duet::event_loop::{Either, channel, join_all, select, sleep, spawn, yield_now};
use proptest::collection::vec;
use proptest::prelude::*;
use std::cell::Cell;
use std::future::{Future, poll_fn};
use std::rc::Rc;
use std::time::Duration;
use support::{DropLog, bounded, runtime, within};

/// A child that yields `yields` times, then gives `output`. Each yield
/// wakes its own waker once, so it needs exactly `yields + 1` polls. Its
/// polls are counted in `polls` (by the wrapper, not by the child), its
/// drop in `log`.
fn yielder(
    yields: u32,
    output: usize,
    polls: Rc<Cell<u32>>,
    log: DropLog,
) -> impl Future<Output = usize> {
    let guard = log.guard();
    let mut child = Box::pin(async move {
        let _guard = guard;
        for _ in 0..yields {
            yield_now().await;
        }
        output
    });
    poll_fn(move |cx| {
        polls.set(polls.get() + 1);
        child.as_mut().poll(cx)
    })
}

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

    #[test]
    fn join_all_polls_each_child_as_often_as_it_asks(yields in vec(0u32..6, 0..40)) {
        let n = yields.len();
        let yields_copy = yields.clone();
        let (outputs, polls, dropped) = within(move || {
            runtime().block_on(bounded(async move {
                let log = DropLog::default();
                let counters: Vec<Rc<Cell<u32>>> = (0..n).map(|_| Rc::new(Cell::new(0))).collect();
                let children = yields.iter().enumerate().map(|(i, &k)| {
                    yielder(k, i, counters[i].clone(), log.clone())
                });
                let outputs = join_all(children).await;
                let polls: Vec<u32> = counters.iter().map(|c| c.get()).collect();
                (outputs, polls, log.dropped())
            }))
        });
        prop_assert_eq!(outputs, (0..n).collect::<Vec<_>>());
        // Exactly what each child needed: no poll without its own wake.
        let needed: Vec<u32> = yields_copy.iter().map(|k| k + 1).collect();
        prop_assert_eq!(polls, needed);
        prop_assert_eq!(dropped, n);
    }

    #[test]
    fn select_is_won_by_the_child_that_needs_fewer_polls(left in 0u32..8, right in 0u32..8) {
        let (winner, polls, dropped) = within(move || {
            runtime().block_on(bounded(async move {
                let log = DropLog::default();
                let (l, r) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
                let out = select(
                    yielder(left, 0, l.clone(), log.clone()),
                    yielder(right, 1, r.clone(), log.clone()),
                )
                .await;
                let winner = match out {
                    Either::Left(n) | Either::Right(n) => n,
                };
                (winner, [l.get(), r.get()], log.dropped())
            }))
        });
        let need = [left + 1, right + 1];
        if left != right {
            prop_assert_eq!(winner, usize::from(right < left));
        }
        // The winner got exactly what it needed; the loser no more.
        prop_assert_eq!(polls[winner], need[winner]);
        prop_assert!(polls[1 - winner] <= need[winner]);
        // Both were dropped, once each, by the time select returned.
        prop_assert_eq!(dropped, 2);
    }
}
