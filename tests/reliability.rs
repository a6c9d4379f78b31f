//! Promises that hold whatever the user's future does:
//!
//! - a `timeout` fires within a bounded time after its deadline even when
//!   its inner future spends the whole operation budget on every poll;
//! - a `Sleep` polled on a runtime belongs to that runtime's timers from
//!   then on, even if another runtime polled it first;
//! - `yield_now` lets in what another thread woke before it returns;
//! - a busy connection cannot make a quiet one wait for more than one of
//!   its polls;
//! - a panic while dropping a finished task's output stays inside the
//!   runtime, whether the handle was dropped before or after the finish.
//!
//! Every body runs under `within`, so a broken promise fails the test
//! instead of hanging it.

mod support;
use support::*;

use duet::event_loop::channel::unbounded;
use duet::event_loop::net::{TcpListener, TcpStream};
use duet::event_loop::{Runtime, sleep, spawn, timeout, yield_now};
use std::cell::Cell;
use std::future::{Future, poll_fn};
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::task::Poll;
use std::thread;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_millis(10);

/// Runs `busy` under a 10 ms `timeout` and returns how long the timeout
/// took to give `Err(Elapsed)`.
fn timeout_over<F: Future<Output = ()> + 'static>(
    busy: impl FnOnce() -> F + Send + 'static,
) -> Duration {
    within(move || {
        let rt = runtime();
        rt.block_on(async move {
            let begun = Instant::now();
            let result = timeout(DEADLINE, busy()).await;
            assert!(result.is_err(), "the busy future never finishes on its own");
            begun.elapsed()
        })
    })
}

#[test]
fn a_timeout_fires_over_a_loop_of_expired_sleeps() {
    let took = timeout_over(|| async {
        loop {
            sleep(Duration::ZERO).await;
        }
    });
    assert!(took >= DEADLINE, "never early: {took:?}");
}

#[test]
fn a_timeout_fires_over_a_loop_on_an_always_ready_channel() {
    let took = timeout_over(|| async {
        let (tx, rx) = unbounded();
        loop {
            tx.try_send(1).unwrap();
            rx.recv().await.unwrap();
        }
    });
    assert!(took >= DEADLINE, "never early: {took:?}");
}

#[test]
fn a_timeout_fires_over_a_loop_of_reads_at_end_of_file() {
    let took = timeout_over(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        drop(server); // the client now reads EOF, at once, forever
        let mut buf = [0u8; 16];
        loop {
            assert_eq!(client.read(&mut buf).await.unwrap(), 0);
        }
    });
    assert!(took >= DEADLINE, "never early: {took:?}");
}

/// Polls `sleep` once inside `first`'s `block_on`, so that its timer is
/// registered with `first`.
fn polled_once_on(first: &Runtime, sleep: &mut std::pin::Pin<Box<duet::event_loop::Sleep>>) {
    first.block_on(poll_fn(|cx| {
        assert!(sleep.as_mut().poll(cx).is_pending());
        Poll::Ready(())
    }));
}

#[test]
fn a_sleep_moved_to_another_runtime_is_woken_there_after_the_first_is_dropped() {
    within(|| {
        let mut nap = Box::pin(sleep(Duration::from_millis(20)));
        let first = runtime();
        polled_once_on(&first, &mut nap);
        drop(first);
        let second = runtime();
        second.block_on(async move {
            spawn(nap).await.unwrap();
        });
    });
}

#[test]
fn a_sleep_moved_to_another_runtime_is_woken_there_while_the_first_is_idle() {
    within(|| {
        let mut nap = Box::pin(sleep(Duration::from_millis(20)));
        let first = runtime();
        polled_once_on(&first, &mut nap);
        let second = runtime();
        second.block_on(nap);
        assert_eq!(
            debug_count(&first, "timers"),
            0,
            "the first runtime let go of it"
        );
        drop(first);
    });
}

#[test]
fn yield_now_lets_a_task_woken_from_another_thread_run_before_it_returns() {
    within(|| {
        let rt = runtime();
        rt.block_on(async {
            let (tx, rx) = unbounded::<u32>();
            let received = Rc::new(Cell::new(false));
            let flag = received.clone();
            let receiver = spawn(async move {
                rx.recv().await.unwrap();
                flag.set(true);
            });
            yield_now().await; // the receiver now waits on the channel
            // Another thread sends: the receiver's wake goes through the
            // remote queue. Wait for the send to be done before yielding.
            thread::spawn(move || tx.try_send(7).unwrap())
                .join()
                .unwrap();
            yield_now().await;
            assert!(
                received.get(),
                "the task the other thread woke ran before the yield returned"
            );
            receiver.await.unwrap();
        });
    });
}

#[test]
fn a_busy_connection_delays_a_quiet_one_by_at_most_a_few_of_its_polls() {
    within_for(THREAD_PATIENCE, || {
        let rt = runtime();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            // The busy side: a socket that always has bytes to read, read
            // by a task that never waits (its budget ends each poll).
            let mut busy_client = TcpStream::connect(addr).await.unwrap();
            let (mut busy_server, _) = listener.accept().await.unwrap();
            let stop = Arc::new(AtomicBool::new(false));
            let busy_reads = Arc::new(AtomicUsize::new(0));
            let (feeding_stop, reads) = (stop.clone(), busy_reads.clone());
            let reader = spawn(async move {
                let mut buf = [0u8; 1];
                // One byte a read: the budget, not the data, ends each poll.
                while !feeding_stop.load(Ordering::Relaxed) {
                    busy_server.read(&mut buf).await.unwrap();
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            });
            let feeder_stop = stop.clone();
            let feeder = spawn(async move {
                let chunk = [b'x'; 4096];
                while !feeder_stop.load(Ordering::Relaxed) {
                    busy_client.write_all(&chunk).await.unwrap();
                }
            });
            // The quiet side: a connection whose peer is a std thread.
            let quiet_std = std::net::TcpStream::connect(addr).unwrap();
            let (mut quiet_server, _) = listener.accept().await.unwrap();
            let (reads_at_write_tx, reads_at_write) = mpsc::channel();
            let writer_reads = busy_reads.clone();
            let writer = thread::spawn(move || {
                thread::sleep(Duration::from_millis(20)); // let the busy pair get going
                let mut quiet_std = quiet_std;
                let before = writer_reads.load(Ordering::Relaxed);
                quiet_std.write_all(b"!").unwrap();
                reads_at_write_tx.send(before).unwrap();
                quiet_std
            });
            let mut byte = [0u8; 1];
            bounded(quiet_server.read_exact(&mut byte)).await.unwrap();
            let reads_at_wake = busy_reads.load(Ordering::Relaxed);
            let reads_at_write = reads_at_write.recv().unwrap();
            stop.store(true, Ordering::Relaxed);
            drop(writer.join().unwrap());
            let waited = reads_at_wake - reads_at_write;
            // A poll of the busy task makes at most 64 reads (its budget).
            assert!(
                waited <= 3 * 64,
                "the quiet connection waited for {waited} reads of the busy one"
            );
            reader.await.unwrap();
            feeder.abort();
        });
    });
}

/// A task output whose `Drop` panics.
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("dropping the output panics");
    }
}

#[test]
fn a_panicking_output_is_contained_when_the_handle_is_dropped_after_the_finish() {
    within(|| {
        let rt = runtime();
        let mut handle = None;
        rt.block_on(async {
            let spawned = spawn(async { PanicsOnDrop });
            while !spawned.is_finished() {
                yield_now().await;
            }
            handle = Some(spawned);
        });
        let dropped = catch_unwind(AssertUnwindSafe(move || drop(handle)));
        assert!(dropped.is_ok(), "the panic stayed inside the runtime");
    });
}

#[test]
fn a_panicking_output_is_contained_when_the_handle_is_dropped_first() {
    within(|| {
        let rt = runtime();
        rt.block_on(async {
            drop(spawn(async { PanicsOnDrop }));
            yield_now().await;
        });
    });
}

/// A hand-written future that panics when polled; its `Drop` reports
/// whether a panic was unwinding at the time.
struct PanicsWhenPolled(mpsc::Sender<bool>);

impl Future for PanicsWhenPolled {
    type Output = ();
    fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> Poll<()> {
        panic!("the future panics")
    }
}

impl Drop for PanicsWhenPolled {
    fn drop(&mut self) {
        self.0.send(thread::panicking()).unwrap();
    }
}

#[test]
fn a_panicking_task_drops_its_locals_while_unwinding_and_its_future_after() {
    within(|| {
        let rt = runtime();
        let (saw_local, local_seen) = mpsc::channel();
        let (saw_future, future_seen) = mpsc::channel();
        let (in_block, itself) = rt.block_on(async move {
            let in_block = spawn(async move {
                let _local = on_drop(move || saw_local.send(thread::panicking()).unwrap());
                yield_now().await;
                panic!("the async block panics");
            });
            let itself = spawn(PanicsWhenPolled(saw_future));
            (in_block.await, itself.await)
        });
        assert!(in_block.unwrap_err().is_panic());
        assert!(itself.unwrap_err().is_panic());
        assert!(
            local_seen.recv().unwrap(),
            "an async block's live locals drop as the panic unwinds, as a thread's stack does"
        );
        assert!(
            !future_seen.recv().unwrap(),
            "the task's future itself is dropped once the unwinding is over"
        );
    });
}
