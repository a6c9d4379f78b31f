//! The catalogue: one test (or a few) for each of the ten classic executor
//! bugs in `docs/PITFALLS.md`, named `pitfall_NN_...`. Each doc comment quotes
//! the pitfall in one line and says how duet avoids it; the test shows
//! that it does.
//!
//! No test may hang. Every test body runs on a watchdog'd std thread
//! (`within`) whose result we take with `recv_timeout`, so even a bug that
//! stalls the whole loop fails the test. Inside, waits are also bounded by
//! `timeout`, whose timer wakes the *awaiting* future only, so it cannot
//! mask the bug under test.

mod support;
use support::*;

use duet::event_loop::{JoinHandle, Runtime, sleep, spawn, timeout, yield_now};
use std::cell::{Cell, RefCell};
use std::future::{Future, pending, poll_fn};
use std::hint::black_box;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

/// A future that counts its polls in `polls` and is never ready and never
/// arranges a wake.
fn count_polls_forever(polls: Rc<Cell<usize>>) -> impl Future<Output = ()> {
    poll_fn(move |_| {
        polls.set(polls.get() + 1);
        Poll::Pending
    })
}

// ------------------------------------------------------------------ #1

/// #1 "Returning `Pending` without arranging a wake, so the task hangs
/// forever." No executor can repair such a future; duet's `yield_now` and
/// `Sleep` always arrange their wake first, and `timeout` bounds a wait on
/// a future you do not trust: its timer wakes the *awaiting* task.
#[test]
fn pitfall_01_pending_without_a_wake_hangs_and_timeout_bounds_it() {
    within(|| {
        let rt = runtime();
        rt.block_on(bounded(async {
            let polls = Rc::new(Cell::new(0));
            let mut forgetful = spawn(count_polls_forever(polls.clone()));
            // Give the loop every chance: many turns, and time for a park.
            for _ in 0..200 {
                yield_now().await;
            }
            sleep(Duration::from_millis(20)).await;
            assert_eq!(
                polls.get(),
                1,
                "polled once, then never again: nobody holds its waker"
            );
            assert!(!forgetful.is_finished());

            let start = Instant::now();
            let waited = timeout(Duration::from_millis(30), &mut forgetful).await;
            assert!(
                waited.is_err(),
                "the hang is real; only the timeout ended the wait"
            );
            assert!(start.elapsed() >= Duration::from_millis(30));
            assert_eq!(polls.get(), 1);

            forgetful.abort();
            assert!(forgetful.await.unwrap_err().is_cancelled());
        }));
    });
}

// ------------------------------------------------------------------ #2

/// #2 "Stale waker: storing the waker once and not updating it on later
/// polls." A `Sleep` replaces its stored waker on every poll unless
/// `will_wake` says it is the same, so a sleep moved to another task wakes
/// that task.
#[test]
fn pitfall_02_a_sleep_moved_between_tasks_wakes_its_latest_poller() {
    within(|| {
        let rt = runtime();
        rt.block_on(bounded(async {
            let deadline = Instant::now() + Duration::from_millis(30);
            let slot: Rc<RefCell<Option<duet::event_loop::Sleep>>> = Rc::default();
            let a_polls = Rc::new(Cell::new(0));
            let (give, polls) = (slot.clone(), a_polls.clone());
            let a = spawn(async move {
                let mut nap = duet::event_loop::sleep_until(deadline);
                let first = poll_fn(|cx| Poll::Ready(Pin::new(&mut nap).poll(cx))).await;
                *give.borrow_mut() = Some(nap);
                if first.is_pending() {
                    count_polls_forever(polls).await;
                }
            });
            let take = slot.clone();
            let b = spawn(async move {
                while take.borrow().is_none() {
                    yield_now().await;
                }
                let nap = take.borrow_mut().take().unwrap();
                nap.await;
            });
            timeout(Duration::from_secs(2), b)
                .await
                .expect("the timer woke B, the sleep's latest poller")
                .unwrap();
            assert!(Instant::now() >= deadline);
            assert_eq!(a_polls.get(), 1, "A, the former poller, was not woken");
            a.abort();
        }));
    });
}

/// #2, for JoinHandles: a handle polled in one task and then awaited in
/// another wakes the latest awaiter when the task finishes (it keeps the
/// newest waker, as `Sleep` does).
#[test]
fn pitfall_02_a_join_handle_moved_between_tasks_wakes_its_latest_poller() {
    within(|| {
        let rt = runtime();
        rt.block_on(bounded(async {
            let worker = spawn(async {
                sleep(Duration::from_millis(30)).await;
                5
            });
            let slot: Rc<RefCell<Option<JoinHandle<i32>>>> = Rc::default();
            let a_polls = Rc::new(Cell::new(0));
            let (give, polls) = (slot.clone(), a_polls.clone());
            let mut worker = Some(worker);
            let a = spawn(async move {
                let mut handle = worker.take().unwrap();
                let first =
                    poll_fn(|cx| Poll::Ready(Pin::new(&mut handle).poll(cx).is_pending())).await;
                assert!(first, "the worker is still sleeping");
                *give.borrow_mut() = Some(handle);
                count_polls_forever(polls).await;
            });
            let take = slot.clone();
            let b = spawn(async move {
                while take.borrow().is_none() {
                    yield_now().await;
                }
                let handle = take.borrow_mut().take().unwrap();
                handle.await.unwrap()
            });
            let value = timeout(Duration::from_secs(2), b)
                .await
                .expect("the finishing worker woke B, its latest awaiter")
                .unwrap();
            assert_eq!(value, 5);
            assert_eq!(a_polls.get(), 1, "A, the former awaiter, was not woken");
            a.abort();
        }));
    });
}

// ------------------------------------------------------------------ #3

/// #3 "Check-then-sleep race: a wake lands between 'queue empty' and
/// park." duet parks in `epoll_wait` and a cross-thread wake writes an
/// eventfd registered there, so a wake that lands just before the park
/// makes the park return at once: 1,000 racing wakes, none lost. (No
/// timers run in this loop, so nothing else would ever wake it.)
#[test]
fn pitfall_03_a_thousand_wakes_racing_the_park_are_never_lost() {
    const ROUNDS: usize = 1000;
    let woken = within(|| {
        let rt = runtime();
        let (tx, rx) = mpsc::channel::<(Waker, Arc<AtomicBool>)>();
        // The other thread wakes each waker as soon as it gets it: the wake
        // lands before, during or after the loop's park.
        let waker_thread = thread::spawn(move || {
            let mut woken = 0;
            while let Ok((waker, flag)) = rx.recv_timeout(PATIENCE) {
                flag.store(true, Ordering::Release);
                waker.wake();
                woken += 1;
            }
            woken
        });
        let once = move |tx: mpsc::Sender<(Waker, Arc<AtomicBool>)>| {
            let flag = Arc::new(AtomicBool::new(false));
            let mut tx = Some(tx);
            poll_fn(move |cx| {
                if flag.load(Ordering::Acquire) {
                    return Poll::Ready(());
                }
                if let Some(tx) = tx.take() {
                    tx.send((cx.waker().clone(), flag.clone())).unwrap();
                }
                Poll::Pending
            })
        };
        rt.block_on(async {
            for round in 0..ROUNDS {
                // Alternate between block_on's own future and a task.
                if round % 2 == 0 {
                    once(tx.clone()).await;
                } else {
                    spawn(once(tx.clone())).await.unwrap();
                }
            }
        });
        drop(tx);
        waker_thread.join().unwrap()
    });
    assert_eq!(woken, ROUNDS);
}

// ------------------------------------------------------------------ #4

/// #4 "`thread::park` token theft and nested `block_on`." duet forbids
/// nesting: `block_on` inside `block_on` panics with a message saying so,
/// rather than stalling the outer loop; the outer loop runs on.
#[test]
fn pitfall_04_nested_block_on_panics_and_the_outer_loop_runs_on() {
    within(|| {
        let rt = runtime();
        let inner = runtime();
        rt.block_on(bounded(async {
            let pending_task = spawn(async {
                sleep(Duration::from_millis(5)).await;
                1
            });
            let nested = catch_unwind(AssertUnwindSafe(|| inner.block_on(async { 2 })));
            let message = panic_message(&*nested.expect_err("nested block_on must panic"));
            assert!(message.contains("inside"), "{message}");
            let same = catch_unwind(AssertUnwindSafe(|| rt.block_on(async { 3 })));
            let message = panic_message(&*same.expect_err("nested block_on must panic"));
            assert!(message.contains("inside"), "{message}");
            assert_eq!(pending_task.await.unwrap(), 1, "the outer loop still works");
        }));
        // Outside, the inner runtime is fine to use.
        assert_eq!(inner.block_on(async { 4 }), 4);
    });
}

/// #4, token theft: code on the loop thread that calls `thread::park`
/// itself (as once_cell did in futures-rs#2010) cannot swallow a wake-up,
/// because duet never uses park tokens: a wake is an eventfd write that
/// `epoll_wait` sees.
#[test]
fn pitfall_04_a_task_that_steals_park_tokens_cannot_swallow_a_wake() {
    within(|| {
        let rt = runtime();
        let flag = Arc::new(AtomicBool::new(false));
        let (waker_tx, waker_rx) = mpsc::channel::<Waker>();
        let (ack_tx, ack_rx) = mpsc::channel::<()>();
        let helper_flag = flag.clone();
        let helper = thread::spawn(move || {
            let waker = waker_rx.recv_timeout(PATIENCE).unwrap();
            helper_flag.store(true, Ordering::Release);
            waker.wake(); // a park-based executor would unpark the loop thread here
            ack_tx.send(()).unwrap();
        });
        let polls = Rc::new(Cell::new(0));
        let p = polls.clone();
        let mut waker_tx = Some(waker_tx);
        let task = poll_fn(move |cx| {
            p.set(p.get() + 1);
            if flag.load(Ordering::Acquire) {
                return Poll::Ready(());
            }
            if let Some(tx) = waker_tx.take() {
                tx.send(cx.waker().clone()).unwrap();
                // The wake happens while we are still being polled...
                ack_rx.recv_timeout(PATIENCE).unwrap();
                // ...and then we steal the park token it may have left.
                thread::park_timeout(Duration::from_millis(10));
            }
            Poll::Pending
        });
        // No timers in this loop: only the wake can finish the task.
        rt.block_on(async { spawn(task).await.unwrap() });
        helper.join().unwrap();
        assert_eq!(polls.get(), 2);
    });
}

// ------------------------------------------------------------------ #5

/// #5 "Polling a future after it returned `Ready`, triggered by a spurious
/// or late wake." duet drops a task's future the moment it is Ready, and a
/// wake only names a task by a generation-checked key: a late wake of a
/// finished task (claimed or not, from any thread, even after a new task
/// took its slot) is skipped.
#[test]
fn pitfall_05_a_late_wake_after_ready_never_polls_again() {
    within(|| {
        let rt = runtime();
        rt.block_on(bounded(async {
            let (waker_tx, waker_rx) = mpsc::channel::<Waker>();
            // Ready at its first poll, having handed its waker out; panics if
            // polled again, as an `async` block would.
            let ready_once = |polls: Rc<Cell<usize>>, wake_while_finishing: bool| {
                let tx = waker_tx.clone();
                poll_fn(move |cx| {
                    polls.set(polls.get() + 1);
                    assert_eq!(polls.get(), 1, "polled after it returned Ready");
                    tx.send(cx.waker().clone()).unwrap();
                    if wake_while_finishing {
                        cx.waker().wake_by_ref();
                    }
                    Poll::Ready(7)
                })
            };
            let polls: Vec<Rc<Cell<usize>>> = (0..3).map(|_| Rc::default()).collect();
            let claimed = spawn(ready_once(polls[0].clone(), false));
            let unclaimed = spawn(ready_once(polls[1].clone(), false));
            let woke_itself = spawn(ready_once(polls[2].clone(), true));
            assert_eq!(claimed.await.unwrap(), 7);
            while !unclaimed.is_finished() || !woke_itself.is_finished() {
                yield_now().await;
            }
            let wakers: Vec<Waker> = waker_rx.try_iter().collect();
            assert_eq!(wakers.len(), 3);
            // A new task, likely in the claimed task's slot, that counts polls
            // and arranges no wake.
            let newcomer_polls = Rc::new(Cell::new(0));
            let newcomer = spawn(count_polls_forever(newcomer_polls.clone()));
            yield_now().await;

            // Late wakes from this thread...
            for waker in &wakers {
                for _ in 0..100 {
                    waker.wake_by_ref();
                }
            }
            for _ in 0..100 {
                yield_now().await;
            }
            // ...and from another, followed by a sentinel's wake, so that once
            // the sentinel has run, every late wake has been through the loop.
            let flag = Arc::new(AtomicBool::new(false));
            let (sentinel_tx, sentinel_rx) = mpsc::channel();
            let sentinel = spawn(wait_for_flag(flag.clone(), sentinel_tx));
            yield_now().await;
            let sentinel_waker = sentinel_rx.try_recv().expect("the sentinel was polled");
            let late = thread::spawn(move || {
                for _ in 0..100 {
                    for waker in &wakers {
                        waker.wake_by_ref();
                    }
                }
                flag.store(true, Ordering::Release);
                sentinel_waker.wake();
            });
            sentinel.await.unwrap();
            late.join().unwrap();

            let counts: Vec<usize> = polls.iter().map(|p| p.get()).collect();
            assert_eq!(counts, [1, 1, 1], "a finished future was polled again");
            assert_eq!(
                newcomer_polls.get(),
                1,
                "a stale wake reached the slot's new task"
            );
            assert_eq!(unclaimed.await.unwrap(), 7);
            assert_eq!(woke_itself.await.unwrap(), 7);
            newcomer.abort();
        }));

        // The same for block_on's own future: a waker of an earlier block_on,
        // woken during a later one, does not poll the new future. (It is ready
        // only after its own wake, so a stray poll shows as an extra count.)
        let old_main_waker = rt.block_on(poll_fn(|cx| Poll::Ready(cx.waker().clone())));
        let main_polls = Cell::new(0);
        let really_woken = Rc::new(Cell::new(false));
        rt.block_on(bounded(poll_fn(|cx| {
            main_polls.set(main_polls.get() + 1);
            if really_woken.get() {
                return Poll::Ready(());
            }
            if main_polls.get() == 1 {
                old_main_waker.wake_by_ref();
                // Arrange our own wake, a few turns later, through a task.
                let (me, flag) = (cx.waker().clone(), really_woken.clone());
                drop(spawn(async move {
                    for _ in 0..10 {
                        yield_now().await;
                    }
                    flag.set(true);
                    me.wake();
                }));
            }
            Poll::Pending
        })));
        assert_eq!(
            main_polls.get(),
            2,
            "the stale main-future wake polled the new one"
        );
    });
}

// ------------------------------------------------------------------ #6

/// #6 "Duplicate enqueueing, which means unbounded queue growth." Each
/// task's waker has a `queued` flag: a wake that finds it set does
/// nothing, so a million wakes before the task runs queue it, and poll
/// it, once, from this thread or another.
#[test]
fn pitfall_06_a_million_wakes_queue_a_task_once() {
    within(|| {
        const WAKES: usize = 1_000_000;
        let rt = runtime();
        rt.block_on(bounded(async {
            // From the loop thread, during the task's own poll.
            let polls = Rc::new(Cell::new(0));
            let release = Rc::new(Cell::new(false));
            let stored: Rc<RefCell<Option<Waker>>> = Rc::default();
            let (p, r, s) = (polls.clone(), release.clone(), stored.clone());
            let local = spawn(poll_fn(move |cx| {
                p.set(p.get() + 1);
                if p.get() == 1 {
                    for _ in 0..WAKES {
                        cx.waker().wake_by_ref();
                    }
                }
                *s.borrow_mut() = Some(cx.waker().clone());
                if r.get() {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            }));
            for _ in 0..20 {
                yield_now().await;
            }
            assert_eq!(polls.get(), 2, "a million wakes, one extra poll");
            release.set(true);
            stored.borrow_mut().take().unwrap().wake();
            local.await.unwrap();
            assert_eq!(polls.get(), 3);

            // From another thread, while the loop is busy (blocked here on
            // purpose, so the task cannot be polled in between).
            let polls = Rc::new(Cell::new(0));
            let p = polls.clone();
            let (waker_tx, waker_rx) = mpsc::channel::<Waker>();
            let mut waker_tx = Some(waker_tx);
            let remote = spawn(poll_fn(move |cx| {
                p.set(p.get() + 1);
                if let Some(tx) = waker_tx.take() {
                    tx.send(cx.waker().clone()).unwrap();
                }
                Poll::<()>::Pending
            }));
            let flag = Arc::new(AtomicBool::new(false));
            let (sentinel_tx, sentinel_rx) = mpsc::channel();
            let sentinel = spawn(wait_for_flag(flag.clone(), sentinel_tx));
            yield_now().await;
            let waker = waker_rx.try_recv().expect("the task was polled");
            let sentinel_waker = sentinel_rx.try_recv().expect("the sentinel was polled");
            let (done_tx, done_rx) = mpsc::channel();
            thread::spawn(move || {
                for _ in 0..WAKES {
                    waker.wake_by_ref();
                }
                flag.store(true, Ordering::Release);
                sentinel_waker.wake();
                done_tx.send(()).unwrap();
            });
            done_rx
                .recv_timeout(PATIENCE)
                .expect("the waking thread finished");
            // Once the sentinel (woken last) has run, so has every earlier wake.
            sentinel.await.unwrap();
            assert_eq!(
                polls.get(),
                2,
                "a million cross-thread wakes, one extra poll"
            );
            remote.abort();
            assert!(remote.await.unwrap_err().is_cancelled());
        }));
    });
}

// ------------------------------------------------------------------ #7

/// #7 "Starvation: a self-waking or busy task hogs the loop, or the reactor
/// and timers are never polled." Every 61 polls duet's loop looks at the
/// reactor and timers without sleeping, and a woken task goes to the back
/// of a FIFO queue: a `yield_now` loop cannot freeze time.
#[test]
fn pitfall_07_a_yield_now_loop_does_not_starve_timers() {
    let slept = within(|| {
        runtime().block_on(async {
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
    assert!(
        slept >= Duration::from_millis(20) && slept < Duration::from_secs(2),
        "{slept:?}"
    );
}

/// #7, with a future that wakes itself on every poll and is never Ready
/// (no `yield_now`, so nothing special-cases it): timers still fire.
#[test]
fn pitfall_07_a_self_waking_future_does_not_starve_timers() {
    let slept = within(|| {
        runtime().block_on(async {
            drop(spawn(poll_fn(|cx| {
                cx.waker().wake_by_ref();
                Poll::<()>::Pending
            })));
            let start = Instant::now();
            sleep(Duration::from_millis(20)).await;
            start.elapsed()
        })
    });
    assert!(
        slept >= Duration::from_millis(20) && slept < Duration::from_secs(2),
        "{slept:?}"
    );
}

/// #7, tasks: busy tasks do not starve a task that has work to do, nor
/// each other: the run queue is FIFO, so every runnable task gets a turn
/// per round. (A LIFO stack would run the last busy task to yield again
/// and again: the worker would starve whichever side of it the busy
/// tasks were spawned on, and the other busy task with it.)
#[test]
fn pitfall_07_busy_tasks_do_not_starve_other_tasks() {
    let (steps, busy_turns) = within(|| {
        runtime().block_on(async {
            let turns: Vec<Rc<Cell<u32>>> = (0..2).map(|_| Rc::new(Cell::new(0))).collect();
            let busy = |turns: Rc<Cell<u32>>| async move {
                loop {
                    turns.set(turns.get() + 1);
                    yield_now().await;
                }
            };
            drop(spawn(busy(turns[0].clone())));
            let worker = spawn(async {
                let mut steps = 0;
                for _ in 0..1000 {
                    yield_now().await;
                    steps += 1;
                }
                steps
            });
            drop(spawn(busy(turns[1].clone())));
            let steps = worker.await.unwrap();
            (steps, [turns[0].get(), turns[1].get()])
        })
    });
    assert_eq!(steps, 1000);
    for turns in busy_turns {
        // Round-robin gives each busy task one turn per worker step.
        assert!(
            (900..=1100).contains(&turns),
            "a busy task got {turns} turns while the worker took 1000 steps"
        );
    }
}

/// #7, other threads: a wake from another thread reaches the loop even
/// while a task keeps it permanently busy (remote wakes are collected at
/// the same regular reactor turns).
#[test]
fn pitfall_07_a_busy_task_does_not_starve_wakes_from_other_threads() {
    within(|| {
        runtime().block_on(async {
            drop(spawn(async {
                loop {
                    yield_now().await;
                }
            }));
            let flag = Arc::new(AtomicBool::new(false));
            let (tx, rx) = mpsc::channel::<Waker>();
            let thread_flag = flag.clone();
            let helper = thread::spawn(move || {
                let waker = rx.recv_timeout(PATIENCE).unwrap();
                thread_flag.store(true, Ordering::Release);
                waker.wake();
            });
            spawn(wait_for_flag(flag, tx)).await.unwrap();
            helper.join().unwrap();
        });
    });
}

// ------------------------------------------------------------------ #8

// #8 "Edge-triggered readiness mishandled: not draining until WouldBlock,
// or clearing readiness that a newer event set." Its tests need sockets and
// a deadline per loop thread, so they have a file of their own:
// `tests/pitfall_08_edge_triggered.rs` (`pitfall_08_...`); the stale-token
// unit test is in `src/event_loop/reactor.rs`.

// ------------------------------------------------------------------ #9

/// #9 "Waking, or re-polling, while holding a lock or a `RefCell` borrow,
/// which deadlocks or panics with 'already borrowed'." duet's wake only
/// queues, and the loop runs no user code (poll, drop of a future or of
/// an output) while it borrows its task table. Here the Drop of an
/// aborted task spawns, wakes, aborts and detaches other tasks.
#[test]
fn pitfall_09_a_drop_during_abort_may_spawn_wake_abort_and_detach() {
    within(|| {
        let rt = runtime();
        rt.block_on(bounded(async {
            // P waits for a flag that only V's Drop sets.
            let p_flag = Rc::new(Cell::new(false));
            let p_waker: Rc<RefCell<Option<Waker>>> = Rc::default();
            let (f, w) = (p_flag.clone(), p_waker.clone());
            let p = spawn(poll_fn(move |cx| {
                if f.get() {
                    return Poll::Ready("P woken from a Drop");
                }
                *w.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }));
            // Q waits forever; V's Drop aborts it.
            let q: Rc<RefCell<Option<JoinHandle<()>>>> =
                Rc::new(RefCell::new(Some(spawn(pending()))));
            // R works a while; V's Drop drops its handle (detaches it).
            let r_done = Rc::new(Cell::new(false));
            let d = r_done.clone();
            let r: Rc<RefCell<Option<JoinHandle<()>>>> =
                Rc::new(RefCell::new(Some(spawn(async move {
                    for _ in 0..5 {
                        yield_now().await;
                    }
                    d.set(true);
                }))));
            // N is spawned by V's Drop.
            let n: Rc<RefCell<Option<JoinHandle<&str>>>> = Rc::default();

            let (p_flag2, p_waker2, q2, r2, n2) = (
                p_flag.clone(),
                p_waker.clone(),
                q.clone(),
                r.clone(),
                n.clone(),
            );
            let v = spawn(async move {
                let _on_drop = on_drop(move || {
                    *n2.borrow_mut() = Some(spawn(async { "spawned from a Drop" }));
                    p_flag2.set(true);
                    p_waker2.borrow_mut().take().expect("P was polled").wake();
                    q2.borrow().as_ref().unwrap().abort();
                    drop(r2.borrow_mut().take());
                });
                pending::<()>().await;
            });
            yield_now().await; // everyone runs once
            v.abort();
            assert!(v.await.unwrap_err().is_cancelled());

            let n = n.borrow_mut().take().expect("V's Drop ran and spawned");
            assert_eq!(n.await.unwrap(), "spawned from a Drop");
            assert_eq!(p.await.unwrap(), "P woken from a Drop");
            let q = q.borrow_mut().take().unwrap();
            assert!(q.await.unwrap_err().is_cancelled());
            assert!(r.borrow().is_none(), "R's handle was dropped");
            while !r_done.get() {
                yield_now().await;
            }
        }));
    });
}

/// #9, at shutdown: the Drop of a task dropped by `Drop for Runtime` may
/// wake, abort and drop the handles of other tasks (which may already be
/// gone) without a borrow panic, and every future is dropped once.
/// `spawn` there panics with the usual "outside" message (no loop runs
/// any more), never with a borrow error.
#[test]
fn pitfall_09_a_drop_during_shutdown_may_wake_abort_and_detach() {
    within(|| {
        let log = DropLog::default();
        let drop_actions: Arc<Mutex<Vec<String>>> = Arc::default();
        let rt = runtime();
        rt.block_on(async {
            let p_waker: Rc<RefCell<Option<Waker>>> = Rc::default();
            let q: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::default();
            let r: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::default();
            // Make V twice: once dropped before the others, once after. Each
            // action is caught separately, so a borrow panic is reported here
            // rather than unwinding through the runtime's Drop.
            let make_v = |g: Guard| {
                let (w, q, r, log) = (p_waker.clone(), q.clone(), r.clone(), drop_actions.clone());
                async move {
                    let _g = g;
                    let _on_drop = on_drop(move || {
                        let record = |action: &str, f: &mut dyn FnMut()| {
                            let outcome = catch_unwind(AssertUnwindSafe(f));
                            let text = match outcome {
                                Ok(()) => format!("{action}: ok"),
                                Err(payload) => format!("{action}: {}", panic_message(&*payload)),
                            };
                            log.lock().unwrap().push(text);
                        };
                        record("wake", &mut || {
                            if let Some(waker) = w.borrow().as_ref() {
                                waker.wake_by_ref();
                            }
                        });
                        record("abort", &mut || {
                            if let Some(q) = q.borrow().as_ref() {
                                q.abort();
                            }
                        });
                        record("drop handle", &mut || drop(r.borrow_mut().take()));
                        record("spawn", &mut || drop(spawn(async {})));
                    });
                    pending::<()>().await;
                }
            };
            drop(spawn(make_v(log.guard())));
            let (g, w) = (log.guard(), p_waker.clone());
            drop(spawn(poll_fn(move |cx| {
                let _g = &g;
                *w.borrow_mut() = Some(cx.waker().clone());
                Poll::<()>::Pending
            })));
            let g = log.guard();
            *q.borrow_mut() = Some(spawn(async move {
                let _g = g;
                pending::<()>().await;
            }));
            let g = log.guard();
            *r.borrow_mut() = Some(spawn(async move {
                let _g = g;
                pending::<()>().await;
            }));
            drop(spawn(make_v(log.guard())));
            yield_now().await;
        });
        let dropped = catch_unwind(AssertUnwindSafe(|| drop(rt)));
        assert!(dropped.is_ok(), "dropping the runtime must not panic");
        assert_eq!(log.created(), 5);
        assert_eq!(log.dropped(), 5, "every future dropped exactly once");
        let actions = drop_actions.lock().unwrap().clone();
        assert_eq!(actions.len(), 8, "both Vs ran their Drop: {actions:?}");
        for action in &actions {
            if action.starts_with("spawn") {
                assert!(action.contains("outside"), "{action}");
            } else {
                assert!(action.ends_with(": ok"), "{action}");
            }
        }
    });
}

/// #9, inside a poll: a task that drops other tasks' handles (running the
/// Drop of a finished task's output, which itself spawns and aborts),
/// aborts tasks and wakes tasks, all during its own poll.
#[test]
fn pitfall_09_a_poll_may_drop_handles_abort_and_wake_other_tasks() {
    within(|| {
        let rt = runtime();
        rt.block_on(bounded(async {
            let spawned_by_output: Rc<RefCell<Option<JoinHandle<u8>>>> = Rc::default();
            let victim: Rc<RefCell<Option<JoinHandle<()>>>> =
                Rc::new(RefCell::new(Some(spawn(pending()))));
            // F finishes with an output whose Drop spawns a task and aborts one.
            let (slot, v) = (spawned_by_output.clone(), victim.clone());
            let finished = spawn(async move {
                on_drop(move || {
                    *slot.borrow_mut() = Some(spawn(async { 9 }));
                    v.borrow().as_ref().unwrap().abort();
                })
            });
            // A detached task whose output's Drop wakes a waiting task.
            let sleeper_flag = Rc::new(Cell::new(false));
            let sleeper_waker: Rc<RefCell<Option<Waker>>> = Rc::default();
            let (f, w) = (sleeper_flag.clone(), sleeper_waker.clone());
            let sleeper = spawn(poll_fn(move |cx| {
                if f.get() {
                    return Poll::Ready(());
                }
                *w.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }));
            let waiting = spawn(pending::<()>());
            let busy = spawn(async {
                for _ in 0..3 {
                    yield_now().await;
                }
            });
            while !finished.is_finished() {
                yield_now().await;
            }

            let (f, w) = (sleeper_flag.clone(), sleeper_waker.clone());
            let mut handles = Some((finished, waiting, busy));
            let actor = spawn(poll_fn(move |cx| {
                let Some((finished, waiting, busy)) = handles.take() else {
                    return Poll::Ready("acted");
                };
                drop(finished); // runs the output's Drop: spawn + abort
                waiting.abort();
                drop(waiting);
                drop(busy); // detach a running task
                f.set(true);
                w.borrow_mut().take().expect("sleeper polled").wake();
                cx.waker().wake_by_ref();
                Poll::Pending
            }));
            assert_eq!(actor.await.unwrap(), "acted");
            sleeper.await.unwrap();
            let spawned = spawned_by_output
                .borrow_mut()
                .take()
                .expect("the output's Drop ran");
            assert_eq!(spawned.await.unwrap(), 9);
            let victim = victim.borrow_mut().take().unwrap();
            assert!(victim.await.unwrap_err().is_cancelled());
        }));
    });
}

/// #9, channels and timers: a waker that reaches back into the channel or
/// the timer table that is waking it does not deadlock. Both take what
/// they must wake out from under their lock and wake after releasing it;
/// waking under the lock would deadlock here, because a `parking_lot`
/// mutex is not re-entrant.
#[test]
fn pitfall_09_a_waker_that_reenters_the_channel_or_timer_table_does_not_deadlock() {
    // Channel: the receiver's waker sends on the same channel when woken.
    struct SendOnWake(duet::event_loop::channel::Sender<u32>);
    impl Wake for SendOnWake {
        fn wake(self: Arc<Self>) {
            self.0.try_send(2).expect("the channel is open");
        }
    }
    let received = within(|| {
        let (tx, rx) = duet::event_loop::channel::unbounded::<u32>();
        let waker = Waker::from(Arc::new(SendOnWake(tx.clone())));
        let mut recv = pin!(rx.recv());
        let mut cx = Context::from_waker(&waker);
        assert!(recv.as_mut().poll(&mut cx).is_pending());
        tx.try_send(1).unwrap(); // wakes the receiver, whose waker sends 2
        let Poll::Ready(first) = recv.as_mut().poll(&mut cx) else {
            panic!("the receiver was woken, and a value is there");
        };
        (first, rx.try_recv())
    });
    assert_eq!(received, (Some(1), Some(2)));

    // Timers: a sleep's waker, run when the loop fires expired timers,
    // drops another sleep, which takes its entry out of the timer table.
    thread_local! {
        static ON_WAKE: RefCell<Option<Box<dyn FnOnce()>>> = RefCell::new(None);
    }
    struct RunOnWake;
    impl Wake for RunOnWake {
        fn wake(self: Arc<Self>) {
            if let Some(f) = ON_WAKE.with(|f| f.borrow_mut().take()) {
                f();
            }
        }
    }
    let dropped_by_the_waker = within(|| {
        runtime().block_on(async {
            let doomed = Rc::new(RefCell::new(Some(Box::pin(sleep(Duration::from_secs(60))))));
            poll_fn(|cx| {
                // One poll puts the long sleep in the timer table.
                let mut doomed = doomed.borrow_mut();
                assert!(doomed.as_mut().unwrap().as_mut().poll(cx).is_pending());
                Poll::Ready(())
            })
            .await;
            let mut short = Box::pin(sleep(Duration::from_millis(1)));
            let run_on_wake = Waker::from(Arc::new(RunOnWake));
            poll_fn(|cx| {
                if short
                    .as_mut()
                    .poll(&mut Context::from_waker(&run_on_wake))
                    .is_ready()
                {
                    return Poll::Ready(());
                }
                let (doomed, task) = (doomed.clone(), cx.waker().clone());
                let on_wake = move || {
                    drop(doomed.borrow_mut().take());
                    task.wake();
                };
                ON_WAKE.with(|f| *f.borrow_mut() = Some(Box::new(on_wake)));
                Poll::Pending
            })
            .await;
            doomed.borrow().is_none()
        })
    });
    assert!(dropped_by_the_waker);
}

// ------------------------------------------------------------------ #10

/// #10 "A panic in one task kills or wedges the whole executor." duet polls
/// each task inside `catch_unwind`: the panic becomes the task's
/// `Err(JoinError::is_panic)`, its future is dropped, and the loop runs
/// on: other tasks, timers and new spawns all still work.
#[test]
fn pitfall_10_a_panicking_task_does_not_wedge_the_loop() {
    within(|| {
        let rt = runtime();
        rt.block_on(bounded(async {
            let handles: Vec<_> = (0..30usize)
                .map(|i| {
                    spawn(async move {
                        for _ in 0..i % 5 {
                            yield_now().await;
                        }
                        if i % 3 == 0 {
                            panic!("task {i} failed");
                        }
                        i
                    })
                })
                .collect();
            // Panics nobody will ever look at.
            for _ in 0..5 {
                drop(spawn(async {
                    yield_now().await;
                    if black_box(true) {
                        panic!("nobody is listening");
                    }
                }));
            }
            for (i, handle) in handles.into_iter().enumerate() {
                match handle.await {
                    Ok(value) => assert!(value == i && i % 3 != 0),
                    Err(err) => {
                        assert!(i % 3 == 0 && err.is_panic(), "task {i}: {err}");
                        assert_eq!(
                            panic_message(&*err.into_panic()),
                            format!("task {i} failed")
                        );
                    }
                }
            }
            sleep(Duration::from_millis(5)).await;
            assert_eq!(spawn(async { 1 }).await.unwrap(), 1);
        }));
        // The runtime is still whole for the next block_on.
        assert_eq!(
            rt.block_on(bounded(async { spawn(async { 2 }).await }))
                .unwrap(),
            2
        );
    });
}

/// #10, destructors: a panic in a future's Drop while it is aborted is
/// reported as that task's panic, and a panic in a Drop at shutdown is
/// contained; neither takes the loop down.
#[test]
fn pitfall_10_a_panic_in_a_drop_is_contained() {
    within(|| {
        let rt = runtime();
        rt.block_on(bounded(async {
            let bomb = spawn(async {
                let _bomb = on_drop(|| panic!("drop bomb"));
                pending::<()>().await;
            });
            yield_now().await;
            bomb.abort();
            let err = bomb.await.unwrap_err();
            assert!(err.is_panic(), "{err}");
            assert_eq!(panic_message(&*err.into_panic()), "drop bomb");
            // A detached task whose output panics when dropped.
            drop(spawn(async { on_drop(|| panic!("output bomb")) }));
            assert_eq!(spawn(async { 3 }).await.unwrap(), 3);
            // Left pending for the runtime's Drop.
            drop(spawn(async {
                let _bomb = on_drop(|| panic!("shutdown bomb"));
                pending::<()>().await;
            }));
            yield_now().await;
        }));
        let dropped = catch_unwind(AssertUnwindSafe(|| drop(rt)));
        assert!(
            dropped.is_ok(),
            "a panicking Drop at shutdown must be contained"
        );
    });
}

// ---------------------------------------------------------------- also

/// Also seen: "a waker fired after runtime or TLS teardown" (tokio#6148).
/// A duet waker holds only the runtime's thread-safe `Shared` part, which
/// is marked closed on drop: a wake afterwards is a no-op, even from a
/// thread that is waking in a loop while the runtime is being dropped.
#[test]
fn pitfall_also_a_waker_fired_after_runtime_teardown_is_harmless() {
    within(|| {
        let rt = runtime();
        let (waker_tx, waker_rx) = mpsc::channel::<Waker>();
        let mut waker_tx = Some(waker_tx);
        rt.block_on(async {
            drop(spawn(poll_fn(move |cx| {
                if let Some(tx) = waker_tx.take() {
                    tx.send(cx.waker().clone()).unwrap();
                }
                Poll::<()>::Pending
            })));
            yield_now().await;
        });
        let waker = waker_rx.try_recv().expect("the task was polled");
        let stop = Arc::new(AtomicBool::new(false));
        let (started_tx, started_rx) = mpsc::channel();
        let (done_tx, done_rx) = mpsc::channel();
        let thread_stop = stop.clone();
        let thread_waker = waker.clone();
        let waking = thread::spawn(move || {
            let mut wakes = 0u64;
            for _ in 0..1000 {
                thread_waker.wake_by_ref();
                wakes += 1;
            }
            started_tx.send(()).unwrap();
            while !thread_stop.load(Ordering::Acquire) {
                thread_waker.wake_by_ref();
                wakes += 1;
            }
            for _ in 0..1000 {
                thread_waker.wake_by_ref();
            }
            thread_waker.wake();
            done_tx.send(wakes).unwrap();
        });
        started_rx.recv_timeout(PATIENCE).unwrap();
        drop(rt); // while the other thread is waking
        waker.wake_by_ref(); // and from this thread, after
        stop.store(true, Ordering::Release);
        let wakes = done_rx
            .recv_timeout(PATIENCE)
            .expect("the waking thread finished without panicking");
        waking.join().unwrap();
        assert!(wakes >= 1000);
        waker.wake();
    });
}

/// Also seen, TLS teardown: a runtime that lives in a thread-local, with
/// tasks whose Drop wakes wakers, and a waker woken from another
/// thread-local's destructor, all torn down as the thread exits.
#[test]
fn pitfall_also_wakes_during_thread_local_teardown_are_harmless() {
    within(|| {
        struct WakeOnDrop(Option<Waker>);
        impl Drop for WakeOnDrop {
            fn drop(&mut self) {
                if let Some(waker) = self.0.take() {
                    waker.wake();
                }
            }
        }
        thread_local! {
            static RUNTIME: RefCell<Option<Runtime>> = const { RefCell::new(None) };
            static LEFTOVER: RefCell<WakeOnDrop> = const { RefCell::new(WakeOnDrop(None)) };
        }
        let (tx, rx) = mpsc::channel();
        let watcher = thread::spawn(move || {
            let worker = thread::spawn(|| {
                let rt = runtime();
                let waker = rt.block_on(async {
                    for _ in 0..10 {
                        drop(spawn(async {
                            let mut own = None;
                            poll_fn(|cx| {
                                own = Some(WakeOnDrop(Some(cx.waker().clone())));
                                Poll::<()>::Pending
                            })
                            .await;
                        }));
                    }
                    yield_now().await;
                    poll_fn(|cx| Poll::Ready(cx.waker().clone())).await
                });
                LEFTOVER.with_borrow_mut(|leftover| leftover.0 = Some(waker));
                RUNTIME.with_borrow_mut(|slot| *slot = Some(rt));
            });
            let _ = tx.send(worker.join().is_ok());
        });
        let clean = rx
            .recv_timeout(PATIENCE)
            .expect("the thread's teardown finished");
        watcher.join().unwrap();
        assert!(clean, "the thread panicked during teardown");
    });
}
