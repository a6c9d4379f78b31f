//! The two runtimes' channels behave alike. Each test plays one scenario
//! twice, once on `duet::blocking::channel` (threads, crossbeam) and once on
//! `duet::event_loop::channel` (tasks, written by hand), and checks that
//! both show the same, expected outcome. A program ported from one runtime
//! to the other must keep its meaning.
//!
//! No test may hang: each side runs on its own std thread, watched with
//! `recv_timeout`; the event-loop side also runs under a `timeout`.

mod support;
use support::*;

use duet::blocking::channel as bc;
use duet::event_loop::channel as ec;
use duet::event_loop::{self, timeout, yield_now};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

/// The blocking side of a scenario.
fn on_blocking<T: Send + 'static>(scenario: impl FnOnce() -> T + Send + 'static) -> T {
    within(move || duet::blocking::Runtime::new().block_on(scenario))
}

/// The event-loop side of a scenario, in a fresh runtime, under a timeout.
fn on_event_loop<T, F, Fut>(scenario: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T> + 'static,
{
    within(move || {
        let runtime = event_loop::Runtime::new().expect("an epoll instance");
        runtime
            .block_on(timeout(PATIENCE, scenario()))
            .expect("event_loop: timed out; this would have hung")
    })
}

/// A value that counts its drops.
struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn both_deliver_in_send_order() {
    // FIFO on one runtime and not the other would reorder a ported program's messages.
    let expected: Vec<u32> = (0..200).collect();
    for capacity in [None, Some(1), Some(3)] {
        let blocking = on_blocking(move || {
            let (tx, rx) = match capacity {
                None => bc::unbounded(),
                Some(n) => bc::bounded(n),
            };
            let producer = duet::blocking::spawn(move || {
                for i in 0..200 {
                    tx.send(i).unwrap();
                }
            });
            let got: Vec<u32> = std::iter::from_fn(|| rx.recv()).collect();
            producer.join().unwrap();
            got
        });
        let event_loop = on_event_loop(move || async move {
            let (tx, rx) = match capacity {
                None => ec::unbounded(),
                Some(n) => ec::bounded(n),
            };
            let producer = event_loop::spawn(async move {
                for i in 0..200 {
                    tx.send(i).await.unwrap();
                }
            });
            let mut got = Vec::new();
            while let Some(value) = rx.recv().await {
                got.push(value);
            }
            producer.await.unwrap();
            got
        });
        assert_eq!(blocking, expected, "blocking, capacity {capacity:?}");
        assert_eq!(event_loop, expected, "event_loop, capacity {capacity:?}");
    }
}

#[test]
fn both_keep_each_senders_order_with_several_sending_threads() {
    // Producers on std threads feed either runtime the same way; each stream must stay whole and ordered.
    const THREADS: usize = 4;
    const EACH: usize = 1_000;
    fn check(side: &str, received: Vec<(usize, usize)>) {
        let mut next = [0; THREADS];
        for (t, i) in received {
            assert_eq!(
                i, next[t],
                "{side}: thread {t} out of order, lost or duplicated"
            );
            next[t] += 1;
        }
        assert_eq!(next, [EACH; THREADS], "{side}: not everything arrived");
    }
    let blocking = on_blocking(|| {
        let (tx, rx) = bc::unbounded();
        for t in 0..THREADS {
            let tx = tx.clone();
            thread::spawn(move || (0..EACH).for_each(|i| tx.try_send((t, i)).unwrap()));
        }
        drop(tx);
        std::iter::from_fn(|| rx.recv()).collect()
    });
    let event_loop = on_event_loop(|| async {
        let (tx, rx) = ec::unbounded();
        for t in 0..THREADS {
            let tx = tx.clone();
            thread::spawn(move || (0..EACH).for_each(|i| tx.try_send((t, i)).unwrap()));
        }
        drop(tx);
        let mut got = Vec::new();
        while let Some(value) = rx.recv().await {
            got.push(value);
        }
        got
    });
    check("blocking", blocking);
    check("event_loop", event_loop);
}

/// What filling a bounded(n) channel shows: how many values fit, what the
/// refused one gave back, and whether exactly one more fits after one recv.
#[derive(Debug, PartialEq, Eq)]
struct Filling {
    accepted: usize,
    refused_as_full: Option<u32>,
    first_out: Option<u32>,
    fits_after_one_recv: usize,
}

#[test]
fn both_bounded_n_hold_exactly_n() {
    // The same capacity must mean the same memory bound and the same back-pressure point.
    for n in [1usize, 3, 16] {
        let blocking = on_blocking(move || {
            let (tx, rx) = bc::bounded(n);
            let mut value = 0;
            let refused_as_full = loop {
                match tx.try_send(value) {
                    Ok(()) => value += 1,
                    Err(bc::TrySendError::Full(v)) => break Some(v),
                    Err(bc::TrySendError::Closed(_)) => break None,
                }
                if value > 100 {
                    break None;
                }
            };
            let first_out = rx.try_recv();
            let fits_after_one_recv = (0..5).filter(|_| tx.try_send(7).is_ok()).count();
            Filling {
                accepted: value as usize,
                refused_as_full,
                first_out,
                fits_after_one_recv,
            }
        });
        let event_loop = on_event_loop(move || async move {
            let (tx, rx) = ec::bounded(n);
            let mut value = 0;
            let refused_as_full = loop {
                match tx.try_send(value) {
                    Ok(()) => value += 1,
                    Err(ec::TrySendError::Full(v)) => break Some(v),
                    Err(ec::TrySendError::Closed(_)) => break None,
                }
                if value > 100 {
                    break None;
                }
            };
            let first_out = rx.try_recv();
            let fits_after_one_recv = (0..5).filter(|_| tx.try_send(7).is_ok()).count();
            Filling {
                accepted: value as usize,
                refused_as_full,
                first_out,
                fits_after_one_recv,
            }
        });
        let expected = Filling {
            accepted: n,
            refused_as_full: Some(n as u32),
            first_out: Some(0),
            fits_after_one_recv: 1,
        };
        assert_eq!(blocking, expected, "blocking, bounded({n})");
        assert_eq!(event_loop, expected, "event_loop, bounded({n})");
    }
}

#[test]
fn both_give_none_once_every_sender_is_gone_and_the_queue_is_drained() {
    // A consumer loop `while let Some(v) = rx.recv()` must end, after the last value, on both runtimes.
    let expected = vec![Some(1), Some(2), Some(3), None, None];
    let blocking = on_blocking(|| {
        let (tx, rx) = bc::unbounded();
        let tx2 = tx.clone();
        tx.send(1).unwrap();
        tx2.send(2).unwrap();
        drop(tx);
        tx2.send(3).unwrap();
        drop(tx2);
        (0..5).map(|_| rx.recv()).collect::<Vec<_>>()
    });
    let event_loop = on_event_loop(|| async {
        let (tx, rx) = ec::unbounded();
        let tx2 = tx.clone();
        tx.send(1).await.unwrap();
        tx2.send(2).await.unwrap();
        drop(tx);
        tx2.send(3).await.unwrap();
        drop(tx2);
        let mut got = Vec::new();
        for _ in 0..5 {
            got.push(rx.recv().await);
        }
        got
    });
    assert_eq!(blocking, expected, "blocking");
    assert_eq!(event_loop, expected, "event_loop");
}

#[test]
fn both_wake_a_waiting_receiver_with_none_when_the_last_sender_drops() {
    // A consumer parked on an empty channel whose producers quit must wake up on either runtime.
    let blocking = on_blocking(|| {
        let (tx, rx) = bc::unbounded::<u8>();
        let consumer = duet::blocking::spawn(move || rx.recv());
        drop(tx);
        consumer.join().unwrap()
    });
    let event_loop = on_event_loop(|| async {
        let (tx, rx) = ec::unbounded::<u8>();
        let consumer = event_loop::spawn(async move { rx.recv().await });
        yield_now().await; // let it wait first
        drop(tx);
        consumer.await.unwrap()
    });
    assert_eq!(blocking, None, "blocking");
    assert_eq!(event_loop, None, "event_loop");
}

#[test]
fn both_fail_a_send_with_its_value_once_the_receiver_is_gone() {
    // The same error, with the value handed back, so the same recovery code works on both.
    let expected = (Err(bc::SendError(5)), Some(6));
    let blocking = on_blocking(|| {
        let (tx, rx) = bc::bounded(4);
        drop(rx);
        let sent = tx.send(5);
        let closed = match tx.try_send(6) {
            Err(bc::TrySendError::Closed(v)) => Some(v),
            _ => None,
        };
        (sent, closed)
    });
    let event_loop = on_event_loop(|| async {
        let (tx, rx) = ec::bounded(4);
        drop(rx);
        let sent = tx.send(5).await;
        let closed = match tx.try_send(6) {
            Err(ec::TrySendError::Closed(v)) => Some(v),
            _ => None,
        };
        (sent, closed)
    });
    assert_eq!(blocking, expected, "blocking");
    assert_eq!(event_loop, expected, "event_loop");
}

#[test]
fn both_release_a_sender_waiting_on_a_full_channel_with_err_when_the_receiver_drops() {
    // A producer stuck on a dead consumer must get its value back on either runtime, not wait forever.
    let blocking = on_blocking(|| {
        let (tx, rx) = bc::bounded(1);
        tx.send(0).unwrap();
        let producer = duet::blocking::spawn(move || tx.send(1));
        drop(rx);
        producer.join().unwrap()
    });
    let event_loop = on_event_loop(|| async {
        let (tx, rx) = ec::bounded(1);
        tx.send(0).await.unwrap();
        let producer = event_loop::spawn(async move { tx.send(1).await });
        yield_now().await; // let it wait first
        drop(rx);
        producer.await.unwrap()
    });
    assert_eq!(blocking, Err(bc::SendError(1)), "blocking");
    assert_eq!(event_loop, Err(ec::SendError(1)), "event_loop");
}

#[test]
fn both_drop_queued_values_when_the_receiver_drops() {
    // Queued values may own memory or sockets; a live sender must not keep them alive for nobody.
    // Seen as (drops after the receiver goes, drops after the senders go too).
    let expected = (3, 3);
    for capacity in [None, Some(4)] {
        let blocking = on_blocking(move || {
            let drops = Arc::new(AtomicUsize::new(0));
            let (tx, rx) = match capacity {
                None => bc::unbounded(),
                Some(n) => bc::bounded(n),
            };
            (0..3).for_each(|_| tx.send(Tracked(drops.clone())).unwrap());
            drop(rx);
            let after_receiver = drops.load(Ordering::SeqCst);
            drop(tx);
            (after_receiver, drops.load(Ordering::SeqCst))
        });
        let event_loop = on_event_loop(move || async move {
            let drops = Arc::new(AtomicUsize::new(0));
            let (tx, rx) = match capacity {
                None => ec::unbounded(),
                Some(n) => ec::bounded(n),
            };
            for _ in 0..3 {
                tx.send(Tracked(drops.clone())).await.unwrap();
            }
            drop(rx);
            let after_receiver = drops.load(Ordering::SeqCst);
            drop(tx);
            (after_receiver, drops.load(Ordering::SeqCst))
        });
        assert_eq!(event_loop, expected, "event_loop, capacity {capacity:?}");
        assert_eq!(blocking, expected, "blocking, capacity {capacity:?}");
    }
}

#[test]
fn both_share_one_receiver_among_several_workers_without_loss_or_duplicates() {
    // A worker pool ported between runtimes must still do every job exactly once.
    const WORKERS: usize = 4;
    const JOBS: u32 = 500;
    let expected: Vec<u32> = (0..JOBS).collect();
    let mut blocking = on_blocking(|| {
        let (tx, rx) = bc::bounded(4);
        let rx = Arc::new(rx);
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                let rx = rx.clone();
                duet::blocking::spawn(move || std::iter::from_fn(|| rx.recv()).collect::<Vec<_>>())
            })
            .collect();
        (0..JOBS).for_each(|i| tx.send(i).unwrap());
        drop(tx);
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect::<Vec<_>>()
    });
    let mut event_loop = on_event_loop(|| async {
        let (tx, rx) = ec::bounded(4);
        let rx = std::rc::Rc::new(rx);
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                let rx = rx.clone();
                event_loop::spawn(async move {
                    let mut mine = Vec::new();
                    while let Some(job) = rx.recv().await {
                        mine.push(job);
                    }
                    mine
                })
            })
            .collect();
        for i in 0..JOBS {
            tx.send(i).await.unwrap();
        }
        drop(tx);
        let mut all = Vec::new();
        for worker in workers {
            all.extend(worker.await.unwrap());
        }
        all
    });
    blocking.sort_unstable();
    event_loop.sort_unstable();
    assert_eq!(blocking, expected, "blocking");
    assert_eq!(event_loop, expected, "event_loop");
}

#[test]
fn both_oneshots_deliver_the_value() {
    // A reply channel: the answer arrives on both runtimes, whichever side is first.
    let blocking = on_blocking(|| {
        let (tx, rx) = bc::oneshot();
        let replier = duet::blocking::spawn(move || tx.send(String::from("answer")));
        let got = rx.recv();
        (got, replier.join().unwrap())
    });
    let event_loop = on_event_loop(|| async {
        let (tx, rx) = ec::oneshot();
        let replier = event_loop::spawn(async move { tx.send(String::from("answer")) });
        let got = rx.recv().await;
        (got, replier.await.unwrap())
    });
    let expected = (Some(String::from("answer")), Ok(()));
    assert_eq!(blocking, expected, "blocking");
    assert_eq!(event_loop, expected, "event_loop");
}

#[test]
fn both_oneshots_give_none_when_the_sender_drops_without_sending() {
    // A worker that dies without replying must end the wait with None on both runtimes.
    let blocking = on_blocking(|| {
        let (tx, rx) = bc::oneshot::<u8>();
        let waiter = duet::blocking::spawn(move || rx.recv());
        drop(tx);
        waiter.join().unwrap()
    });
    let event_loop = on_event_loop(|| async {
        let (tx, rx) = ec::oneshot::<u8>();
        let waiter = event_loop::spawn(rx.recv());
        yield_now().await; // let it wait first
        drop(tx);
        waiter.await.unwrap()
    });
    assert_eq!(blocking, None, "blocking");
    assert_eq!(event_loop, None, "event_loop");
}

#[test]
fn both_oneshots_hand_the_value_back_when_the_receiver_is_gone() {
    // The replier learns nobody listens, and keeps its value, on both runtimes.
    let blocking = on_blocking(|| {
        let (tx, rx) = bc::oneshot();
        drop(rx);
        tx.send(9)
    });
    let event_loop = on_event_loop(|| async {
        let (tx, rx) = ec::oneshot();
        drop(rx);
        tx.send(9)
    });
    assert_eq!(blocking, Err(9), "blocking");
    assert_eq!(event_loop, Err(9), "event_loop");
}
