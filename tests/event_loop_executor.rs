//! The event-loop executor: the rules that `spawn`, `JoinHandle`, wakers
//! and `Runtime::block_on` keep. Each test is named for one rule, with a
//! line on why the rule matters.
//!
//! No test may hang. Every test body runs on a watchdog'd std thread
//! (`within`) whose result we take with `recv_timeout`, so even a bug that
//! stalls the whole loop fails the test. Inside, waits are also bounded by
//! `timeout`: its timer wakes the *awaiting* future only, so it fails the
//! test with a clear message without masking the bug it guards.

mod support;
use support::*;

use duet::JoinError;
use duet::event_loop::{JoinHandle, sleep, spawn, yield_now};
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::future::{Future, pending, poll_fn};
use std::hint::black_box;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::task::{Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

/// The thread that `wait_for_flag` waits for: takes the waker, optionally
/// pauses, sets the flag, wakes.
fn waking_thread(
    flag: Arc<AtomicBool>,
    waker_rx: mpsc::Receiver<Waker>,
    pause: Duration,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let waker = waker_rx
            .recv_timeout(PATIENCE)
            .expect("the task was polled and sent its waker");
        thread::sleep(pause);
        flag.store(true, Ordering::Release);
        waker.wake();
    })
}

// ---------------------------------------------------------------- values

/// A JoinHandle carries the task's output back, whatever its type: the
/// handle is how a task returns a value at all.
#[test]
fn join_handle_gives_the_tasks_output() {
    within(|| {
        let rt = runtime();
        rt.block_on(bounded(async {
            let number = spawn(async { 6 * 7 });
            let text = spawn(async {
                yield_now().await;
                String::from("owned text")
            });
            let list = spawn(async {
                let mut v = Vec::new();
                for i in 0..3 {
                    yield_now().await;
                    v.push(format!("item {i}"));
                }
                v
            });
            let unit = spawn(async {});
            assert_eq!(number.await.unwrap(), 42);
            assert_eq!(text.await.unwrap(), "owned text");
            assert_eq!(list.await.unwrap(), ["item 0", "item 1", "item 2"]);
            unit.await.unwrap();
        }));
    });
}

/// Each task has its own id: traces and error messages name tasks by it.
#[test]
fn each_task_has_a_distinct_id() {
    within(|| {
        let rt = runtime();
        let ids: HashSet<_> = rt.block_on(bounded(async {
            let handles: Vec<_> = (0..100).map(|_| spawn(async {})).collect();
            let ids = handles.iter().map(JoinHandle::id).collect();
            for handle in handles {
                handle.await.unwrap();
            }
            ids
        }));
        assert_eq!(ids.len(), 100);
    });
}

// ------------------------------------------------------------ scheduling

/// spawn only queues: code after `spawn` runs before the task does, so a
/// spawner can finish setting up what the task will need.
#[test]
fn spawn_queues_and_the_task_first_runs_when_the_spawner_awaits() {
    within(|| {
        let rt = runtime();
        rt.block_on(bounded(async {
            let ran = Rc::new(Cell::new(false));
            let flag = ran.clone();
            let handle = spawn(async move { flag.set(true) });
            assert!(!ran.get(), "spawn must not poll the task");
            assert!(!handle.is_finished());
            yield_now().await;
            assert!(ran.get(), "the task runs once the spawner yields");
            assert!(handle.is_finished());
            handle.await.unwrap();
        }));
    });
}

/// is_finished means "ran to its end", not "has started": a caller uses it
/// to decide whether awaiting would wait.
#[test]
fn is_finished_stays_false_until_the_task_has_run_to_its_end() {
    within(|| {
        let rt = runtime();
        rt.block_on(bounded(async {
            let step = Rc::new(Cell::new(0));
            let s = step.clone();
            let handle = spawn(async move {
                s.set(1);
                yield_now().await;
                s.set(2);
                yield_now().await;
                s.set(3);
            });
            let mut seen_unfinished_after_start = false;
            while step.get() < 3 {
                if step.get() > 0 {
                    assert!(!handle.is_finished(), "at step {}", step.get());
                    seen_unfinished_after_start = true;
                }
                yield_now().await;
            }
            assert!(seen_unfinished_after_start);
            assert!(handle.is_finished());
            handle.await.unwrap();
        }));
    });
}

/// block_on returns the moment its own future is done, and the runtime
/// keeps the other tasks for the next block_on: a program can drive the
/// loop in several steps.
#[test]
fn block_on_returns_when_its_future_is_done_and_a_later_block_on_continues_the_rest() {
    within(|| {
        let rt = runtime();
        let ran = Rc::new(Cell::new(false));
        let (value, queued, sleeper) = rt.block_on(async {
            let flag = ran.clone();
            let queued = spawn(async move {
                flag.set(true);
                String::from("queued")
            });
            let sleeper = spawn(async {
                sleep(Duration::from_millis(20)).await;
                vec![1, 2, 3]
            });
            (7, queued, sleeper)
        });
        assert_eq!(value, 7);
        assert!(
            !ran.get(),
            "the task was runnable, but block_on returned first"
        );
        assert!(!queued.is_finished() && !sleeper.is_finished());
        assert_eq!(debug_count(&rt, "tasks"), 2, "{rt:?}");

        let (text, list) = rt.block_on(bounded(async { (queued.await, sleeper.await) }));
        assert_eq!(text.unwrap(), "queued");
        assert_eq!(list.unwrap(), [1, 2, 3]);
        assert!(ran.get());
        assert_eq!(
            debug_count(&rt, "tasks"),
            0,
            "claimed tasks leave the table: {rt:?}"
        );
    });
}

// ---------------------------------------------------------------- panics

/// A panicking task becomes an Err for whoever awaits it, and every other
/// task runs on: one bug must not take the whole program down.
#[test]
fn a_panicking_task_gives_an_is_panic_error_and_the_others_keep_running() {
    within(|| {
        let rt = runtime();
        rt.block_on(bounded(async {
            let before = spawn(async {
                yield_now().await;
                1
            });
            let bomb = spawn(async {
                yield_now().await;
                if black_box(true) {
                    panic!("boom");
                }
                0
            });
            let after = spawn(async {
                for _ in 0..5 {
                    yield_now().await;
                }
                2
            });
            let err = bomb.await.unwrap_err();
            assert!(err.is_panic());
            assert!(!err.is_cancelled());
            assert!(err.to_string().contains("boom"), "{err}");
            let payload = err.into_panic();
            assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
            assert_eq!(before.await.unwrap(), 1);
            assert_eq!(after.await.unwrap(), 2);
            // And new work still runs.
            assert_eq!(spawn(async { 3 }).await.unwrap(), 3);
        }));
    });
}

/// A panic in block_on's own future reaches its caller, like a panic in any
/// function call; and the runtime (its tasks too) is still usable after.
#[test]
fn a_panic_in_the_block_on_future_reaches_the_caller_and_the_runtime_survives() {
    within(|| {
        let rt = runtime();
        let slot: Rc<RefCell<Option<JoinHandle<u32>>>> = Rc::default();
        let result = catch_unwind(AssertUnwindSafe(|| {
            rt.block_on(async {
                *slot.borrow_mut() = Some(spawn(async {
                    yield_now().await;
                    3
                }));
                yield_now().await;
                if black_box(true) {
                    panic!("main boom");
                }
            })
        }));
        let payload = result.expect_err("the panic passes through block_on");
        assert_eq!(panic_message(&*payload), "main boom");

        // The runtime no longer counts as running on this thread...
        let outside = catch_unwind(|| drop(spawn(async {})));
        assert!(panic_message(&*outside.unwrap_err()).contains("outside"));
        // ...its task survived, and it still runs new ones.
        let handle = slot.borrow_mut().take().unwrap();
        assert_eq!(rt.block_on(bounded(handle)).unwrap(), 3);
        let fresh = rt.block_on(bounded(async { spawn(async { 4 }).await }));
        assert_eq!(fresh.unwrap(), 4);
    });
}

// ----------------------------------------------------------------- abort

/// abort cancels a waiting task, and its future (with everything it owns)
/// is gone by the time the handle says so: resources are released.
#[test]
fn abort_of_a_pending_task_gives_cancelled_and_has_dropped_its_future() {
    within(|| {
        let rt = runtime();
        rt.block_on(bounded(async {
            let log = DropLog::default();
            let guard = log.guard();
            let started = Rc::new(Cell::new(false));
            let s = started.clone();
            let handle = spawn(async move {
                let _guard = guard;
                s.set(true);
                pending::<()>().await;
            });
            yield_now().await;
            assert!(started.get(), "the task is now waiting");
            assert_eq!(log.dropped(), 0);
            handle.abort();
            let err = handle.await.unwrap_err();
            assert!(err.is_cancelled());
            assert!(!err.is_panic());
            assert_eq!(log.dropped(), 1, "dropped by the time the handle resolved");
        }));
    });
}

/// Aborting a task that never ran cancels it before it starts: its body
/// never runs, and what it captured is dropped.
#[test]
fn abort_before_the_first_poll_means_the_task_never_runs() {
    within(|| {
        let rt = runtime();
        rt.block_on(bounded(async {
            let log = DropLog::default();
            let guard = log.guard();
            let started = Rc::new(Cell::new(false));
            let s = started.clone();
            let handle = spawn(async move {
                let _guard = guard;
                s.set(true);
            });
            handle.abort();
            assert!(handle.await.unwrap_err().is_cancelled());
            assert!(!started.get());
            assert_eq!(log.dropped(), 1);
        }));
    });
}

/// abort after the task finished changes nothing: a result that exists is
/// never thrown away.
#[test]
fn abort_after_completion_keeps_the_output() {
    within(|| {
        let rt = runtime();
        rt.block_on(bounded(async {
            let handle = spawn(async { String::from("kept") });
            while !handle.is_finished() {
                yield_now().await;
            }
            handle.abort();
            assert_eq!(handle.await.unwrap(), "kept");
        }));
    });
}

/// A task that aborts itself stops at its next `.await`: cancellation is a
/// promise that no more of its code runs.
#[test]
fn a_task_that_aborts_itself_does_not_run_past_its_next_await() {
    within(|| {
        let rt = runtime();
        rt.block_on(bounded(async {
            let log = DropLog::default();
            let guard = log.guard();
            let own_handle: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::default();
            let step = Rc::new(Cell::new(0));
            let (slot, s) = (own_handle.clone(), step.clone());
            let handle = spawn(async move {
                let _guard = guard;
                s.set(1);
                slot.borrow().as_ref().expect("handle stored").abort();
                s.set(2); // synchronous code up to the await still runs
                yield_now().await;
                s.set(3); // must never run
            });
            *own_handle.borrow_mut() = Some(handle);
            while step.get() < 2 {
                yield_now().await;
            }
            let handle = own_handle.borrow_mut().take().unwrap();
            assert!(handle.await.unwrap_err().is_cancelled());
            for _ in 0..10 {
                yield_now().await;
            }
            assert_eq!(step.get(), 2, "the task ran past its await");
            assert_eq!(log.dropped(), 1);
        }));
    });
}

// ---------------------------------------------------------------- detach

/// Dropping a JoinHandle detaches the task: it still runs to the end (as
/// a std thread does), and its output, which no one can read, is dropped.
#[test]
fn dropping_a_join_handle_detaches_the_task_and_its_output_is_dropped() {
    within(|| {
        let rt = runtime();
        rt.block_on(bounded(async {
            let log = DropLog::default();
            let finished = Rc::new(Cell::new(false));
            let (f, output) = (finished.clone(), log.guard());
            let handle = spawn(async move {
                for _ in 0..3 {
                    yield_now().await;
                }
                f.set(true);
                output
            });
            drop(handle);
            while !finished.get() {
                yield_now().await;
            }
            yield_now().await;
            assert_eq!(log.dropped(), 1, "the detached task's output was dropped");
        }));
        assert_eq!(
            debug_count(&rt, "tasks"),
            0,
            "a detached task leaves the table: {rt:?}"
        );
    });
}

// ------------------------------------------------------------ one thread

/// Tasks need not be Send: `Rc<RefCell<..>>` may be shared between them,
/// because every task runs on the one loop thread.
#[test]
fn tasks_need_not_be_send_and_may_share_rc_refcell() {
    within(|| {
        let rt = runtime();
        let shared = rt.block_on(bounded(async {
            let shared = Rc::new(RefCell::new(Vec::new()));
            let handles: Vec<_> = (0..10)
                .map(|i| {
                    let shared = shared.clone();
                    spawn(async move {
                        yield_now().await;
                        shared.borrow_mut().push(i);
                        Rc::new(i) // a !Send output, too
                    })
                })
                .collect();
            for (i, handle) in handles.into_iter().enumerate() {
                assert_eq!(*handle.await.unwrap(), i);
            }
            shared
        }));
        let mut values = shared.borrow().clone();
        values.sort_unstable();
        assert_eq!(values, (0..10).collect::<Vec<_>>());
    });
}

/// Every task is polled on the thread that called block_on: that is what
/// "one thread, many tasks" means.
#[test]
fn every_task_is_polled_on_the_block_on_thread() {
    within(|| {
        let rt = runtime();
        let seen = rt.block_on(bounded(async {
            let seen = Rc::new(RefCell::new(HashSet::new()));
            let handles: Vec<_> = (0..20)
                .map(|_| {
                    let seen = seen.clone();
                    spawn(async move {
                        for _ in 0..3 {
                            seen.borrow_mut().insert(thread::current().id());
                            sleep(Duration::from_millis(1)).await;
                        }
                        seen.borrow_mut().insert(thread::current().id());
                    })
                })
                .collect();
            for handle in handles {
                handle.await.unwrap();
            }
            seen.take()
        }));
        assert_eq!(seen, HashSet::from([thread::current().id()]));
    });
}

// ----------------------------------------------------------------- wakes

/// Wakes coalesce: a task woken a thousand times before it runs is queued
/// and polled once, so wakes cost no memory and no wasted polls. (The
/// body is shared with `pitfall_06_a_million_wakes_queue_a_task_once`.)
#[test]
fn a_thousand_wakes_during_one_poll_mean_exactly_one_more_poll() {
    within(|| {
        let rt = runtime();
        rt.block_on(bounded(wakes_during_one_poll_mean_one_more_poll(1000)));
    });
}

/// A wake during the task's own poll is not lost: the task is polled again
/// afterwards, once per such poll (this is how yield_now works).
#[test]
fn a_future_that_wakes_itself_n_times_is_polled_n_plus_one_times() {
    within(|| {
        const N: usize = 100;
        let rt = runtime();
        rt.block_on(bounded(async {
            let polls = Rc::new(Cell::new(0));
            let p = polls.clone();
            let handle = spawn(poll_fn(move |cx| {
                p.set(p.get() + 1);
                if p.get() <= N {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                } else {
                    Poll::Ready(p.get())
                }
            }));
            assert_eq!(handle.await.unwrap(), N + 1);
            for _ in 0..10 {
                yield_now().await;
            }
            assert_eq!(polls.get(), N + 1);
        }));
    });
}

/// Wakers are Send: wakes from many threads at once all reach the loop,
/// which is how other threads hand results to async code.
#[test]
fn wakes_from_eight_other_threads_all_arrive() {
    within(|| {
        let rt = runtime();
        let threads = rt.block_on(bounded(async {
            let mut handles = Vec::new();
            let mut threads = Vec::new();
            for _ in 0..8 {
                let flag = Arc::new(AtomicBool::new(false));
                let (tx, rx) = mpsc::channel();
                threads.push(waking_thread(flag.clone(), rx, Duration::ZERO));
                handles.push(spawn(wait_for_flag(flag, tx)));
            }
            for handle in handles {
                handle.await.unwrap();
            }
            threads
        }));
        for thread in threads {
            thread.join().unwrap();
        }
    });
}

/// A wake from another thread reaches a loop that is asleep in epoll with
/// no timer to wake it: otherwise a program waiting only on other threads
/// would sleep forever. (No `timeout` here: its timer would wake the loop
/// and hide the bug; the watchdog thread bounds the test instead.)
#[test]
fn a_wake_from_another_thread_reaches_a_parked_loop() {
    let elapsed = within(|| {
        let rt = runtime();
        let flag = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        // The pause lets the loop find nothing to do and park first.
        let waker = waking_thread(flag.clone(), rx, Duration::from_millis(50));
        let start = Instant::now();
        rt.block_on(async { spawn(wait_for_flag(flag, tx)).await.unwrap() });
        waker.join().unwrap();
        start.elapsed()
    });
    assert!(elapsed >= Duration::from_millis(50), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

/// A waker may outlive its runtime (a thread may still hold it); waking it
/// then is a harmless no-op, from any thread.
#[test]
fn a_waker_kept_after_the_runtime_dropped_can_still_be_woken() {
    within(|| {
        let rt = runtime();
        let waker = rt.block_on(bounded(async {
            let handle = spawn(async {
                let mut kept = None;
                poll_fn(|cx| {
                    kept = Some(cx.waker().clone());
                    Poll::Ready(())
                })
                .await;
                kept.unwrap()
            });
            handle.await.unwrap()
        }));
        let main_waker = rt.block_on(poll_fn(|cx| Poll::Ready(cx.waker().clone())));
        drop(rt);
        waker.wake_by_ref();
        main_waker.wake_by_ref();
        let (tx, rx) = mpsc::channel();
        let (w1, w2) = (waker.clone(), main_waker.clone());
        thread::spawn(move || {
            w1.wake();
            w2.wake();
            tx.send(()).unwrap();
        });
        rx.recv_timeout(PATIENCE)
            .expect("waking a dead runtime's waker from another thread returned");
        waker.wake();
        main_waker.wake();
    });
}

// ---------------------------------------------------------------- misuse

/// spawn outside block_on panics with a message that says why, instead of
/// queueing a task no loop will ever run.
#[test]
fn spawn_outside_block_on_panics_saying_outside() {
    within(|| {
        let payload = catch_unwind(|| drop(spawn(async {}))).expect_err("spawn must panic");
        let message = panic_message(&*payload);
        assert!(message.contains("outside"), "{message}");
    });
}

/// block_on inside block_on panics with a message that says why: the inner
/// call would block the outer loop and every task on it.
#[test]
fn block_on_inside_block_on_panics_saying_inside() {
    within(|| {
        let rt = runtime();
        let other = runtime();
        rt.block_on(bounded(async {
            let same = catch_unwind(AssertUnwindSafe(|| rt.block_on(async {})));
            let message = panic_message(&*same.expect_err("nested block_on must panic"));
            assert!(message.contains("inside"), "{message}");

            let different = catch_unwind(AssertUnwindSafe(|| other.block_on(async {})));
            let message = panic_message(&*different.expect_err("nested block_on must panic"));
            assert!(message.contains("inside"), "{message}");

            // The same mistake inside a task is reported through its handle.
            let err = spawn(async { runtime().block_on(async {}) })
                .await
                .unwrap_err();
            let message = panic_message(&*err.into_panic());
            assert!(message.contains("inside"), "{message}");

            // And the outer loop is unharmed.
            assert_eq!(spawn(async { 5 }).await.unwrap(), 5);
        }));
    });
}

// -------------------------------------------------------------- shutdown

/// Dropping the runtime drops every future it still holds, exactly once,
/// even those that own their own handle or waker: no leaks, no cycles.
#[test]
fn dropping_the_runtime_drops_every_pending_future_exactly_once() {
    within(|| {
        let log = DropLog::default();
        let rt = runtime();
        // The block hands a JoinHandle out of block_on on purpose.
        #[allow(clippy::async_yields_async)]
        let unclaimed = rt.block_on(async {
            // Waits forever.
            let g = log.guard();
            drop(spawn(async move {
                let _g = g;
                pending::<()>().await;
            }));
            // Waits on a timer.
            let g = log.guard();
            drop(spawn(async move {
                let _g = g;
                sleep(Duration::from_secs(3600)).await;
            }));
            // Owns its own JoinHandle: a cycle through the task table.
            let g = log.guard();
            let own: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::default();
            let slot = own.clone();
            *own.borrow_mut() = Some(spawn(async move {
                let _g = g;
                let _own = slot;
                pending::<()>().await;
            }));
            // Owns its own waker.
            let g = log.guard();
            drop(spawn(async move {
                let _g = g;
                let mut own_waker: Option<Waker> = None;
                poll_fn(|cx| {
                    own_waker = Some(cx.waker().clone());
                    Poll::<()>::Pending
                })
                .await;
            }));
            // Two tasks that own each other's handles.
            let (g1, g2) = (log.guard(), log.guard());
            let a_slot: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::default();
            let b_slot: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::default();
            let (a_holds_b, b_holds_a) = (b_slot.clone(), a_slot.clone());
            *a_slot.borrow_mut() = Some(spawn(async move {
                let _g = g1;
                let _b = a_holds_b;
                pending::<()>().await;
            }));
            *b_slot.borrow_mut() = Some(spawn(async move {
                let _g = g2;
                let _a = b_holds_a;
                pending::<()>().await;
            }));
            // Finished, with an output nobody has claimed yet.
            let g = log.guard();
            let unclaimed = spawn(async move { g });
            yield_now().await; // everything above runs once
            // Queued, never polled.
            let g = log.guard();
            drop(spawn(async move {
                let _g = g;
            }));
            unclaimed
        });
        assert_eq!(log.created(), 8);
        assert_eq!(
            log.dropped(),
            0,
            "nothing is dropped while the runtime lives"
        );
        assert!(unclaimed.is_finished());
        drop(rt);
        assert_eq!(
            log.dropped(),
            log.created(),
            "every future and output dropped"
        );
        drop(unclaimed);
        assert_eq!(log.dropped(), log.created(), "and none twice");
    });
}

/// Dropping a runtime with pending tasks returns at once: shutdown drops
/// futures, it never waits for them.
#[test]
fn dropping_a_runtime_with_pending_tasks_never_hangs() {
    let took = within(|| {
        let rt = runtime();
        rt.block_on(async {
            for i in 0..1000 {
                let task = async move {
                    match i % 4 {
                        0 => pending::<()>().await,
                        1 => sleep(Duration::from_secs(3600)).await,
                        2 => loop {
                            yield_now().await;
                        },
                        _ => {
                            let inner = spawn(pending::<()>());
                            inner.await.unwrap();
                        }
                    }
                };
                drop(spawn(task));
            }
            yield_now().await;
        });
        let start = Instant::now();
        drop(rt);
        start.elapsed()
    });
    assert!(took < Duration::from_secs(1), "{took:?}");
}

/// A handle that outlives its runtime reports the task as cancelled: the
/// runtime shut down and the task with it.
#[test]
fn a_join_handle_awaited_after_its_runtime_dropped_gives_cancelled() {
    within(|| {
        let first = runtime();
        let (waiting, finished) = first.block_on(async {
            let waiting = spawn(pending::<u32>());
            let finished = spawn(async { 1u32 });
            yield_now().await;
            (waiting, finished)
        });
        assert!(!waiting.is_finished());
        drop(first);
        assert!(waiting.is_finished(), "a cancelled task counts as finished");
        let second = runtime();
        let (a, b) = second.block_on(bounded(async { (waiting.await, finished.await) }));
        assert!(a.unwrap_err().is_cancelled());
        assert!(
            b.unwrap_err().is_cancelled(),
            "its output went with the runtime"
        );
    });
}

// -------------------------------------------------------- many runtimes

/// Runtimes are independent: several may run at once on different threads
/// (each thread its own loop), as a server with a loop per core does.
#[test]
fn several_runtimes_run_at_once_on_different_threads() {
    within(|| {
        const THREADS: usize = 4;
        let inside = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel();
        for t in 0..THREADS {
            let (inside, tx) = (inside.clone(), tx.clone());
            thread::spawn(move || {
                let rt = runtime();
                let sum: usize = rt.block_on(bounded(async {
                    inside.fetch_add(1, Ordering::SeqCst);
                    // Every runtime is inside block_on at the same time.
                    while inside.load(Ordering::SeqCst) < THREADS {
                        sleep(Duration::from_millis(1)).await;
                    }
                    let handles: Vec<_> = (0..100)
                        .map(|i| {
                            spawn(async move {
                                yield_now().await;
                                i * t
                            })
                        })
                        .collect();
                    let mut sum = 0;
                    for handle in handles {
                        sum += handle.await.unwrap();
                    }
                    sum
                }));
                tx.send((t, sum)).unwrap();
            });
        }
        drop(tx);
        let mut results = Vec::new();
        for _ in 0..THREADS {
            results.push(rx.recv_timeout(PATIENCE).expect("every runtime finished"));
        }
        results.sort_unstable();
        let expected: Vec<_> = (0..THREADS).map(|t| (t, 4950 * t)).collect();
        assert_eq!(results, expected);
    });
}

/// Runtimes may follow one another on one thread, or take turns: each
/// keeps its own tasks, and a finished task's handle works from anywhere.
#[test]
fn runtimes_may_follow_one_another_or_take_turns_on_one_thread() {
    within(|| {
        let first = runtime();
        assert_eq!(
            first
                .block_on(bounded(async { spawn(async { 1 }).await }))
                .unwrap(),
            1
        );
        drop(first);
        let second = runtime();
        assert_eq!(
            second
                .block_on(bounded(async { spawn(async { 2 }).await }))
                .unwrap(),
            2
        );

        let third = runtime();
        let progress = Rc::new(Cell::new(0));
        let p = progress.clone();
        // The block hands a JoinHandle out of block_on on purpose.
        #[allow(clippy::async_yields_async)]
        let on_second = second.block_on(async {
            spawn(async move {
                p.set(1);
                yield_now().await;
                p.set(2);
                "from second"
            })
        });
        // Driving the third runtime does not run the second one's task...
        third.block_on(bounded(async {
            for _ in 0..10 {
                yield_now().await;
            }
        }));
        assert_eq!(progress.get(), 0);
        // ...driving the second does.
        second.block_on(bounded(async {
            while !on_second.is_finished() {
                yield_now().await;
            }
        }));
        assert_eq!(progress.get(), 2);
        // A finished task's output can be taken inside another runtime.
        assert_eq!(third.block_on(bounded(on_second)).unwrap(), "from second");
    });
}

// ----------------------------------------------------------------- errors

/// JoinError is a std Error (Display + Error + Send + Sync), so `?` can pass
/// it up as a `Box<dyn Error + Send + Sync>` like any other error.
#[test]
fn join_error_works_with_question_mark_and_display() {
    within(|| {
        async fn sum_of_tasks() -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
            let fine = spawn(async { 1u32 }).await?;
            let broken = spawn(async {
                if black_box(true) {
                    panic!("kaput");
                }
                2u32
            })
            .await?;
            Ok(fine + broken)
        }
        let rt = runtime();
        let err = rt.block_on(bounded(sum_of_tasks())).unwrap_err();
        assert!(err.to_string().contains("kaput"), "{err}");
        let join_error = err.downcast_ref::<JoinError>().expect("it is a JoinError");
        assert!(join_error.is_panic());
        assert!(!format!("{join_error:?}").is_empty());

        let cancelled = rt.block_on(bounded(async {
            let handle = spawn(pending::<()>());
            handle.abort();
            handle.await.unwrap_err()
        }));
        assert!(cancelled.to_string().contains("cancel"), "{cancelled}");
    });
}

// ---------------------------------------------------------------- the loop's sleep

/// How long this thread has run on a CPU so far (from the kernel's
/// scheduler statistics).
fn cpu_time_of_this_thread() -> Duration {
    let stats = std::fs::read_to_string("/proc/thread-self/schedstat")
        .expect("Linux keeps scheduler statistics per thread");
    let nanos = stats.split_whitespace().next().expect("the time on CPU");
    Duration::from_nanos(nanos.parse().expect("a number of nanoseconds"))
}

/// With nothing to run, the loop sleeps in `epoll_wait` until its next
/// deadline: a 300 ms sleep costs the thread almost no CPU. A loop that
/// polled in a circle instead would still be correct, and burn a core.
#[test]
fn a_loop_with_nothing_to_do_sleeps_in_the_kernel_instead_of_spinning() {
    within(|| {
        let rt = runtime();
        let before = cpu_time_of_this_thread();
        rt.block_on(sleep(Duration::from_millis(300)));
        let used = cpu_time_of_this_thread() - before;
        assert!(
            used < Duration::from_millis(50),
            "the loop used {used:?} of CPU to wait 300 ms: it spins instead of parking"
        );
    });
}

/// A stop signal and a `SIGCONT` make a parked `epoll_wait` return
/// `Interrupted` (Linux does that even with no signal handler). The loop
/// treats it as a spurious wake-up and parks again; the program finishes
/// as if nothing happened.
#[test]
fn a_loop_stopped_and_continued_while_parked_carries_on() {
    use support::examples::Running;
    let mut hello = Running::start_with("hello_event_loop", &[], |command| {
        command.env("DUET_TRACE", "1");
    });
    // Its three tasks sleep 100-300 ms; once it parks, stop and continue
    // it a few times while it waits.
    hello.wait_for_stderr("loop parks", PATIENCE);
    let pid = hello.child.id().to_string();
    for _ in 0..5 {
        for signal in ["-STOP", "-CONT"] {
            let status = std::process::Command::new("kill")
                .args([signal, &pid])
                .status()
                .expect("kill runs");
            assert!(status.success(), "kill {signal} {pid} failed");
        }
    }
    let (status, stdout) = hello.finish(PATIENCE);
    assert!(
        status.success(),
        "the stopped and continued loop failed: {status}\n{}",
        hello.stderr()
    );
    assert!(
        stdout.contains("done"),
        "it did not finish its work:\n{stdout}"
    );
}

/// The budget limits the polls the runtime makes; a future polled by hand
/// outside it, on the same thread and after a runtime ran there, is never
/// refused (there is no task to reschedule).
#[test]
fn futures_polled_outside_the_runtime_are_never_refused_by_the_budget() {
    within(|| {
        let rt = runtime();
        let (tx, rx) = duet::event_loop::channel::unbounded();
        // A runtime poll that spends part of its budget on channel sends.
        rt.block_on(async {
            for i in 0..100 {
                tx.send(i).await.unwrap();
            }
        });
        // Outside: 100 receives, then 900 sends and receives, by hand.
        for i in 0..1_000 {
            if i >= 100 {
                assert_eq!(
                    poll_once_by_hand(tx.send(i)),
                    Poll::Ready(Ok(())),
                    "send #{i}"
                );
            }
            assert_eq!(
                poll_once_by_hand(rx.recv()),
                Poll::Ready(Some(i)),
                "receive #{i}"
            );
        }
    });
}

/// Polls `future` once, by hand, with a waker that does nothing.
fn poll_once_by_hand<F: Future>(future: F) -> Poll<F::Output> {
    let mut cx = std::task::Context::from_waker(Waker::noop());
    std::pin::pin!(future).poll(&mut cx)
}

/// A `JoinHandle` prints as what it is: the task's id and whether it has
/// finished.
#[test]
fn a_join_handle_prints_its_task_and_whether_it_finished() {
    within(|| {
        runtime().block_on(async {
            let handle = spawn(async {});
            let text = format!("{handle:?}");
            assert!(
                text.starts_with("JoinHandle") && text.contains("finished: false"),
                "{text}"
            );
            yield_now().await;
            let text = format!("{handle:?}");
            assert!(text.contains("finished: true"), "{text}");
        });
    });
}
