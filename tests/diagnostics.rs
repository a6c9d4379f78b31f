//! The diagnostics (issue 14): each classic mistake is reported once,
//! naming the task; its fixed twin is not; a proven deadlock panics in
//! bounded time; a program that waits for another thread is not called a
//! deadlock; and healthy programs that look a little like the mistakes
//! (a backlog drained in budget-sized polls, a long `spawn_blocking`) are
//! left alone.
//!
//! The mistakes run as the examples they are (`examples/mistake_*.rs`),
//! so what is checked is exactly what a learner sees on stderr. The rest
//! runs in-process and reads the `Diagnosis` trace events. Tests that make
//! a mistake in-process turn printing off (`print: false`): the trace
//! still records it. Every in-process test runs inside `capture`, and
//! captures take turns, so one test's events never reach another's.

mod support;
use support::examples::*;
use support::*;

use duet::event_loop::{
    Builder, Diagnostics, Runtime, channel, now, sleep, spawn, spawn_blocking, yield_now,
};
use duet::trace::{DiagnosisKind, Event, EventKind, capture};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread;
use std::time::{Duration, Instant};

/// How long an example may run: each takes about a second.
const EXAMPLE_PATIENCE: Duration = Duration::from_secs(60);

/// Runs example `name` with `args` (and the diagnostics' environment
/// cleared, so the defaults apply); returns whether it succeeded and the
/// `duet: ` lines it printed.
fn run_example(name: &str, args: &[&str], env: &[(&str, &str)]) -> (bool, Vec<String>, String) {
    let mut running = Running::start_with(name, args, |command| {
        for variable in [
            "DUET_DIAGNOSTICS",
            "DUET_SLOW_POLL_MS",
            "DUET_BUSY_WAIT_MS",
            "DUET_HANG_MS",
        ] {
            command.env_remove(variable);
        }
        command.envs(env.iter().copied());
    });
    let (status, _stdout) = running.finish(EXAMPLE_PATIENCE);
    let stderr = running.stderr();
    let lines = stderr
        .lines()
        .filter(|line| line.starts_with("duet: "))
        .map(str::to_string)
        .collect();
    (status.success(), lines, stderr)
}

/// The mistake prints exactly one `duet: ` line, naming `task` and saying
/// `what`; the `--fixed` twin prints none. Both exit normally.
fn once_and_fixed(example: &str, task: &str, what: &str) {
    let (ok, lines, stderr) = run_example(example, &[], &[]);
    assert!(ok, "{example} exits normally:\n{stderr}");
    assert_eq!(lines.len(), 1, "{example} reports once:\n{stderr}");
    assert!(
        lines[0].contains(task) && lines[0].contains(what),
        "{example}'s report names {task} and says {what:?}:\n{}",
        lines[0]
    );
    let (ok, lines, stderr) = run_example(example, &["--fixed"], &[]);
    assert!(ok, "{example} --fixed exits normally:\n{stderr}");
    assert!(
        lines.is_empty(),
        "{example} --fixed reports nothing:\n{stderr}"
    );
}

#[test]
fn a_lost_waker_is_reported_once_naming_the_task() {
    once_and_fixed(
        "mistake_lost_waker",
        "\"waiter\"",
        "returned Pending without handing cx.waker() to anyone",
    );
}

#[test]
fn a_stale_waker_shows_as_the_new_owners_lost_waker() {
    once_and_fixed(
        "mistake_stale_waker",
        "\"second owner\"",
        "returned Pending without handing cx.waker() to anyone",
    );
}

#[test]
fn a_blocking_call_in_a_task_is_reported_once_naming_the_task() {
    once_and_fixed("mistake_blocking_call", "\"worker\"", "held the loop for");
}

#[test]
fn a_spin_on_wake_by_ref_is_reported_once_as_busy_waiting() {
    once_and_fixed("mistake_busy_wait", "\"spinner\"", "busy waiting");
}

#[test]
fn tasks_awaiting_each_other_make_block_on_panic_saying_deadlock() {
    let start = Instant::now();
    let (ok, _lines, stderr) = run_example("mistake_deadlock", &[], &[]);
    assert!(
        !ok,
        "the deadlocked example fails instead of hanging:\n{stderr}"
    );
    assert!(stderr.contains("deadlock"), "{stderr}");
    assert!(
        stderr.contains("\"a\"") && stderr.contains("\"b\"") && stderr.contains("to finish"),
        "the report says what each task waits for:\n{stderr}"
    );
    assert!(start.elapsed() < EXAMPLE_PATIENCE);
    let (ok, lines, stderr) = run_example("mistake_deadlock", &["--fixed"], &[]);
    assert!(
        ok && lines.is_empty(),
        "the fixed twin runs clean:\n{stderr}"
    );
}

#[test]
fn duet_diagnostics_0_silences_the_stderr_lines() {
    let (ok, lines, stderr) = run_example("mistake_lost_waker", &[], &[("DUET_DIAGNOSTICS", "0")]);
    assert!(ok, "{stderr}");
    assert!(lines.is_empty(), "nothing printed:\n{stderr}");
}

/// A runtime whose diagnostics record but do not print.
fn quiet_runtime(configure: impl FnOnce(&mut Diagnostics)) -> Runtime {
    let rt = runtime();
    let mut diagnostics = Diagnostics {
        print: false,
        ..Diagnostics::default()
    };
    configure(&mut diagnostics);
    rt.set_diagnostics(diagnostics);
    rt
}

fn diagnoses(events: &[Event]) -> Vec<(DiagnosisKind, String, Option<u64>)> {
    events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::Diagnosis { kind, message } => {
                Some((*kind, message.clone(), event.task.map(|id| id.as_u64())))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_diagnosis_is_a_trace_event_about_its_task() {
    let (id, found) = within(|| {
        let rt = quiet_runtime(|_| {});
        let (id, events) = capture(|| {
            rt.block_on(async {
                let lost = duet::event_loop::spawn_named("forgetful", async {
                    // Returns Pending once, handing the waker to nobody.
                    let mut first = true;
                    std::future::poll_fn(move |_| {
                        if std::mem::take(&mut first) {
                            std::task::Poll::Pending
                        } else {
                            std::task::Poll::Ready(())
                        }
                    })
                    .await
                });
                let id = lost.id().as_u64();
                yield_now().await;
                yield_now().await;
                lost.abort();
                id
            })
        });
        (id, diagnoses(&events))
    });
    assert_eq!(found.len(), 1, "{found:?}");
    let (kind, message, task) = &found[0];
    assert_eq!(*kind, DiagnosisKind::LostWaker);
    assert_eq!(*task, Some(id));
    assert!(message.contains("\"forgetful\""), "{message}");
}

#[test]
fn a_slow_poll_that_ends_its_task_is_reported_with_or_without_a_handle() {
    // Each task blocks the thread in its last poll, alone between two
    // parks of the loop, so that poll is named; one task is detached.
    async fn wait_then_block(wait_ms: u64) {
        sleep(Duration::from_millis(wait_ms)).await;
        thread::sleep(Duration::from_millis(60));
    }
    let (ids, found) = within(|| {
        let rt = quiet_runtime(|d| d.slow_poll = Some(Duration::from_millis(20)));
        let (ids, events) = capture(|| {
            rt.block_on(async {
                let kept = spawn(wait_then_block(5));
                let detached = spawn(wait_then_block(100));
                let ids = [kept.id().as_u64(), detached.id().as_u64()];
                drop(detached);
                sleep(Duration::from_millis(200)).await;
                kept.await.unwrap();
                ids
            })
        });
        (ids, diagnoses(&events))
    });
    for id in ids {
        let about: Vec<_> = found.iter().filter(|d| d.2 == Some(id)).collect();
        assert_eq!(about.len(), 1, "task {id}: {found:?}");
        let (kind, message, _) = about[0];
        assert_eq!(*kind, DiagnosisKind::SlowPoll);
        assert!(message.starts_with(&format!("task {id} ")), "{message}");
    }
}

#[test]
fn a_block_on_future_nobody_can_wake_panics_saying_deadlock_at_once() {
    let message = within(|| {
        let rt = quiet_runtime(|_| {});
        let start = Instant::now();
        // Inside a capture like the others: captures take turns, so this
        // test's Diagnosis event cannot land in another test's capture.
        let (panic, _events) = capture(|| {
            catch_unwind(AssertUnwindSafe(|| {
                rt.block_on(std::future::pending::<()>());
            }))
        });
        let panic = panic.expect_err("block_on panics instead of hanging");
        assert!(start.elapsed() < PATIENCE);
        panic.downcast_ref::<String>().cloned().unwrap_or_default()
    });
    assert!(message.contains("deadlock"), "{message}");
    assert!(message.contains("block_on"), "{message}");
}

#[test]
fn waiting_for_a_std_thread_that_will_send_is_no_deadlock_but_a_hang_explains_itself() {
    let (value, found) = within(|| {
        let rt = quiet_runtime(|d| d.hang = Some(Duration::from_millis(100)));
        let (sender, receiver) = channel::unbounded();
        let (value, events) = capture(|| {
            let feeder = thread::spawn(move || {
                thread::sleep(Duration::from_millis(400));
                sender.try_send(42).expect("the receiver is waiting");
            });
            let value = rt.block_on(async move { receiver.recv().await });
            feeder.join().unwrap();
            value
        });
        (value, diagnoses(&events))
    });
    assert_eq!(value, Some(42), "block_on got the value: no deadlock panic");
    assert_eq!(found.len(), 1, "{found:?}");
    let (kind, message, _) = &found[0];
    assert_eq!(*kind, DiagnosisKind::Hang);
    assert!(message.contains("block_on waits for channel"), "{message}");
}

/// A server that waits for a connection or a word on a channel, whichever
/// comes first, waits for the world: however long nothing happens, that
/// is no hang. (Its socket waiter is a `select` child's waker, which the
/// loop cannot trace back to the task; the poll's note that it waited on
/// a socket is what keeps the report quiet.)
#[test]
fn waiting_on_a_socket_inside_select_is_no_hang() {
    let (got_word, found) = within(|| {
        let rt = quiet_runtime(|d| d.hang = Some(Duration::from_millis(100)));
        let (sender, receiver) = channel::unbounded();
        let (got_word, events) = capture(|| {
            let feeder = thread::spawn(move || {
                thread::sleep(Duration::from_millis(400));
                sender.try_send(()).expect("the server is waiting");
            });
            let got_word = rt.block_on(async move {
                let listener = duet::event_loop::net::TcpListener::bind("127.0.0.1:0").unwrap();
                let first = duet::event_loop::select(listener.accept(), receiver.recv()).await;
                matches!(first, duet::event_loop::Either::Right(Some(())))
            });
            feeder.join().unwrap();
            got_word
        });
        (got_word, diagnoses(&events))
    });
    assert!(got_word, "the word came first: nobody connected");
    assert!(found.is_empty(), "{found:?}");
}

/// A `block_on` future that yields in its last poll leaves nothing behind
/// for the next `block_on`: a lost waker there is still reported.
#[test]
fn a_yield_in_a_last_poll_does_not_hide_the_next_lost_waker() {
    let found = within(|| {
        let rt = quiet_runtime(|_| {});
        let ((), events) = capture(|| {
            // One poll that yields (the loop keeps the waker to wake
            // after its next look at the reactor) and then ends `Ready`.
            let mut yielding = Box::pin(yield_now());
            rt.block_on(std::future::poll_fn(move |cx| {
                let _ = std::future::Future::poll(yielding.as_mut(), cx);
                std::task::Poll::Ready(())
            }));
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                rt.block_on(std::future::poll_fn(|_| std::task::Poll::<()>::Pending));
            }));
            assert!(
                outcome.is_err(),
                "a block_on future nobody can wake is a deadlock"
            );
        });
        diagnoses(&events)
    });
    assert!(
        found
            .iter()
            .any(|(kind, _, _)| *kind == DiagnosisKind::LostWaker),
        "{found:?}"
    );
}

/// Under the virtual clock, with no timer pending, the loop parks for
/// real, and the diagnostics cut that park into bounded looks (20 ms,
/// then up to the hang threshold). Those looks are no timer: virtual time
/// must not move while the loop waits for another thread, and a later
/// sleep still takes exactly its own length.
#[test]
fn bounded_parks_do_not_move_the_virtual_clock() {
    let (elapsed, found) = within(|| {
        let rt = Builder::new()
            .virtual_clock(true)
            .diagnostics(Diagnostics {
                print: false,
                hang: Some(Duration::from_millis(100)),
                ..Diagnostics::default()
            })
            .build()
            .expect("a runtime");
        let (sender, receiver) = channel::unbounded();
        let (elapsed, events) = capture(|| {
            let feeder = thread::spawn(move || {
                thread::sleep(Duration::from_millis(300));
                sender.try_send(7).expect("the receiver is waiting");
            });
            let elapsed = rt.block_on(async move {
                let start = now();
                assert_eq!(receiver.recv().await, Some(7));
                let waited = now() - start;
                sleep(Duration::from_secs(1)).await;
                (waited, now() - start)
            });
            feeder.join().unwrap();
            elapsed
        });
        (elapsed, diagnoses(&events))
    });
    assert_eq!(elapsed.0, Duration::ZERO, "no virtual time while waiting");
    assert_eq!(elapsed.1, Duration::from_secs(1), "the sleep, exactly");
    let kinds: Vec<_> = found.iter().map(|(kind, ..)| *kind).collect();
    assert_eq!(kinds, [DiagnosisKind::Hang], "{found:?}");
}

#[test]
fn a_long_spawn_blocking_is_neither_a_hang_nor_a_deadlock() {
    let found = within(|| {
        let rt = quiet_runtime(|d| d.hang = Some(Duration::from_millis(50)));
        let (value, events) = capture(|| {
            rt.block_on(async {
                spawn_blocking(|| thread::sleep(Duration::from_millis(300)))
                    .await
                    .unwrap();
                7
            })
        });
        assert_eq!(value, 7);
        diagnoses(&events)
    });
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_yield_loop_that_never_waits_is_called_busy_waiting() {
    let found = within(|| {
        let rt = quiet_runtime(|d| d.busy_wait = Some(Duration::from_millis(50)));
        let ((), events) = capture(|| {
            rt.block_on(async {
                let spin = spawn(async {
                    let start = Instant::now();
                    while start.elapsed() < Duration::from_millis(300) {
                        yield_now().await;
                    }
                });
                spin.await.unwrap();
            })
        });
        diagnoses(&events)
    });
    assert!(!found.is_empty(), "reported");
    for (kind, message, _) in &found {
        assert_eq!(*kind, DiagnosisKind::BusyWait);
        assert!(message.contains("yield_now"), "{message}");
    }
}

#[test]
fn healthy_programs_raise_no_diagnosis() {
    let found = within_for(THREAD_PATIENCE, || {
        // Thresholds low enough to catch anything that looked like a
        // mistake: a backlog drained in budget-sized polls is work, not
        // busy waiting; a ping-pong, timers and a few yields are normal.
        let rt = quiet_runtime(|d| {
            d.busy_wait = Some(Duration::from_millis(20));
            d.hang = Some(Duration::from_millis(50));
        });
        let ((), events) = capture(|| {
            rt.block_on(async {
                let (to_drain, backlog) = channel::unbounded();
                for i in 0..200_000u32 {
                    to_drain.try_send(i).unwrap();
                }
                drop(to_drain);
                let drainer = spawn(async move {
                    let mut sum = 0u64;
                    while let Some(i) = backlog.recv().await {
                        sum += u64::from(i);
                    }
                    sum
                });
                let (ping, pings) = channel::bounded(1);
                let (pong, pongs) = channel::bounded(1);
                let echo = spawn(async move {
                    while let Some(n) = pings.recv().await {
                        pong.send(n).await.unwrap();
                    }
                });
                for n in 0..10_000 {
                    ping.send(n).await.unwrap();
                    assert_eq!(pongs.recv().await, Some(n));
                }
                drop(ping);
                echo.await.unwrap();
                for _ in 0..10 {
                    sleep(Duration::from_millis(2)).await;
                    yield_now().await;
                }
                assert_eq!(drainer.await.unwrap(), 199_999 * 200_000 / 2);
            })
        });
        diagnoses(&events)
    });
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn the_runtime_option_is_kept_and_off_turns_everything_off() {
    let found = within(|| {
        let rt = runtime();
        assert_eq!(rt.diagnostics(), Diagnostics::default());
        rt.set_diagnostics(Diagnostics::off());
        assert_eq!(rt.diagnostics(), Diagnostics::off());
        let ((), events) = capture(|| {
            rt.block_on(async {
                let forgetful = spawn(std::future::pending::<()>());
                yield_now().await;
                yield_now().await;
                forgetful.abort();
            })
        });
        diagnoses(&events)
    });
    assert!(found.is_empty(), "{found:?}");
}
