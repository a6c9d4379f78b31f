//! Deterministic runs: the virtual clock and seeded schedules.
//!
//! - Same seed, same program, virtual clock: the same trace, event for
//!   event, times included (over many seeds and random programs).
//! - Different seeds: more than one poll order (the option does
//!   something).
//! - The key timer rules (never early, deadline order, timeout both ways)
//!   hold on both clocks: each such test runs once per clock
//!   ([`on_both_clocks`]).
//! - Under the virtual clock, an hour's sleep and a day's timeout take no
//!   real time, and real sockets still work.
//!
//! Every test here takes one lock ([`serial`]) first: a trace capture
//! records the whole process, and another test running meanwhile would
//! add its events (and its real-time stamps) to a capture.
//!
//! Read next: docs/DETERMINISM.md.

mod support;
use support::*;

#[allow(dead_code)] // the blocking half of the programs is not used here
#[path = "differential/program.rs"]
mod program;

use duet::event_loop::net::{TcpListener, TcpStream};
use duet::event_loop::{
    Builder, Runtime, now, sleep, sleep_until, spawn, spawn_named, timeout, yield_now,
};
use duet::trace::{self, Event, EventKind, TaskId};
use program::{Program, program};
use proptest::prelude::*;
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// One test at a time in this binary (see the module comment).
fn serial() -> MutexGuard<'static, ()> {
    static ONE: Mutex<()> = Mutex::new(());
    ONE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn virtual_runtime(seed: Option<u64>) -> Runtime {
    let builder = Builder::new().virtual_clock(true);
    let builder = match seed {
        Some(seed) => builder.seed(seed),
        None => builder,
    };
    builder.build().expect("a runtime")
}

// ====================================================================
// Same seed, same trace
// ====================================================================

/// An event with its task renumbered by first appearance: an id also
/// names its runtime, so two runs never share one.
#[derive(Debug)]
struct Seen {
    at: Duration,
    task: Option<usize>,
    kind: EventKind,
    /// The kind's text: every field, with task ids by their per-runtime
    /// number only (so two runtimes' "task 1" read alike). What two runs
    /// are compared by, with the time, task and name.
    text: String,
    name: Option<String>,
}

impl PartialEq for Seen {
    fn eq(&self, other: &Seen) -> bool {
        (self.at, self.task, &self.text, &self.name)
            == (other.at, other.task, &other.text, &other.name)
    }
}

/// This thread's events, renumbered.
fn normalise(events: Vec<Event>) -> Vec<Seen> {
    let thread = std::thread::current();
    let label = thread
        .name()
        .map_or_else(|| format!("{:?}", thread.id()), str::to_string);
    let mut numbers: HashMap<TaskId, usize> = HashMap::new();
    events
        .into_iter()
        .filter(|event| event.thread == label)
        .map(|event| {
            let next = numbers.len();
            Seen {
                at: event.at,
                task: event.task.map(|id| *numbers.entry(id).or_insert(next)),
                text: event.kind.to_string(),
                kind: event.kind,
                name: event.task_name.map(|name| name.to_string()),
            }
        })
        .collect()
}

/// Runs `program` on a fresh virtual-clock runtime with `seed`, traced.
fn traced_run(program: &Program, seed: Option<u64>) -> (u64, Vec<Seen>) {
    let rt = virtual_runtime(seed);
    let (value, events) = trace::capture(|| rt.block_on(program.run_event_loop()));
    drop(rt);
    (value, normalise(events))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The same seed and program give the same events, times included,
    /// and the same answer: a failing run can be replayed from its seed.
    #[test]
    fn the_same_seed_gives_the_same_trace_event_for_event(
        program in program(),
        seeds in prop::collection::vec(any::<u64>(), 3),
    ) {
        let _one = serial();
        let schedules = seeds.iter().copied().map(Some).chain([None]);
        for seed in schedules {
            let (first_value, first) = traced_run(&program, seed);
            let (second_value, second) = traced_run(&program, seed);
            prop_assert!(!first.is_empty(), "nothing traced under seed {:?}", seed);
            prop_assert_eq!(first_value, program.expected(), "seed {:?}", seed);
            prop_assert_eq!(second_value, first_value, "seed {:?}", seed);
            if first != second {
                let at = first.iter().zip(&second).position(|(a, b)| a != b);
                prop_assert!(
                    false,
                    "seed {:?}: the traces differ (lengths {} and {}), first at event {:?}:\n\
                     {:?}\nvs\n{:?}",
                    seed, first.len(), second.len(), at,
                    at.map(|i| &first[i]), at.map(|i| &second[i])
                );
            }
        }
    }
}

#[test]
fn under_the_virtual_clock_trace_times_are_exact() {
    let _one = serial();
    let rt = virtual_runtime(Some(3));
    let hour = Duration::from_secs(3600);
    let ((), events) = trace::capture(|| {
        rt.block_on(async {
            let sleeper = spawn_named("sleeper", sleep(hour));
            sleeper.await.expect("it sleeps");
        })
    });
    let events = normalise(events);
    let fired: Vec<Duration> = (events.iter())
        .filter(|e| matches!(e.kind, EventKind::TimerFired { .. }))
        .map(|e| e.at)
        .collect();
    assert_eq!(fired, [hour], "{events:#?}");
    let park = events
        .iter()
        .find(|e| matches!(e.kind, EventKind::Park { .. }))
        .expect("the jump is traced as a park");
    assert_eq!(
        park.kind,
        EventKind::Park {
            timeout: Some(hour)
        }
    );
    assert_eq!(park.at, Duration::ZERO);
    let times: Vec<Duration> = events.iter().map(|e| e.at).collect();
    assert!(times.is_sorted(), "{times:?}");
}

// ====================================================================
// Different seeds, different orders
// ====================================================================

/// Which of six tasks ran at each turn, three turns each.
fn poll_order(seed: Option<u64>) -> Vec<u32> {
    let rt = virtual_runtime(seed);
    let order = Rc::new(RefCell::new(Vec::new()));
    rt.block_on(async {
        let tasks: Vec<_> = (0..6)
            .map(|task| {
                let order = order.clone();
                spawn(async move {
                    for _ in 0..3 {
                        order.borrow_mut().push(task);
                        yield_now().await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("no panic");
        }
    });
    order.take()
}

#[test]
fn different_seeds_give_different_poll_orders() {
    let _one = serial();
    let fifo = poll_order(None);
    let round_robin: Vec<u32> = (0..3).flat_map(|_| 0..6).collect();
    assert_eq!(fifo, round_robin, "FIFO polls in wake order");
    let orders: BTreeSet<Vec<u32>> = (0..32).map(|seed| poll_order(Some(seed))).collect();
    assert!(orders.len() > 1, "32 seeds, one order: {orders:?}");
    for order in &orders {
        let mut sorted = order.clone();
        sorted.sort();
        let each_thrice: Vec<u32> = (0..6).flat_map(|task| [task; 3]).collect();
        assert_eq!(
            sorted, each_thrice,
            "every task runs all its turns: {order:?}"
        );
    }
    for seed in [0, 7, 12_345] {
        assert_eq!(
            poll_order(Some(seed)),
            poll_order(Some(seed)),
            "seed {seed}"
        );
    }
}

// ====================================================================
// The timer rules, on both clocks
// ====================================================================

/// Runs `test` twice, each time on its own watchdog'd thread: on a real
/// clock runtime, then on a virtual clock one. `test` gets the runtime and
/// the clock's name, for its messages.
fn on_both_clocks(test: fn(&Runtime, &str)) {
    let _one = serial();
    for (is_virtual, clock) in [(false, "real clock"), (true, "virtual clock")] {
        within(move || {
            let rt = Builder::new()
                .virtual_clock(is_virtual)
                .build()
                .expect("a runtime");
            test(&rt, clock);
        });
    }
}

#[test]
fn timers_are_never_early_on_either_clock() {
    on_both_clocks(|rt, clock| {
        rt.block_on(async {
            for ms in [0, 1, 3, 7] {
                let wait = Duration::from_millis(ms);
                let start = now();
                sleep(wait).await;
                let slept = now() - start;
                assert!(slept >= wait, "{clock}: sleep({wait:?}) took {slept:?}");
                let deadline = now() + wait;
                sleep_until(deadline).await;
                assert!(now() >= deadline, "{clock}: sleep_until woke early");
                if clock == "virtual clock" {
                    assert_eq!(slept, wait, "{clock}: the jump lands on the deadline");
                }
            }
        });
    });
}

#[test]
fn sleeps_complete_in_deadline_order_on_either_clock() {
    on_both_clocks(|rt, clock| {
        let woke = rt.block_on(async {
            let start = now();
            let woke = Rc::new(RefCell::new(Vec::new()));
            let sleepers: Vec<_> = [5u64, 1, 4, 0, 2, 3]
                .into_iter()
                .map(|ms| {
                    let woke = woke.clone();
                    spawn(async move {
                        sleep_until(start + Duration::from_millis(ms)).await;
                        woke.borrow_mut().push(ms);
                    })
                })
                .collect();
            for sleeper in sleepers {
                bounded(sleeper).await.expect("no panic");
            }
            woke.take()
        });
        assert_eq!(woke, [0, 1, 2, 3, 4, 5], "{clock}");
    });
}

#[test]
fn timeout_gives_the_output_in_time_and_elapsed_when_late_on_either_clock() {
    on_both_clocks(|rt, clock| {
        rt.block_on(async {
            let in_time = timeout(Duration::from_secs(5), async {
                sleep(Duration::from_millis(1)).await;
                7
            })
            .await;
            assert_eq!(in_time, Ok(7), "{clock}");
            let start = now();
            let budget = Duration::from_millis(2);
            let late = timeout(budget, sleep(Duration::from_secs(3600))).await;
            assert!(late.is_err(), "{clock}: an hour's sleep beat 2 ms");
            assert!(now() - start >= budget, "{clock}: the timeout fired early");
        });
    });
}

// ====================================================================
// Virtual time takes no real time
// ====================================================================

#[test]
fn an_hours_sleep_and_a_days_timeout_take_well_under_a_second() {
    let _one = serial();
    within(|| {
        let rt = virtual_runtime(None);
        let real = Instant::now();
        let (slept, timed_out) = rt.block_on(async {
            let start = now();
            sleep(Duration::from_secs(3600)).await;
            let slept = now() - start;
            let start = now();
            let day = Duration::from_secs(24 * 3600);
            let result = timeout(day, std::future::pending::<()>()).await;
            assert!(result.is_err(), "pending() cannot finish");
            (slept, now() - start)
        });
        let real = real.elapsed();
        assert_eq!(slept, Duration::from_secs(3600));
        assert_eq!(timed_out, Duration::from_secs(24 * 3600));
        assert!(real < Duration::from_secs(1), "took {real:?} of real time");
    });
}

#[test]
fn now_outside_a_runtime_is_the_real_clock() {
    let before = Instant::now();
    let ours = now();
    assert!(before <= ours && ours <= Instant::now());
}

#[test]
fn a_sleep_made_outside_the_runtime_is_never_early_under_the_virtual_clock() {
    let _one = serial();
    within(|| {
        // Counted from the real clock, which is ahead of the virtual one.
        let sleep = sleep(Duration::from_millis(10));
        let deadline = sleep.deadline();
        let rt = virtual_runtime(None);
        rt.block_on(async {
            sleep.await;
            assert!(now() >= deadline);
        });
    });
}

#[test]
fn real_sockets_work_under_the_virtual_clock() {
    let _one = serial();
    within(|| {
        let rt = virtual_runtime(Some(1));
        let real = Instant::now();
        let (echoed, took) = rt.block_on(async {
            let start = now();
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = listener.local_addr().expect("an address");
            let server = spawn(async move {
                let (mut stream, _) = listener.accept().await.expect("accept");
                let mut buf = [0; 5];
                stream.read_exact(&mut buf).await.expect("read");
                // A long pause, in virtual time, between read and reply.
                sleep(Duration::from_secs(3600)).await;
                stream.write_all(&buf).await.expect("write");
            });
            let mut client = TcpStream::connect(addr).await.expect("connect");
            client.write_all(b"hello").await.expect("write");
            let mut buf = [0; 5];
            client.read_exact(&mut buf).await.expect("read");
            server.await.expect("the server ends");
            (buf, now() - start)
        });
        assert_eq!(&echoed, b"hello");
        assert_eq!(took, Duration::from_secs(3600));
        assert!(real.elapsed() < Duration::from_secs(5));
    });
}
