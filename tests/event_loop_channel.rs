//! The event loop's hand-written channels (`bounded`, `unbounded`,
//! `oneshot`): the rules programs rely on. Each test is named for one rule,
//! with a line on why the rule matters.
//!
//! No test may hang. Every test body runs on its own std thread inside a
//! fresh `Runtime`, under a `timeout` (a bug that leaves a future waiting
//! fails the test) and a watchdog `recv_timeout` on that thread (a bug that
//! stalls the loop itself fails it too). Tests synchronise through flags,
//! counters and the channels' own `Debug` gauges (how many values are
//! queued, how many futures wait), never through sleeps. The few short
//! `timeout`s below are the thing under test (a cancelled wait), not a way
//! to wait for something else.

use duet::event_loop::channel::{self, Receiver, SendError, Sender, TrySendError, oneshot};
use duet::event_loop::{Runtime, spawn, spawn_blocking, timeout, yield_now};
use std::cell::Cell;
use std::fmt::Debug;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

/// Long enough for any healthy machine, short enough to fail fast.
const PATIENCE: Duration = Duration::from_secs(5);

/// How long a wait runs before the test cancels it on purpose.
const GIVE_UP_AFTER: Duration = Duration::from_millis(20);

// ---------------------------------------------------------------- helpers

/// Runs the async test body on its own thread, in a fresh runtime, under a
/// `timeout`; fails the test (instead of hanging) if the body does not
/// finish within `PATIENCE`, or if the loop itself stalls.
fn run<F, Fut>(body: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let (done_tx, done_rx) = mpsc::channel();
    let thread = thread::spawn(move || {
        let runtime = Runtime::new().expect("the OS gave us an epoll instance");
        runtime.block_on(patiently(body()));
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(PATIENCE + Duration::from_secs(2)) {
        Ok(()) => thread.join().expect("the body finished"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The body panicked: pass its panic on, message and all.
            std::panic::resume_unwind(thread.join().expect_err("it sent nothing"))
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("the event loop hung: even its timer could not end the test")
        }
    }
}

/// Awaits `future`, failing the test instead of hanging if it takes longer
/// than `PATIENCE`.
async fn patiently<F: Future>(future: F) -> F::Output {
    match timeout(PATIENCE, future).await {
        Ok(output) => output,
        Err(_) => panic!("timed out after {PATIENCE:?}: a bug made this wait endless"),
    }
}

/// Yields to the other tasks until `condition` holds; fails the test if it
/// still does not after 1,000 turns. For events on this loop only.
async fn yield_until(what: &str, mut condition: impl FnMut() -> bool) {
    for _ in 0..1_000 {
        if condition() {
            return;
        }
        yield_now().await;
    }
    panic!("after 1,000 yields, still not true: {what}");
}

/// Spins a std thread until `condition` holds, failing after `PATIENCE`.
fn spin_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        thread::yield_now();
    }
}

/// Polls `future` exactly once, from inside a task, and says what it gave.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}

/// What a channel end's `Debug` shows: the window onto parked wakers.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
struct Gauges {
    queued: usize,
    receivers_waiting: usize,
    senders_waiting: usize,
}

impl Gauges {
    /// Nothing queued, nobody waiting: no dangling waker.
    const IDLE: Gauges = Gauges {
        queued: 0,
        receivers_waiting: 0,
        senders_waiting: 0,
    };
}

/// Reads the gauges from `Receiver { queued: N, receivers_waiting: A, senders_waiting: B }`.
fn gauges(end: &impl Debug) -> Gauges {
    let text = format!("{end:?}");
    let field = |name: &str| -> usize {
        let key = format!(" {name}: ");
        let start = text
            .find(&key)
            .unwrap_or_else(|| panic!("no `{name}` in the Debug output {text:?}"))
            + key.len();
        text[start..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap_or_else(|_| panic!("`{name}` is not a number in {text:?}"))
    };
    Gauges {
        queued: field("queued"),
        receivers_waiting: field("receivers_waiting"),
        senders_waiting: field("senders_waiting"),
    }
}

/// A waker that only counts how often it was woken, so a test can tell
/// exactly which waiting future a channel chose.
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (Waker, Arc<CountingWaker>) {
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    (Waker::from(counter.clone()), counter)
}

impl CountingWaker {
    fn wakes(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// A value that counts its drops, to catch leaked or double-dropped values.
struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

// ---------------------------------------------------------------- basics

#[test]
fn channel_ends_are_send_and_sync_when_the_value_is_send() {
    // A Sender must reach std threads, spawn_blocking and other runtimes; a Receiver may be shared via Arc.
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<Sender<String>>();
    send_and_sync::<Receiver<String>>();
    send_and_sync::<oneshot::Sender<String>>();
    send_and_sync::<oneshot::Receiver<String>>();
}

#[test]
fn values_arrive_in_the_order_they_were_sent() {
    // FIFO is what makes a channel a queue: a stream of commands or bytes must not be reordered.
    run(|| async {
        let (tx, rx) = channel::unbounded();
        for i in 0..100 {
            if i % 2 == 0 {
                tx.send(i).await.unwrap();
            } else {
                tx.try_send(i).unwrap();
            }
        }
        for i in 0..100 {
            assert_eq!(rx.recv().await, Some(i));
        }

        let (tx, rx) = channel::bounded(3);
        let producer = spawn(async move {
            for i in 0..100 {
                tx.send(i).await.unwrap();
            }
        });
        for i in 0..100 {
            assert_eq!(rx.recv().await, Some(i), "bounded channel, value {i}");
        }
        assert_eq!(rx.recv().await, None);
        producer.await.unwrap();
    });
}

#[test]
fn bounded_n_holds_exactly_n_values() {
    // The capacity is the memory bound a program is promised: not n - 1 (a stall), not n + 1 (a leak).
    run(|| async {
        for n in [1, 3, 16] {
            let (tx, rx) = channel::bounded(n);
            for i in 0..n {
                tx.try_send(i)
                    .unwrap_or_else(|e| panic!("value {i} of {n}: {e}"));
            }
            assert_eq!(gauges(&rx).queued, n);
            match tx.try_send(99) {
                Err(TrySendError::Full(99)) => {}
                other => panic!("bounded({n}): expected Full(99) on value n + 1, got {other:?}"),
            }
            assert_eq!(rx.try_recv(), Some(0));
            tx.try_send(99)
                .expect("one slot freed, so exactly one value fits");
            assert!(matches!(tx.try_send(100), Err(TrySendError::Full(100))));
            assert_eq!(gauges(&rx).queued, n);
        }
    });
}

#[test]
#[should_panic(expected = "capacity must be at least 1")]
fn bounded_zero_is_refused() {
    // Neither runtime has a rendezvous channel; a 0 must fail loudly, not deadlock the first send.
    let _ = channel::bounded::<u8>(0);
}

#[test]
fn a_sender_waits_exactly_while_the_channel_is_full() {
    // Back-pressure: a fast producer is held at n values and let go by one recv, neither sooner nor later.
    run(|| async {
        const N: usize = 3;
        let (tx, rx) = channel::bounded(N);
        let sent = Rc::new(Cell::new(0));
        let producer = spawn({
            let sent = sent.clone();
            async move {
                for i in 0..=N {
                    tx.send(i).await.unwrap();
                    sent.set(sent.get() + 1);
                }
            }
        });

        yield_until("the producer has sent n values", || sent.get() == N).await;
        yield_until("the producer waits for a slot", || {
            gauges(&rx).senders_waiting == 1
        })
        .await;
        for _ in 0..20 {
            yield_now().await; // every chance to slip a value past the limit
        }
        assert_eq!(sent.get(), N, "the (n + 1)-th send must still be waiting");
        assert!(!producer.is_finished());
        assert_eq!(
            gauges(&rx),
            Gauges {
                queued: N,
                receivers_waiting: 0,
                senders_waiting: 1
            }
        );

        assert_eq!(rx.recv().await, Some(0)); // frees one slot
        yield_until("the waiting send completes after one recv", || {
            sent.get() == N + 1
        })
        .await;
        patiently(producer).await.unwrap();
        for i in 1..=N {
            assert_eq!(rx.recv().await, Some(i));
        }
        assert_eq!(rx.recv().await, None);
        assert_eq!(gauges(&rx), Gauges::IDLE);
    });
}

// ---------------------------------------------------------------- closing

#[test]
fn send_fails_with_the_value_once_the_receiver_is_gone() {
    // Nobody will ever read it: the sender must hear so, and get its value back to reuse or report.
    run(|| async {
        let (tx, rx) = channel::bounded(4);
        drop(rx);
        let err = tx.send(String::from("lost?")).await.unwrap_err();
        assert_eq!(err.0, "lost?");
        assert_eq!(err.to_string(), "sending on a closed channel");
        match tx.try_send(String::from("again")) {
            Err(TrySendError::Closed(value)) => assert_eq!(value, "again"),
            other => panic!("expected Closed, got {other:?}"),
        }

        let (tx, rx) = channel::unbounded();
        drop(rx);
        assert_eq!(tx.send(5).await, Err(SendError(5)));
    });
}

#[test]
fn senders_waiting_on_a_full_channel_are_released_with_err_carrying_their_value() {
    // A producer blocked on a consumer that died must not wait forever, and must not lose its value.
    run(|| async {
        let (tx, rx) = channel::bounded(1);
        tx.try_send(0).unwrap();
        let waiters: Vec<_> = (1..=3)
            .map(|i| {
                let tx = tx.clone();
                spawn(async move { tx.send(i).await })
            })
            .collect();
        yield_until("three senders wait", || gauges(&rx).senders_waiting == 3).await;

        drop(rx);
        for (i, waiter) in (1..=3).zip(waiters) {
            assert_eq!(patiently(waiter).await.unwrap(), Err(SendError(i)));
        }
        assert_eq!(gauges(&tx), Gauges::IDLE, "no waker left behind");
    });
}

#[test]
fn values_left_in_the_channel_are_dropped_when_the_receiver_drops() {
    // Queued values may own memory, files or sockets: they must not outlive their only reader.
    run(|| async {
        for capacity in [None, Some(4)] {
            let drops = Arc::new(AtomicUsize::new(0));
            let (tx, rx) = match capacity {
                None => channel::unbounded(),
                Some(n) => channel::bounded(n),
            };
            for _ in 0..3 {
                tx.send(Tracked(drops.clone())).await.unwrap();
            }
            assert_eq!(drops.load(Ordering::SeqCst), 0);
            drop(rx); // the sender is still alive
            assert_eq!(
                drops.load(Ordering::SeqCst),
                3,
                "capacity {capacity:?}: every queued value dropped with the receiver"
            );

            // A value refused later is handed back, not dropped by the channel.
            let refused = tx.try_send(Tracked(drops.clone())).unwrap_err();
            assert_eq!(drops.load(Ordering::SeqCst), 3);
            drop(refused);
            assert_eq!(drops.load(Ordering::SeqCst), 4, "dropped exactly once");
            drop(tx);
            assert_eq!(drops.load(Ordering::SeqCst), 4, "nothing dropped twice");
        }
    });
}

#[test]
fn recv_gives_none_only_once_every_sender_is_gone_and_the_queue_is_drained() {
    // None is how a consumer loop learns the work is over: not early (losing values), not never (hanging).
    run(|| async {
        let (tx, rx) = channel::unbounded();
        let tx2 = tx.clone();
        tx.send(1).await.unwrap();
        tx2.send(2).await.unwrap();
        drop(tx);

        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(2));
        let mut waiting = Box::pin(rx.recv());
        assert!(
            poll_once(&mut waiting).await.is_pending(),
            "one sender is still alive: recv must wait, not give None"
        );
        drop(waiting);

        tx2.send(3).await.unwrap();
        drop(tx2);
        assert_eq!(
            rx.recv().await,
            Some(3),
            "values sent before the drop come first"
        );
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.recv().await, None, "None stays None");
        assert_eq!(rx.try_recv(), None);
        assert_eq!(gauges(&rx), Gauges::IDLE);
    });
}

#[test]
fn a_waiting_receiver_is_woken_by_the_last_senders_drop() {
    // The classic hang: a consumer parked on an empty channel whose producers all quit.
    run(|| async {
        let (tx, rx) = channel::unbounded::<u32>();
        let tx2 = tx.clone();
        let consumer = spawn(async move { rx.recv().await });
        yield_until("the consumer waits", || gauges(&tx).receivers_waiting == 1).await;

        drop(tx2);
        for _ in 0..20 {
            yield_now().await;
        }
        assert!(
            !consumer.is_finished(),
            "a sender is still alive: the consumer must keep waiting"
        );

        drop(tx); // the last one
        assert_eq!(patiently(consumer).await.unwrap(), None);
    });
}

// ---------------------------------------------------------------- threads

#[test]
fn try_send_from_8_std_threads_delivers_everything_in_per_sender_order() {
    // std threads feed the loop this way; each producer's stream must arrive whole and in order.
    run(|| async {
        const THREADS: usize = 8;
        const EACH: usize = 10_000;
        let (tx, rx) = channel::unbounded();
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let tx = tx.clone();
                thread::spawn(move || {
                    for i in 0..EACH {
                        tx.try_send((t, i))
                            .expect("unbounded and the receiver lives");
                    }
                })
            })
            .collect();
        drop(tx);

        let mut next = [0; THREADS];
        let mut total = 0;
        while let Some((t, i)) = rx.recv().await {
            assert_eq!(i, next[t], "thread {t}: out of order, lost or duplicated");
            next[t] += 1;
            total += 1;
        }
        assert_eq!(total, THREADS * EACH);
        assert_eq!(next, [EACH; THREADS]);
        for thread in threads {
            thread
                .join()
                .expect("the producer finished without panicking");
        }
    });
}

#[test]
fn async_send_from_8_other_runtimes_delivers_everything_in_per_sender_order() {
    // A sender waiting in another thread's loop must be woken from this loop, and this loop from it.
    run(|| async {
        const THREADS: usize = 8;
        const EACH: usize = 2_000;
        let (tx, rx) = channel::bounded(16);
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let tx = tx.clone();
                thread::spawn(move || {
                    let runtime = Runtime::new().expect("an epoll instance per thread");
                    runtime.block_on(async move {
                        for i in 0..EACH {
                            patiently(tx.send((t, i)))
                                .await
                                .expect("the receiver lives");
                        }
                    });
                })
            })
            .collect();
        drop(tx);

        let mut next = [0; THREADS];
        let mut total = 0;
        while let Some((t, i)) = rx.recv().await {
            assert_eq!(i, next[t], "runtime {t}: out of order, lost or duplicated");
            next[t] += 1;
            total += 1;
        }
        assert_eq!(next, [EACH; THREADS], "None came before every value did");
        assert_eq!(total, THREADS * EACH);
        for thread in threads {
            thread.join().expect("the sending runtime finished cleanly");
        }
        assert_eq!(gauges(&rx), Gauges::IDLE);
    });
}

#[test]
fn a_send_from_spawn_blocking_wakes_the_parked_loop() {
    // The loop sleeps in the kernel while it waits; a value from another thread must get it up.
    run(|| async {
        let (tx, rx) = channel::unbounded();
        let helper = spawn_blocking(move || {
            // Send only once the loop's recv has parked its waker.
            spin_until("the loop's recv waits", || {
                gauges(&tx).receivers_waiting == 1
            });
            tx.try_send(42).expect("the receiver lives");
        });
        assert_eq!(rx.recv().await, Some(42));
        patiently(helper).await.unwrap();
        assert_eq!(rx.recv().await, None, "the helper's sender is gone");
    });
}

// ---------------------------------------------------------------- several receivers

#[test]
fn several_tasks_receiving_at_once_get_every_message_exactly_once() {
    // Worker pools share one Receiver: no job may be lost or done twice.
    run(|| async {
        const WORKERS: usize = 4;
        const MESSAGES: usize = 1_000;
        let (tx, rx) = channel::bounded(4);
        let rx = Rc::new(rx);
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                let rx = rx.clone();
                spawn(async move {
                    let mut mine = Vec::new();
                    while let Some(value) = rx.recv().await {
                        mine.push(value);
                        if value % 7 == 0 {
                            yield_now().await; // mix up who waits when
                        }
                    }
                    mine
                })
            })
            .collect();
        yield_until("every worker waits", || {
            gauges(&rx).receivers_waiting == WORKERS
        })
        .await;

        for i in 0..MESSAGES {
            patiently(tx.send(i)).await.unwrap();
        }
        drop(tx);

        let mut all = Vec::new();
        let mut busy = 0;
        for worker in workers {
            let mine = patiently(worker).await.unwrap();
            assert!(
                mine.windows(2).all(|w| w[0] < w[1]),
                "each worker sees its share in send order"
            );
            busy += usize::from(!mine.is_empty());
            all.extend(mine);
        }
        all.sort_unstable();
        assert_eq!(
            all,
            (0..MESSAGES).collect::<Vec<_>>(),
            "no loss, no duplicate"
        );
        assert!(busy > 1, "the work was shared, not taken by one worker");
        assert_eq!(gauges(&rx), Gauges::IDLE);
    });
}

// ---------------------------------------------------------------- cancellation

#[test]
fn a_recv_cancelled_by_timeout_leaves_no_waker_and_the_next_send_reaches_the_next_waiter() {
    // A stale waker left in line would swallow the wake-up meant for the receiver still waiting.
    run(|| async {
        let (tx, rx) = channel::unbounded();
        let rx = Rc::new(rx);

        assert!(timeout(GIVE_UP_AFTER, rx.recv()).await.is_err());
        assert_eq!(
            gauges(&rx),
            Gauges::IDLE,
            "the cancelled recv left the line"
        );

        // Now the cancelled one is first in line, the other task second.
        let mut impatient = Box::pin(timeout(GIVE_UP_AFTER, rx.recv()));
        assert!(poll_once(&mut impatient).await.is_pending());
        let patient = spawn({
            let rx = rx.clone();
            async move { rx.recv().await }
        });
        yield_until("two receivers wait", || gauges(&rx).receivers_waiting == 2).await;
        assert!(patiently(impatient).await.is_err(), "it gives up");
        assert_eq!(gauges(&rx).receivers_waiting, 1);

        tx.try_send(5).unwrap();
        assert_eq!(patiently(patient).await.unwrap(), Some(5));
        assert_eq!(gauges(&rx), Gauges::IDLE);
    });
}

#[test]
fn a_receiving_task_aborted_while_waiting_leaves_no_waker() {
    // abort drops the future; the channel must forget it, not keep waking a dead task.
    run(|| async {
        let (tx, rx) = channel::unbounded::<u8>();
        let rx = Rc::new(rx);
        let doomed = spawn({
            let rx = rx.clone();
            async move { rx.recv().await }
        });
        yield_until("the task waits", || gauges(&rx).receivers_waiting == 1).await;
        doomed.abort();
        assert!(patiently(doomed).await.unwrap_err().is_cancelled());
        assert_eq!(gauges(&rx), Gauges::IDLE);
        tx.try_send(1).unwrap();
        assert_eq!(
            rx.recv().await,
            Some(1),
            "the value waits for the next recv"
        );
    });
}

#[test]
fn a_send_cancelled_by_timeout_leaves_no_waker_and_the_freed_slot_reaches_the_next_sender() {
    // Same rule for senders: a dead sender in line must not take the slot a live one waits for.
    run(|| async {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = channel::bounded(1);
        tx.try_send(Tracked(drops.clone())).unwrap();

        assert!(
            timeout(GIVE_UP_AFTER, tx.send(Tracked(drops.clone())))
                .await
                .is_err()
        );
        assert_eq!(
            gauges(&rx),
            Gauges {
                queued: 1,
                receivers_waiting: 0,
                senders_waiting: 0
            }
        );
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "the cancelled send's value is dropped with it, never sent"
        );

        let mut impatient = Box::pin(timeout(GIVE_UP_AFTER, tx.send(Tracked(drops.clone()))));
        assert!(poll_once(&mut impatient).await.is_pending());
        let patient = spawn({
            let tx = tx.clone();
            let drops = drops.clone();
            async move { tx.send(Tracked(drops)).await.is_ok() }
        });
        yield_until("two senders wait", || gauges(&rx).senders_waiting == 2).await;
        assert!(patiently(impatient).await.is_err(), "it gives up");
        assert_eq!(drops.load(Ordering::SeqCst), 2);
        assert_eq!(gauges(&rx).senders_waiting, 1);

        assert!(rx.recv().await.is_some()); // frees the slot
        assert!(
            patiently(patient).await.unwrap(),
            "the live sender got the slot"
        );
        assert!(rx.try_recv().is_some());
        assert!(rx.try_recv().is_none(), "no cancelled value slipped in");
        assert_eq!(gauges(&rx), Gauges::IDLE);
    });
}

#[test]
fn a_receiver_chosen_then_cancelled_passes_its_wake_up_to_the_next_receiver() {
    // The send already picked the first waiter; if it dies unpolled, the next must be woken instead.
    run(|| async {
        let (tx, rx) = channel::unbounded();
        let (first_waker, first) = counting_waker();
        let (second_waker, second) = counting_waker();
        let mut first_recv = Box::pin(rx.recv());
        let mut second_recv = Box::pin(rx.recv());
        assert!(
            first_recv
                .as_mut()
                .poll(&mut Context::from_waker(&first_waker))
                .is_pending()
        );
        assert!(
            second_recv
                .as_mut()
                .poll(&mut Context::from_waker(&second_waker))
                .is_pending()
        );
        assert_eq!(gauges(&rx).receivers_waiting, 2);

        tx.try_send(7).unwrap();
        assert_eq!(
            (first.wakes(), second.wakes()),
            (1, 0),
            "a send wakes the oldest waiter, and only it"
        );

        drop(first_recv); // chosen, never polled again
        assert_eq!(
            second.wakes(),
            1,
            "the dropped waiter passed its wake-up on to the second"
        );
        assert_eq!(patiently(second_recv).await, Some(7));
        assert_eq!(gauges(&rx), Gauges::IDLE);
    });
}

#[test]
fn a_value_whose_chosen_receiver_is_cancelled_still_reaches_a_receiver_in_another_task() {
    // The same rule seen from a program: a task waiting on a shared Receiver must not sleep next to a value.
    run(|| async {
        let (tx, rx) = channel::unbounded();
        let rx = Rc::new(rx);
        let mut chosen = Box::pin(rx.recv());
        assert!(poll_once(&mut chosen).await.is_pending()); // first in line
        let other = spawn({
            let rx = rx.clone();
            async move { rx.recv().await }
        });
        yield_until("two receivers wait", || gauges(&rx).receivers_waiting == 2).await;

        tx.try_send("hello").unwrap(); // chooses `chosen`, i.e. wakes this task
        drop(chosen); // ... which drops it instead of polling it
        assert_eq!(patiently(other).await.unwrap(), Some("hello"));
        assert_eq!(gauges(&rx), Gauges::IDLE);
    });
}

#[test]
fn a_sender_chosen_then_cancelled_passes_the_free_slot_to_the_next_sender() {
    // A recv picked the first waiting sender; if it dies unpolled, the next waiting sender must be woken.
    run(|| async {
        let (tx, rx) = channel::bounded(1);
        tx.try_send(0).unwrap();
        let (first_waker, first) = counting_waker();
        let (second_waker, second) = counting_waker();
        let mut first_send = Box::pin(tx.send(1));
        let mut second_send = Box::pin(tx.send(2));
        assert!(
            first_send
                .as_mut()
                .poll(&mut Context::from_waker(&first_waker))
                .is_pending()
        );
        assert!(
            second_send
                .as_mut()
                .poll(&mut Context::from_waker(&second_waker))
                .is_pending()
        );
        assert_eq!(gauges(&rx).senders_waiting, 2);

        assert_eq!(rx.try_recv(), Some(0)); // frees the slot
        assert_eq!((first.wakes(), second.wakes()), (1, 0));

        drop(first_send);
        assert_eq!(second.wakes(), 1, "the free slot was passed on");
        assert_eq!(patiently(second_send).await, Ok(()));
        assert_eq!(rx.try_recv(), Some(2));
        assert_eq!(rx.try_recv(), None, "the cancelled send never sent");
        assert_eq!(gauges(&rx), Gauges::IDLE);
    });
}

#[test]
fn a_waiting_recv_or_send_wakes_the_waker_of_its_latest_poll() {
    // A future may move to another task between polls; waking the old task's waker would strand it.
    run(|| async {
        let (tx, rx) = channel::bounded(1);
        let (old_waker, old) = counting_waker();
        let (new_waker, new) = counting_waker();

        let mut recv = Box::pin(rx.recv());
        assert!(
            recv.as_mut()
                .poll(&mut Context::from_waker(&old_waker))
                .is_pending()
        );
        assert!(
            recv.as_mut()
                .poll(&mut Context::from_waker(&new_waker))
                .is_pending()
        );
        assert_eq!(
            gauges(&rx).receivers_waiting,
            1,
            "one future, one place in line"
        );
        tx.try_send(1).unwrap();
        assert_eq!(
            (old.wakes(), new.wakes()),
            (0, 1),
            "recv: the latest waker is woken"
        );
        assert_eq!(patiently(recv).await, Some(1));

        tx.try_send(2).unwrap(); // full again
        let mut send = Box::pin(tx.send(3));
        assert!(
            send.as_mut()
                .poll(&mut Context::from_waker(&old_waker))
                .is_pending()
        );
        assert!(
            send.as_mut()
                .poll(&mut Context::from_waker(&new_waker))
                .is_pending()
        );
        assert_eq!(
            gauges(&rx).senders_waiting,
            1,
            "one future, one place in line"
        );
        assert_eq!(rx.try_recv(), Some(2));
        assert_eq!(
            (old.wakes(), new.wakes()),
            (0, 2),
            "send: the latest waker is woken"
        );
        assert_eq!(patiently(send).await, Ok(()));
        assert_eq!(rx.try_recv(), Some(3));
        assert_eq!(gauges(&rx), Gauges::IDLE);
    });
}

// ---------------------------------------------------------------- oneshot

#[test]
fn oneshot_delivers_its_value_sent_before_or_after_the_receiver_waits() {
    // A reply channel: the answer must arrive whichever side gets there first.
    run(|| async {
        let (tx, rx) = channel::oneshot();
        tx.send(1).unwrap();
        assert_eq!(rx.await, Some(1), "sent first");

        let (tx, rx) = channel::oneshot();
        let replier = spawn(async move {
            yield_now().await;
            tx.send(2)
        });
        assert_eq!(patiently(rx.recv()).await, Some(2), "waited first");
        assert_eq!(replier.await.unwrap(), Ok(()));
    });
}

#[test]
fn oneshot_gives_none_when_the_sender_drops_without_sending_and_wakes_the_waiter() {
    // A request whose worker died must end in None, not in a receiver that waits forever.
    run(|| async {
        let (tx, rx) = channel::oneshot::<u8>();
        drop(tx);
        assert_eq!(rx.await, None, "dropped before anyone waited");

        let (tx, rx) = channel::oneshot::<u8>();
        let started = Rc::new(Cell::new(false));
        let waiter = spawn({
            let started = started.clone();
            async move {
                started.set(true);
                rx.await // polled in the same turn: it parks its waker
            }
        });
        yield_until("the receiver waits", || started.get()).await;
        assert!(!waiter.is_finished());
        drop(tx);
        assert_eq!(patiently(waiter).await.unwrap(), None);
    });
}

#[test]
fn oneshot_send_fails_with_the_value_once_the_receiver_is_gone() {
    // The replier learns nobody is listening, and keeps its value.
    let (tx, rx) = channel::oneshot();
    drop(rx);
    assert_eq!(tx.send(String::from("late")), Err(String::from("late")));
}

#[test]
fn oneshot_ends_print_what_they_are_and_whether_the_receiver_waits() {
    let (tx, rx) = channel::oneshot::<u8>();
    assert_eq!(format!("{tx:?}"), "oneshot::Sender");
    assert_eq!(format!("{rx:?}"), "oneshot::Receiver { waiting: false }");
}

#[test]
fn a_waiting_oneshot_receiver_wakes_the_waker_of_its_latest_poll() {
    // The same rule for the oneshot: a JoinHandle-like receiver awaited from a new task must still wake.
    let (tx, mut rx) = channel::oneshot();
    let (old_waker, old) = counting_waker();
    let (new_waker, new) = counting_waker();
    assert!(
        Pin::new(&mut rx)
            .poll(&mut Context::from_waker(&old_waker))
            .is_pending()
    );
    assert!(
        Pin::new(&mut rx)
            .poll(&mut Context::from_waker(&new_waker))
            .is_pending()
    );
    tx.send(5).unwrap();
    assert_eq!((old.wakes(), new.wakes()), (0, 1));
    assert_eq!(
        Pin::new(&mut rx).poll(&mut Context::from_waker(&new_waker)),
        Poll::Ready(Some(5))
    );
}

#[test]
fn oneshot_works_across_threads() {
    // spawn_blocking is built on it: a std thread's answer must wake the loop.
    run(|| async {
        let (tx, mut rx) = channel::oneshot();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let replier = thread::spawn(move || {
            go_rx.recv_timeout(PATIENCE).expect("the loop says go");
            tx.send(String::from("from afar")).unwrap();
        });
        assert!(poll_once(&mut rx).await.is_pending());
        assert!(format!("{rx:?}").contains("waiting: true"), "{rx:?}");
        go_tx.send(()).unwrap();
        assert_eq!(patiently(rx).await.as_deref(), Some("from afar"));
        replier.join().unwrap();
    });
}
