//! `join`, `join_all` and `select`: outputs, order, which child is polled
//! when, the loser of a `select` dropped exactly once, fairness under an
//! always-ready side, and the `Cancelled` trace event.
//!
//! Poll counts are exact: each combinator promises to poll a child only
//! when that child's own waker was called (or to start it), so a test can
//! say "polled twice", not "polled a few times".
//!
//! Every test body runs under `within` (a watchdog thread) and every wait
//! inside the loop under `bounded` (a timeout).

mod support;

use duet::event_loop::channel::{self, oneshot};
use duet::event_loop::{Either, join, join_all, select, sleep, spawn, yield_now};
use duet::trace::{self, EventKind};
use std::cell::Cell;
use std::future::{Future, pending, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;
use support::{DropLog, Guard, bounded, runtime, within};

/// Wraps a future, counting its polls; holds a guard counted on drop.
struct Counted<F> {
    inner: Pin<Box<F>>,
    polls: Rc<Cell<u32>>,
    _guard: Guard,
}

fn counted<F: Future>(future: F, log: &DropLog) -> (Counted<F>, Rc<Cell<u32>>) {
    let polls = Rc::new(Cell::new(0));
    let wrapper = Counted {
        inner: Box::pin(future),
        polls: polls.clone(),
        _guard: log.guard(),
    };
    (wrapper, polls)
}

impl<F: Future> Future for Counted<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.set(self.polls.get() + 1);
        self.inner.as_mut().poll(cx)
    }
}

#[test]
fn join_gives_both_outputs_whoever_finishes_first() {
    within(|| {
        runtime().block_on(async {
            let slow_left = async {
                sleep(Duration::from_millis(5)).await;
                "left"
            };
            assert_eq!(bounded(join(slow_left, ready(2))).await, ("left", 2));
            let slow_right = async {
                sleep(Duration::from_millis(5)).await;
                "right"
            };
            assert_eq!(bounded(join(ready(1), slow_right)).await, (1, "right"));
        })
    });
}

#[test]
fn join_polls_only_the_child_that_was_woken() {
    within(|| {
        runtime().block_on(async {
            let log = DropLog::default();
            let (tx_a, rx_a) = channel::unbounded::<u8>();
            let (tx_b, rx_b) = channel::unbounded::<u8>();
            let (a, a_polls) = counted(async move { rx_a.recv().await }, &log);
            let (b, b_polls) = counted(async move { rx_b.recv().await }, &log);
            let feeder = spawn(async move {
                tx_a.send(1).await.unwrap();
                yield_now().await; // let the join run with only `a` woken
                tx_b.send(2).await.unwrap();
            });
            let out = bounded(join(a, b)).await;
            assert_eq!(out, (Some(1), Some(2)));
            // Each: one poll to start, one after its own message. A join
            // that polled both children on every wake would show 3 and 2.
            assert_eq!((a_polls.get(), b_polls.get()), (2, 2));
            assert_eq!(log.dropped(), 2);
            bounded(feeder).await.unwrap();
        })
    });
}

#[test]
fn join_all_gives_outputs_in_input_order() {
    within(|| {
        runtime().block_on(async {
            let delays = [20u64, 1, 10, 5, 0];
            let futures = delays.map(|ms| async move {
                sleep(Duration::from_millis(ms)).await;
                ms
            });
            assert_eq!(bounded(join_all(futures)).await, delays.to_vec());
            let none: Vec<std::future::Ready<u8>> = Vec::new();
            assert_eq!(join_all(none).await, Vec::<u8>::new());
        })
    });
}

#[test]
fn join_all_polls_each_child_once_per_wake() {
    within(|| {
        runtime().block_on(async {
            let log = DropLog::default();
            const N: usize = 100;
            let mut senders = Vec::new();
            let mut children = Vec::new();
            let mut counters = Vec::new();
            for _ in 0..N {
                let (tx, rx) = oneshot::oneshot::<usize>();
                let (child, polls) = counted(rx, &log);
                senders.push(tx);
                children.push(child);
                counters.push(polls);
            }
            // Fire them in reverse, one per turn of the loop.
            let firing = spawn(async move {
                for (i, tx) in senders.into_iter().enumerate().rev() {
                    tx.send(i).unwrap();
                    yield_now().await;
                }
            });
            let outputs = bounded(join_all(children)).await;
            let expected: Vec<Option<usize>> = (0..N).map(Some).collect();
            assert_eq!(outputs, expected);
            // Start, then one poll after its own value: 2 each, 200 in
            // all. Polling every child on every wake would be ~5,000.
            assert!(counters.iter().all(|c| c.get() == 2));
            assert_eq!(log.dropped(), N);
            bounded(firing).await.unwrap();
        })
    });
}

#[test]
fn select_drops_the_loser_exactly_once_before_it_returns() {
    within(|| {
        runtime().block_on(async {
            let log = DropLog::default();
            let (tx, rx) = channel::unbounded::<u8>();
            let (waiting, waiting_polls) = counted(async move { rx.recv().await }, &log);
            let (timer, timer_polls) = counted(sleep(Duration::from_millis(5)), &log);
            let out = bounded(select(waiting, timer)).await;
            assert_eq!(out, Either::Right(()));
            assert_eq!(log.dropped(), 2, "winner and loser are both gone");
            // The receiver was dropped with the loser: the channel is closed.
            assert!(tx.try_send(1).is_err());
            // recv: started once, never woken. sleep: started, then fired.
            assert_eq!((waiting_polls.get(), timer_polls.get()), (1, 2));
        })
    });
}

#[test]
fn select_returns_the_first_ready_side() {
    within(|| {
        runtime().block_on(async {
            let (tx, rx) = channel::unbounded::<u8>();
            tx.try_send(9).unwrap();
            let far = sleep(Duration::from_secs(3600));
            assert_eq!(bounded(select(rx.recv(), far)).await, Either::Left(Some(9)));
            let out = bounded(select(pending::<()>(), async { "right" })).await;
            assert_eq!(out, Either::Right("right"));
        })
    });
}

#[test]
fn select_is_fair_when_both_sides_are_always_ready() {
    within(|| {
        runtime().block_on(async {
            let (mut left, mut right) = (0, 0);
            for _ in 0..1000 {
                match select(ready(()), ready(())).await {
                    Either::Left(()) => left += 1,
                    Either::Right(()) => right += 1,
                }
            }
            // A fair coin, seeded: the same counts on every run, each
            // side near 500.
            assert!((400..=600).contains(&left), "left {left}, right {right}");
        })
    });
}

#[test]
fn an_always_ready_left_side_does_not_starve_the_right() {
    within(|| {
        runtime().block_on(async {
            // Left: a channel that is never empty. Right: twenty messages,
            // all queued before the loop starts. Both are ready every turn.
            let (busy_tx, busy_rx) = channel::unbounded::<u32>();
            let (tx, rx) = channel::unbounded::<u32>();
            let producer = spawn(async move {
                for i in 0..20 {
                    tx.try_send(i).unwrap();
                }
            });
            bounded(producer).await.unwrap();
            let mut got = Vec::new();
            let mut busy = 0;
            while got.len() < 20 {
                busy_tx.try_send(0).unwrap();
                match bounded(select(busy_rx.recv(), rx.recv())).await {
                    Either::Left(_) => busy += 1,
                    Either::Right(value) => got.push(value.unwrap()),
                }
            }
            assert_eq!(got, (0..20).collect::<Vec<_>>());
            // About one turn in two goes to each side; 20 is the average.
            assert!(busy <= 60, "the left side won {busy} times");
        })
    });
}

#[test]
fn select_says_in_the_trace_that_the_loser_was_cancelled() {
    // On this test's own thread (libtest names it after the test), so
    // that events of tests running alongside can be told apart; the one
    // wait is bounded by `bounded`.
    let ((), events) = trace::capture(|| {
        runtime().block_on(async {
            let (_tx, rx) = channel::unbounded::<u8>();
            let out = bounded(select(rx.recv(), sleep(Duration::from_millis(2)))).await;
            assert_eq!(out, Either::Right(()));
        })
    });
    let me = std::thread::current().name().unwrap().to_string();
    let cancelled: Vec<_> = events
        .iter()
        .filter(|e| e.thread == me && matches!(e.kind, EventKind::Cancelled { .. }))
        .collect();
    assert_eq!(cancelled.len(), 1, "one cancelled wait: {cancelled:?}");
    assert_eq!(
        cancelled[0].kind,
        EventKind::Cancelled {
            what: "select: left side lost"
        }
    );
    assert!(
        cancelled[0].task.is_some(),
        "names the task that dropped it"
    );
    let line = cancelled[0].to_string();
    assert!(line.contains("cancels a pending wait"), "{line}");
}

#[test]
fn a_child_woken_from_another_thread_wakes_the_join() {
    within(|| {
        runtime().block_on(async {
            let (tx, rx) = channel::unbounded::<u8>();
            let thread = std::thread::spawn(move || tx.try_send(3).unwrap());
            let out = bounded(join(rx.recv(), sleep(Duration::from_millis(1)))).await;
            assert_eq!(out, (Some(3), ()));
            thread.join().unwrap();
        })
    });
}

#[test]
fn send_on_a_full_channel_cancelled_by_select_drops_its_value() {
    within(|| {
        runtime().block_on(async {
            let log = DropLog::default();
            let (tx, rx) = channel::bounded::<Guard>(1);
            tx.try_send(log.guard()).unwrap();
            let out = bounded(select(
                tx.send(log.guard()),
                sleep(Duration::from_millis(2)),
            ))
            .await;
            assert!(matches!(out, Either::Right(())));
            // The second value went down with the cancelled send...
            assert_eq!((log.created(), log.dropped()), (2, 1));
            // ...and only the first is in the channel.
            assert!(rx.try_recv().is_some());
            assert!(rx.try_recv().is_none());
        })
    });
}

#[test]
fn a_read_cancelled_by_select_loses_nothing() {
    use duet::event_loop::net::{TcpListener, TcpStream};
    within(|| {
        runtime().block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let (client, accepted) =
                bounded(join(TcpStream::connect(addr), listener.accept())).await;
            let (mut client, mut server) = (client.unwrap(), accepted.unwrap().0);
            let mut buf = [0u8; 16];
            let out = bounded(select(
                server.read(&mut buf),
                sleep(Duration::from_millis(2)),
            ))
            .await;
            assert!(matches!(out, Either::Right(())));
            client.write_all(b"hello").await.unwrap();
            let n = bounded(server.read(&mut buf)).await.unwrap();
            assert_eq!(&buf[..n], b"hello");
        })
    });
}

/// What `docs/CANCELLATION.md` relies on to say "await it by `&mut`".
#[test]
fn the_futures_a_select_loop_reuses_are_unpin() {
    fn unpin<T: Unpin>() {}
    unpin::<duet::event_loop::Sleep>();
    unpin::<duet::event_loop::JoinHandle<String>>();
    unpin::<oneshot::Receiver<String>>();
    unpin::<duet::event_loop::Select<std::future::Pending<()>, std::future::Pending<()>>>();
}

#[test]
fn a_select_loop_can_keep_one_timer_by_mut() {
    within(|| {
        runtime().block_on(async {
            let (tx, rx) = channel::unbounded::<u8>();
            let mut tick = sleep(Duration::from_millis(20));
            for n in 0..3 {
                tx.try_send(n).unwrap();
                // The message wins; the timer is only borrowed, so it keeps
                // its deadline for the next round.
                assert_eq!(
                    bounded(select(rx.recv(), &mut tick)).await,
                    Either::Left(Some(n))
                );
            }
            assert_eq!(
                bounded(select(rx.recv(), &mut tick)).await,
                Either::Right(())
            );
        })
    });
}

/// The worked example of `docs/COMPOSING.md`, word for word (less its
/// `use` lines): a `join` that polls both children, with the
/// task's own waker, on every wake.
mod naive {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// Where one child is: still running, or finished with its output.
    enum Slot<F: Future> {
        Running(Pin<Box<F>>),
        Done(F::Output),
        Taken,
    }

    pub struct NaiveJoin<A: Future, B: Future> {
        a: Slot<A>,
        b: Slot<B>,
    }

    pub fn naive_join<A: Future, B: Future>(a: A, b: B) -> NaiveJoin<A, B> {
        NaiveJoin {
            a: Slot::Running(Box::pin(a)),
            b: Slot::Running(Box::pin(b)),
        }
    }

    impl<A: Future, B: Future> Unpin for NaiveJoin<A, B> {}

    impl<A: Future, B: Future> Future for NaiveJoin<A, B> {
        type Output = (A::Output, B::Output);

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let this = self.get_mut();
            // Poll every child that is not done yet, with *our* waker: whichever
            // of them wakes, our task is polled again, and we poll them again.
            if let Slot::Running(a) = &mut this.a
                && let Poll::Ready(out) = a.as_mut().poll(cx)
            {
                this.a = Slot::Done(out);
            }
            if let Slot::Running(b) = &mut this.b
                && let Poll::Ready(out) = b.as_mut().poll(cx)
            {
                this.b = Slot::Done(out);
            }
            // Ready only when both are.
            match (&mut this.a, &mut this.b) {
                (Slot::Done(_), Slot::Done(_)) => {
                    let Slot::Done(a) = std::mem::replace(&mut this.a, Slot::Taken) else {
                        unreachable!()
                    };
                    let Slot::Done(b) = std::mem::replace(&mut this.b, Slot::Taken) else {
                        unreachable!()
                    };
                    Poll::Ready((a, b))
                }
                _ => Poll::Pending,
            }
        }
    }
}

#[test]
fn a_naive_join_polls_both_children_on_every_wake() {
    within(|| {
        runtime().block_on(async {
            let log = DropLog::default();
            let (tx_a, rx_a) = channel::unbounded::<u8>();
            let (tx_b, rx_b) = channel::unbounded::<u8>();
            let (a, a_polls) = counted(async move { rx_a.recv().await }, &log);
            let (b, b_polls) = counted(async move { rx_b.recv().await }, &log);
            let feeder = spawn(async move {
                tx_a.send(1).await.unwrap();
                yield_now().await;
                tx_b.send(2).await.unwrap();
            });
            let out = bounded(naive::naive_join(a, b)).await;
            assert_eq!(out, (Some(1), Some(2)));
            // The same run as `join_polls_only_the_child_that_was_woken`:
            // here `b` is polled once more, when only `a` was woken.
            assert_eq!((a_polls.get(), b_polls.get()), (2, 3));
            bounded(feeder).await.unwrap();
        })
    });
}

#[test]
fn a_three_way_select_made_of_two_is_fair_too() {
    within(|| {
        runtime().block_on(async {
            // `select(a, select(b, c))`, all three always ready: two
            // selects are polled on every turn. A switch that simply
            // flipped at every select poll would flip twice per turn and
            // start the outer one on the same side every time.
            let mut wins = [0u32; 3];
            for _ in 0..900 {
                match select(ready(0), select(ready(1), ready(2))).await {
                    Either::Left(n) | Either::Right(Either::Left(n) | Either::Right(n)) => {
                        wins[n] += 1
                    }
                }
            }
            // Fair odds are 1/2, 1/4, 1/4: 450, 225, 225.
            assert!(wins.iter().all(|&w| w >= 150), "wins: {wins:?}");
        })
    });
}
