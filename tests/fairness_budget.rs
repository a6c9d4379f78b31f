//! Fairness inside a task: a task that always finds its I/O, channel or
//! timer ready never returns `Pending` on its own, so without a per-poll
//! budget it would hold the loop forever (see `src/event_loop/budget.rs`).
//!
//! Each test runs such a task beside a 10 ms sleep. The runtime runs on
//! its own thread and the test waits for it with a deadline, so a missing
//! budget fails the test instead of hanging it.

use duet::event_loop::channel::unbounded;
use duet::event_loop::net::{TcpListener, TcpStream};
use duet::event_loop::{Runtime, sleep, spawn};
use std::future::Future;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const SLEEP: Duration = Duration::from_millis(10);
/// Far above the worst case (61 polls of one budget each), far below "starved".
const BOUND: Duration = Duration::from_secs(1);

/// Spawns `busy` (a task that never waits) on a fresh runtime on its own
/// thread, then times a 10 ms sleep beside it.
fn sleep_beside<F: Future<Output = ()> + 'static>(busy: fn() -> F) -> Duration {
    let (done, took) = mpsc::channel();
    std::thread::spawn(move || {
        let rt = Runtime::new().unwrap();
        let elapsed = rt.block_on(async {
            drop(spawn(busy()));
            let begun = Instant::now();
            sleep(SLEEP).await;
            begun.elapsed()
        });
        let _ = done.send(elapsed);
    });
    took.recv_timeout(Duration::from_secs(10))
        .expect("the 10 ms sleep never finished: the busy task starved the loop")
}

#[test]
fn a_task_whose_socket_is_always_readable_does_not_starve_a_timer() {
    let took = sleep_beside(|| async {
        // Both ends of a loopback connection in one task: every write is
        // readable at once, so neither call ever has to wait.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let mut byte = [0u8; 1];
        loop {
            client.write_all(b"x").await.unwrap();
            server.read_exact(&mut byte).await.unwrap();
        }
    });
    assert!(
        took < BOUND,
        "a 10 ms sleep took {took:?} beside a busy socket"
    );
}

#[test]
fn a_task_whose_channel_is_never_empty_does_not_starve_a_timer() {
    let took = sleep_beside(|| async {
        let (tx, rx) = unbounded::<u8>();
        loop {
            tx.send(1).await.unwrap();
            rx.recv().await.unwrap();
        }
    });
    assert!(
        took < BOUND,
        "a 10 ms sleep took {took:?} beside a busy channel"
    );
}

#[test]
fn a_loop_of_expired_sleeps_does_not_starve_a_timer() {
    let took = sleep_beside(|| async {
        loop {
            sleep(Duration::ZERO).await;
        }
    });
    assert!(
        took < BOUND,
        "a 10 ms sleep took {took:?} beside a zero-sleep loop"
    );
}
