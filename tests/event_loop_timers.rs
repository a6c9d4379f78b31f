//! Timers on the event loop: `sleep`, `sleep_until`, `timeout`, and the
//! rules that make them trustworthy. Each test is named for one rule, with
//! a line on why the rule matters.
//!
//! No test may hang. Every test body runs on a watchdog'd std thread
//! (`within`) whose result we take with `recv_timeout`, so even a bug that
//! stops the loop's timers fails the test; inside, waits are also bounded
//! by `timeout` for a clearer message.

mod support;
use support::*;

use duet::event_loop::{Elapsed, Sleep, sleep, sleep_until, spawn, timeout, yield_now};
use std::cell::{Cell, RefCell};
use std::future::{Future, pending, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::task::Poll;
use std::thread;
use std::time::{Duration, Instant};

/// Sets a flag when dropped.
struct DropFlag(Rc<Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

/// A sleep never ends early, whatever its length (whole milliseconds or
/// not): code after `sleep(d)` may rely on `d` having passed.
#[test]
fn sleep_never_completes_before_its_deadline() {
    within(|| {
        let rt = runtime();
        let early = rt.block_on(bounded(async {
            let handles: Vec<_> = (0..200u64)
                .map(|i| {
                    // 0 to 24 ms, plus some sub-millisecond remainders.
                    let duration =
                        Duration::from_millis(i % 25) + Duration::from_micros(i * 37 % 1000);
                    spawn(async move {
                        let start = Instant::now();
                        if i % 2 == 0 {
                            sleep(duration).await;
                        } else {
                            sleep_until(start + duration).await;
                        }
                        let slept = start.elapsed();
                        (slept < duration).then_some((duration, slept))
                    })
                })
                .collect();
            let mut early = Vec::new();
            for handle in handles {
                early.extend(handle.await.unwrap());
            }
            early
        }));
        assert!(
            early.is_empty(),
            "(requested, slept) for sleeps that ended early: {early:?}"
        );
    });
}

/// Sleeps whose deadlines are at least 1 ms apart complete in deadline
/// order, whatever order they were started in: time is the only order.
#[test]
fn sleeps_complete_in_deadline_order() {
    within(|| {
        const N: u64 = 30;
        let rt = runtime();
        let order = rt.block_on(bounded(async {
            // Far enough ahead that every task registers before the first is due.
            let base = Instant::now() + Duration::from_millis(40);
            let order = Rc::new(RefCell::new(Vec::new()));
            // 7 and 30 are coprime, so this visits every k once, shuffled.
            let handles: Vec<_> = (0..N)
                .map(|i| {
                    let k = i * 7 % N;
                    let order = order.clone();
                    spawn(async move {
                        sleep_until(base + Duration::from_millis(k)).await;
                        order.borrow_mut().push(k);
                    })
                })
                .collect();
            for handle in handles {
                handle.await.unwrap();
            }
            order.take()
        }));
        assert_eq!(order, (0..N).collect::<Vec<_>>());
    });
}

/// A deadline already past completes on the first poll and registers no
/// timer: `sleep(ZERO)` costs nothing.
#[test]
fn sleep_until_a_past_deadline_completes_at_once() {
    within(|| {
        let rt = runtime();
        rt.block_on(bounded(async {
            let now = Instant::now();
            let past = now.checked_sub(Duration::from_secs(1)).unwrap_or(now);
            for mut nap in [sleep_until(past), sleep_until(now), sleep(Duration::ZERO)] {
                let first = poll_fn(|cx| Poll::Ready(Pin::new(&mut nap).poll(cx))).await;
                assert!(first.is_ready(), "{nap:?}");
            }
        }));
        assert_eq!(debug_count(&rt, "timers"), 0, "{rt:?}");
    });
}

/// A future that finishes in time gives its value through timeout, and
/// does not wait for the deadline.
#[test]
fn timeout_gives_the_value_of_a_future_that_finishes_in_time() {
    within(|| {
        let rt = runtime();
        let start = Instant::now();
        let result = rt.block_on(bounded(timeout(Duration::from_secs(1), async {
            sleep(Duration::from_millis(5)).await;
            String::from("in time")
        })));
        assert_eq!(result.unwrap(), "in time");
        assert!(
            start.elapsed() < Duration::from_millis(900),
            "{:?}",
            start.elapsed()
        );
    });
}

/// A future that is too slow gives Err(Elapsed) at the deadline, and is
/// dropped (cancelled) with everything it owns: its own timer too.
#[test]
fn timeout_gives_elapsed_for_a_slow_future_and_drops_it() {
    within(|| {
        let rt = runtime();
        let dropped = Rc::new(Cell::new(false));
        let flag = DropFlag(dropped.clone());
        let start = Instant::now();
        let result = rt.block_on(bounded(async {
            let result = timeout(Duration::from_millis(20), async move {
                let _flag = flag;
                sleep(Duration::from_secs(3600)).await;
                "too late"
            })
            .await;
            assert!(
                dropped.get(),
                "the inner future is gone once timeout returns"
            );
            result
        }));
        let elapsed = start.elapsed();
        let err: Elapsed = result.unwrap_err();
        assert!(elapsed >= Duration::from_millis(20), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
        assert!(err.to_string().contains("elapsed"), "{err}");
        let _: &dyn std::error::Error = &err;
        assert_eq!(
            debug_count(&rt, "timers"),
            0,
            "the hour-long sleep left no timer: {rt:?}"
        );
    });
}

/// Sleep and Timeout may be made anywhere, even outside block_on or on
/// another thread: the deadline counts from creation, the timer registers
/// when first polled.
#[test]
fn a_sleep_created_outside_block_on_works_inside() {
    within(|| {
        let rt = runtime();
        let start = Instant::now();
        let nap = sleep(Duration::from_millis(30));
        let limit = timeout(Duration::from_millis(20), pending::<()>());
        let (tx, rx) = mpsc::channel::<Sleep>();
        thread::spawn(move || tx.send(sleep(Duration::from_millis(10))).unwrap());
        let from_thread = rx.recv_timeout(PATIENCE).unwrap();
        let limit_result = rt.block_on(bounded(async {
            from_thread.await;
            nap.await;
            limit.await
        }));
        assert!(limit_result.is_err());
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(30), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    });
}

/// Dropping a Sleep removes its timer: cancelled timeouts (the common
/// case) must not pile up in the timer table.
#[test]
fn dropping_a_sleep_removes_its_timer() {
    within(|| {
        const N: usize = 10_000;
        let rt = runtime();
        rt.block_on(async {
            let mut sleeps: Vec<Sleep> = (0..N).map(|_| sleep(Duration::from_secs(3600))).collect();
            for sleep in &mut sleeps {
                let first = poll_fn(|cx| Poll::Ready(Pin::new(&mut *sleep).poll(cx))).await;
                assert!(first.is_pending());
                // A new turn for the next one: a task may only do so many
                // operations per poll (the budget), and a sleep polled over
                // budget would decline without registering.
                yield_now().await;
            }
            assert_eq!(
                debug_count(&rt, "timers"),
                N,
                "each polled sleep registered: {rt:?}"
            );
            drop(sleeps);
            assert_eq!(debug_count(&rt, "timers"), 0, "{rt:?}");
        });
        assert_eq!(debug_count(&rt, "timers"), 0, "{rt:?}");
    });
}

/// One thread waits on 100,000 deadlines at once: a timer is an entry in a
/// table, not a thread.
#[test]
fn a_hundred_thousand_concurrent_sleeps_all_complete() {
    within_for(Duration::from_secs(30), || {
        const N: u64 = 100_000;
        let rt = runtime();
        let start = Instant::now();
        let done = Rc::new(Cell::new(0u64));
        let result = rt.block_on(timeout(Duration::from_secs(20), async {
            let handles: Vec<_> = (0..N)
                .map(|i| {
                    let done = done.clone();
                    spawn(async move {
                        sleep(Duration::from_millis(10 + i % 41)).await;
                        done.set(done.get() + 1);
                    })
                })
                .collect();
            for handle in handles {
                handle.await.unwrap();
            }
        }));
        println!(
            "{N} sleeps of 10-50 ms completed in {:?} (debug builds are slower)",
            start.elapsed()
        );
        result.expect("all sleeps complete within 20 s");
        assert_eq!(done.get(), N);
        assert_eq!(debug_count(&rt, "timers"), 0, "{rt:?}");
    });
}

/// A Sleep moved to another task wakes the task that polled it last, not
/// the one that polled it first (docs/PITFALLS.md #2, the stale waker).
#[test]
fn a_sleep_moved_to_another_task_wakes_its_latest_poller() {
    within(|| {
        let rt = runtime();
        rt.block_on(bounded(async {
            let deadline = Instant::now() + Duration::from_millis(30);
            let slot: Rc<RefCell<Option<Sleep>>> = Rc::default();
            let first_polls = Rc::new(Cell::new(0));

            // Task A polls the sleep once (registering its own waker), hands
            // it over, and then waits on something else forever.
            let (give, polls) = (slot.clone(), first_polls.clone());
            let a = spawn(async move {
                let mut sleep = sleep_until(deadline);
                let first = poll_fn(|cx| Poll::Ready(Pin::new(&mut sleep).poll(cx))).await;
                assert!(first.is_pending());
                *give.borrow_mut() = Some(sleep);
                poll_fn(|_| {
                    polls.set(polls.get() + 1);
                    Poll::<()>::Pending
                })
                .await;
            });
            // Task B takes it and awaits it.
            let take = slot.clone();
            let b = spawn(async move {
                while take.borrow().is_none() {
                    yield_now().await;
                }
                let sleep = take.borrow_mut().take().unwrap();
                sleep.await;
                Instant::now()
            });
            // Only the timer can wake B; our timeout wakes only this future.
            let finished = timeout(Duration::from_secs(2), b)
                .await
                .expect("B was woken by the timer")
                .unwrap();
            assert!(finished >= deadline);
            assert_eq!(
                first_polls.get(),
                1,
                "the timer must not wake A, its former poller"
            );
            a.abort();
        }));
    });
}

/// A task that yields in an endless loop does not stop a timer from
/// firing: an always-runnable task must not freeze time (docs/PITFALLS.md #7).
#[test]
fn a_yield_now_loop_does_not_stop_a_sleep_from_finishing() {
    let slept = within(|| {
        let rt = runtime();
        rt.block_on(async {
            drop(spawn(async {
                loop {
                    yield_now().await;
                }
            }));
            let start = Instant::now();
            sleep(Duration::from_millis(20)).await;
            start.elapsed()
        })
    });
    assert!(slept >= Duration::from_millis(20), "{slept:?}");
    assert!(slept < Duration::from_secs(2), "{slept:?}");
}

/// Same for a future that wakes itself on every poll and is never Ready:
/// the loop's fairness must not depend on tasks using yield_now.
#[test]
fn a_future_that_wakes_itself_on_every_poll_does_not_stop_a_sleep_from_finishing() {
    let slept = within(|| {
        let rt = runtime();
        rt.block_on(async {
            drop(spawn(poll_fn(|cx| {
                cx.waker().wake_by_ref();
                Poll::<()>::Pending
            })));
            let start = Instant::now();
            sleep(Duration::from_millis(20)).await;
            start.elapsed()
        })
    });
    assert!(slept >= Duration::from_millis(20), "{slept:?}");
    assert!(slept < Duration::from_secs(2), "{slept:?}");
}

/// Even block_on's own future, if it spins on yield_now, lets timers fire
/// for the tasks: it takes its turn on the run queue like any task.
#[test]
fn a_spinning_block_on_future_does_not_stop_a_tasks_sleep() {
    let fired_after = within(|| {
        let rt = runtime();
        let fired = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        rt.block_on(async {
            let f = fired.clone();
            drop(spawn(async move {
                sleep(Duration::from_millis(20)).await;
                f.store(1, Ordering::SeqCst);
            }));
            while fired.load(Ordering::SeqCst) == 0 {
                yield_now().await;
            }
        });
        start.elapsed()
    });
    assert!(fired_after >= Duration::from_millis(20), "{fired_after:?}");
    assert!(fired_after < Duration::from_secs(2), "{fired_after:?}");
}

// ------------------------------------------------------------ edges

/// `sleep(Duration::MAX)` means "never": the deadline it computes (which
/// `Instant` cannot hold exactly) is decades away, not a panic and not a
/// few days. A `timeout` with a huge limit relies on it.
#[test]
fn sleep_for_duration_max_has_a_deadline_decades_away() {
    let twenty_years = Duration::from_secs(60 * 60 * 24 * 365 * 20);
    let asked_at = Instant::now();
    let deadline = sleep(Duration::MAX).deadline();
    assert!(
        deadline > asked_at + twenty_years,
        "sleep(Duration::MAX) would end after only {:?}",
        deadline - asked_at
    );
}

/// Dropping the runtime lets go of the waker of every pending timer at
/// once, even while a `Sleep` outlives the runtime: a waker can hold a
/// whole task (and its file descriptors) alive.
#[test]
fn dropping_the_runtime_lets_go_of_every_waker_its_timers_held() {
    within(|| {
        let probe = Arc::new(NoWake);
        let rt = runtime();
        let mut kept: Option<Sleep> = None;
        rt.block_on(async {
            let mut sleep = Box::pin(sleep(Duration::from_secs(3600)));
            let waker = std::task::Waker::from(probe.clone());
            let mut cx = std::task::Context::from_waker(&waker);
            assert!(sleep.as_mut().poll(&mut cx).is_pending());
            kept = Some(*Pin::into_inner(sleep));
        });
        assert_eq!(Arc::strong_count(&probe), 2, "the timer holds our waker");
        drop(rt);
        assert_eq!(
            Arc::strong_count(&probe),
            1,
            "the dropped runtime's timer table still holds the waker"
        );
        drop(kept);
    });
}

/// A waker that does nothing; tests count its references.
struct NoWake;

impl std::task::Wake for NoWake {
    fn wake(self: Arc<Self>) {}
}

/// `Sleep` and `Timeout` say what they are when printed with `{:?}`.
#[test]
fn sleep_and_timeout_print_their_deadline() {
    let sleep = sleep(Duration::from_secs(1));
    let text = format!("{sleep:?}");
    assert!(
        text.starts_with("Sleep")
            && text.contains("deadline")
            && text.contains("registered: false"),
        "{text}"
    );
    let timeout = timeout(Duration::from_secs(1), pending::<()>());
    let text = format!("{timeout:?}");
    assert!(
        text.starts_with("Timeout") && text.contains("deadline"),
        "{text}"
    );
}
