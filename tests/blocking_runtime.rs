//! The blocking runtime: a task is a thread. These tests pin down what
//! `spawn`, `JoinHandle`, `sleep` and `Runtime` promise.
//!
//! No test may hang: every wait that a bug could make endless is bounded
//! by `recv_timeout` on a std channel.

mod support;
use support::*;

use duet::blocking::{self, Runtime, channel};
use std::collections::HashSet;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

#[test]
fn join_returns_the_tasks_values() {
    let handles: Vec<_> = (0..10u64).map(|i| blocking::spawn(move || i * i)).collect();
    let squares: Vec<u64> = within(|| handles.into_iter().map(|h| h.join().unwrap()).collect());
    assert_eq!(squares, (0..10).map(|i| i * i).collect::<Vec<_>>());
}

#[test]
fn a_panic_becomes_a_join_error_with_the_payload() {
    let handle = blocking::spawn(|| -> u32 { panic!("boom") });
    let err = within(|| handle.join()).unwrap_err();
    assert!(err.is_panic());
    assert!(!err.is_cancelled());
    assert!(err.to_string().contains("boom"), "{err}");
    let payload = err.into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
}

#[test]
fn a_formatted_panic_message_is_a_string_payload() {
    // A literal argument would be folded into the string at compile time
    // (giving a `&str` payload); a variable keeps it a formatted `String`.
    let n = 42;
    let handle = blocking::spawn(move || -> u32 { panic!("bad {n}") });
    let payload = within(|| handle.join()).unwrap_err().into_panic();
    assert_eq!(payload.downcast_ref::<String>().unwrap(), "bad 42");
}

#[test]
fn is_finished_is_false_until_the_task_ends() {
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let handle = blocking::spawn(move || {
        go_rx.recv_timeout(PATIENCE).expect("never told to go");
        7
    });
    assert!(!handle.is_finished(), "the task is still waiting for `go`");
    go_tx.send(()).unwrap();

    // Poll (not sleep-and-hope): the task finishes soon after `go`.
    let deadline = Instant::now() + PATIENCE;
    while !handle.is_finished() {
        assert!(Instant::now() < deadline, "task never finished");
        thread::yield_now();
    }
    assert_eq!(handle.join().unwrap(), 7);
}

#[test]
fn block_on_runs_on_the_calling_thread_and_returns_its_value() {
    let here = thread::current().id();
    let rt = Runtime::new();
    let (id, value) = rt.block_on(|| (thread::current().id(), 40 + 2));
    assert_eq!(id, here);
    assert_eq!(value, 42);
    // Default gives the same thing; runtimes may be used one after another.
    assert_eq!(Runtime::default().block_on(|| "again"), "again");
}

#[test]
fn spawn_works_inside_and_outside_block_on() {
    let outside = blocking::spawn(|| 1);
    let inside = within(|| Runtime::new().block_on(|| blocking::spawn(|| 2).join().unwrap()));
    assert_eq!(within(move || outside.join().unwrap()) + inside, 3);
}

#[test]
fn every_task_gets_its_own_named_thread() {
    let main = thread::current().id();
    let handles: Vec<_> = (0..16)
        .map(|_| {
            blocking::spawn(|| {
                let me = thread::current();
                (me.id(), me.name().map(str::to_owned))
            })
        })
        .collect();
    let seen: Vec<_> = within(|| handles.into_iter().map(|h| h.join().unwrap()).collect());

    // ThreadIds are never reused, so distinct ids mean distinct threads.
    let ids: HashSet<_> = seen.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), 16);
    assert!(!ids.contains(&main));
    let names: HashSet<_> = seen.into_iter().map(|(_, name)| name.unwrap()).collect();
    assert_eq!(names.len(), 16, "names are numbered uniquely");
    for name in names {
        assert!(name.starts_with("duet-task-"), "{name}");
    }
}

#[test]
fn a_chain_of_waiting_tasks_does_not_deadlock() {
    // 50 tasks, each waiting for the one before it. All 50 wait at once;
    // with a fixed pool of fewer threads this would deadlock.
    const N: usize = 50;
    let (first_tx, mut prev_rx) = channel::bounded::<usize>(1);
    let mut handles = Vec::new();
    for _ in 0..N {
        let (tx, rx) = channel::bounded(1);
        let rx_in = std::mem::replace(&mut prev_rx, rx);
        handles.push(blocking::spawn(move || {
            let n = rx_in.recv().expect("the previous task vanished");
            tx.send(n + 1).unwrap();
        }));
    }
    // Start the chain only now that every task is already waiting.
    first_tx.send(0).unwrap();
    let last = within(move || prev_rx.recv());
    assert_eq!(last, Some(N));
    within(move || handles.into_iter().for_each(|h| h.join().unwrap()));
}

#[test]
fn sleep_never_returns_early() {
    for ms in [0, 1, 2, 5, 10, 20] {
        let duration = Duration::from_millis(ms);
        let start = Instant::now();
        blocking::sleep(duration);
        assert!(start.elapsed() >= duration, "woke early from {ms} ms");
    }
}

#[test]
fn sleeping_tasks_sleep_side_by_side() {
    // Ten threads sleeping 50 ms each take about 50 ms, not 500:
    // a sleeping thread holds nothing but its own stack.
    let start = Instant::now();
    let handles: Vec<_> = (0..10)
        .map(|_| {
            blocking::spawn(|| {
                let start = Instant::now();
                blocking::sleep(Duration::from_millis(50));
                start.elapsed()
            })
        })
        .collect();
    for slept in within(|| {
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    }) {
        assert!(slept >= Duration::from_millis(50));
    }
    assert!(start.elapsed() < Duration::from_millis(450));
}

#[test]
fn yield_now_returns() {
    for _ in 0..100 {
        blocking::yield_now();
    }
}

#[test]
fn dropping_the_handle_detaches_the_task() {
    let (tx, rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    drop(blocking::spawn(move || {
        go_rx.recv_timeout(PATIENCE).unwrap();
        tx.send("still ran").unwrap();
    }));
    go_tx.send(()).unwrap();
    assert_eq!(rx.recv_timeout(PATIENCE), Ok("still ran"));
}
