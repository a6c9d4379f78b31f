//! The differential test: one random program, two runtimes, one answer.
//!
//! proptest generates small programs: trees of tasks that sleep, yield,
//! compute, spawn children and join them, and children that produce values
//! on a bounded channel for their parent to drain. Every program is
//! deterministic by construction: a task's result depends only on its own
//! steps, its children's results and its children's messages (one sender
//! per channel, so their order is fixed), never on timing. So the blocking
//! runtime (threads) and the event loop (one thread) must compute the same
//! value, and any difference is a bug in one of them.
//!
//! The event loop runs each program several times: on the real clock in
//! FIFO order, then on the virtual clock (sleeps take no real time) in
//! FIFO order and under a few seeded schedules, which poll the runnable
//! tasks in random orders. The answer may not depend on the order, so
//! every run must agree (docs/DETERMINISM.md).
//!
//! On failure, proptest shrinks the program and prints it with `Debug`,
//! which reads like the code the program stands for, with the seeds; the
//! message names the schedule that gave the wrong answer.

#[path = "differential/program.rs"]
mod program;

use program::{Program, program};
use proptest::prelude::*;
use std::sync::mpsc;
use std::time::Duration;

/// Runs `f` on its own thread and waits at most 20 s for its answer, so a
/// runtime that hangs fails the test instead of hanging it.
fn within_deadline(what: &str, f: impl FnOnce() -> u64 + Send + 'static) -> u64 {
    let (done, answer) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(f());
    });
    answer
        .recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("the {what} runtime did not finish the program within 20 s"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn both_runtimes_compute_the_same_result(
        program in program(),
        seeds in prop::collection::vec(any::<u64>(), 2),
    ) {
        let for_blocking = program.clone();
        let on_threads = within_deadline("blocking", move || {
            duet::blocking::Runtime::new().block_on(|| for_blocking.run_blocking())
        });
        let for_loop = program.clone();
        let on_loop = within_deadline("event_loop", move || {
            let rt = duet::event_loop::Runtime::new().unwrap();
            rt.block_on(for_loop.run_event_loop())
        });
        prop_assert_eq!(on_threads, on_loop);
        prop_assert_eq!(on_loop, program.expected());
        let schedules = std::iter::once(None).chain(seeds.into_iter().map(Some));
        for seed in schedules {
            let for_loop = program.clone();
            let answer = within_deadline("event_loop (virtual clock)", move || {
                let builder = duet::event_loop::Builder::new().virtual_clock(true);
                let builder = match seed {
                    Some(seed) => builder.seed(seed),
                    None => builder,
                };
                builder.build().unwrap().block_on(for_loop.run_event_loop())
            });
            prop_assert_eq!(
                answer, on_threads,
                "the event loop on the virtual clock, {}, disagrees",
                seed.map_or("FIFO".to_string(), |seed| format!("Builder::new().seed({seed})"))
            );
        }
    }
}

#[test]
fn a_program_prints_like_the_code_it_stands_for() {
    let program = Program::example();
    let printed = format!("{program:?}");
    assert!(printed.contains("sleep(2ms);"), "{printed}");
    assert!(printed.contains("let child0 = spawn(task {"), "{printed}");
    assert!(printed.contains("drain(child0);"), "{printed}");
    let expected = program.expected();
    let on_loop = within_deadline("event_loop", move || {
        duet::event_loop::Runtime::new()
            .unwrap()
            .block_on(program.run_event_loop())
    });
    assert_eq!(on_loop, expected);
}

#[test]
fn a_nested_program_prints_with_matching_braces() {
    let printed = format!("{:?}", Program::example());
    let expected = "task {\n    sleep(2ms);\n    let child0 = spawn(task {\n        compute(7);\n        \
                    yield_now();\n    }).sending([1, 2, 3], bounded(1));\n    compute(5);\n    \
                    drain(child0); join(child0);\n}\n";
    assert_eq!(printed, expected);
}
