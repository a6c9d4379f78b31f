//! The learning path runs: chapter 0 and the three stages
//! (`examples/learn_*.rs`) are run as the programs a learner runs, and
//! each must print what its opening comment promises.
//!
//! - chapter 0: the hand-written futures finish, and the `async fn` and
//!   its hand-desugared state machine give the same result in the same
//!   number of polls;
//! - stage 1, the busy loop: the tasks finish on time, after a great many
//!   polls, and the process burned CPU for a good part of its wall time;
//! - stage 2, wakers: the same tasks in a handful of polls, almost no CPU;
//! - stage 3, epoll: a socket and a timer on one thread, almost no CPU.
//!
//! Every child runs under a deadline (`Running::finish`). The CPU checks
//! compare CPU time with wall time, each stage reporting its own from
//! `/proc/self/stat`, with wide margins: on a loaded two-core machine the
//! busy loop gets less than a core, and a sleeping loop still pays for
//! its process start.
//!
//! Read next: `examples/learn_0_future.rs`, the first of the programs.

mod support;
use support::examples::Running;

use std::time::Duration;

/// How long one stage may take; each needs well under a second.
const STAGE_PATIENCE: Duration = Duration::from_secs(60);

/// Runs the example `name` to its end and returns its stdout.
fn run_stage(name: &str) -> String {
    let mut child = Running::start(name, &[]);
    let (status, stdout) = child.finish(STAGE_PATIENCE);
    assert!(status.success(), "{name} failed: {status}\n{stdout}");
    stdout
}

/// The number after `prefix` on the line that starts with it.
fn number_after(stdout: &str, prefix: &str) -> u64 {
    let line = stdout
        .lines()
        .find(|line| line.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starts with {prefix:?}:\n{stdout}"));
    let digits: String = line[prefix.len()..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no number after {prefix:?} in {line:?}"))
}

/// CPU time over wall time, from the stage's `cpu: C ms in W ms` line.
fn cpu_share(stdout: &str) -> f64 {
    let cpu = number_after(stdout, "cpu:");
    let line = stdout.lines().find(|l| l.starts_with("cpu:")).unwrap();
    let wall = number_after(&line[line.find(" in ").unwrap()..], " in");
    assert!(wall >= 300, "the longest sleep is 300 ms: {line}");
    cpu as f64 / wall as f64
}

/// The three sleeping tasks of stages 1 and 2 finish in order, none early.
fn assert_three_tasks_on_time(stdout: &str) {
    for i in 1..=3 {
        let done = number_after(stdout, &format!("task {i} done after"));
        assert!(done >= 100 * i, "task {i} finished early: {stdout}");
    }
}

#[test]
fn chapter_0_an_async_fn_and_its_hand_written_state_machine_agree() {
    let out = run_stage("learn_0_future");
    assert!(out.contains("yield_now: ready after 2 polls"), "{out}");
    assert!(out.contains("sleep(30ms): ready after 2 polls"), "{out}");
    assert!(number_after(&out, "sleep(30ms): ready after 2 polls,") >= 30);
    assert!(
        out.contains("async fn steps(10) = 33 after 3 polls"),
        "{out}"
    );
    assert!(
        out.contains("StepsByHand(10)    = 33 after 3 polls"),
        "{out}"
    );
    assert!(
        out.contains("will_wake(clone) = true, will_wake(other task) = false"),
        "{out}"
    );
}

#[test]
fn stage_1_the_busy_loop_works_and_burns_a_core() {
    let out = run_stage("learn_1_busy_loop");
    assert_three_tasks_on_time(&out);
    let polls = number_after(&out, "polls:");
    assert!(polls > 10_000, "a busy loop polls without pause: {out}");
    let share = cpu_share(&out);
    assert!(
        share >= 0.15,
        "the busy loop should burn CPU the whole time it waits: {share:.2} of its wall time\n{out}"
    );
}

#[test]
fn stage_2_wakers_poll_only_when_woken_and_sleep_otherwise() {
    let out = run_stage("learn_2_wakers");
    assert_three_tasks_on_time(&out);
    // Each sleeper: a first poll and a poll after its wake (a spurious
    // wake could add one); the self-waking task: two.
    let polls = number_after(&out, "polls:");
    assert!((8..=12).contains(&polls), "{out}");
    assert_eq!(number_after(&out, "stale queue entries:"), 2, "{out}");
    let share = cpu_share(&out);
    assert!(share <= 0.10, "stage 2 sleeps: {share:.2}\n{out}");
}

#[test]
fn stage_3_one_thread_parks_in_epoll_for_a_socket_and_a_timer() {
    let out = run_stage("learn_3_epoll");
    assert!(out.contains("client: wrote 5 bytes"), "{out}");
    assert!(out.contains("server: read \"hello\""), "{out}");
    assert!(number_after(&out, "timer: fired after") >= 300, "{out}");
    let parks = number_after(&out, "parks in epoll_wait:");
    assert!(
        (1..=20).contains(&parks),
        "the loop parks a few times, it does not spin: {out}"
    );
    let share = cpu_share(&out);
    assert!(
        share <= 0.10,
        "stage 3 sleeps in epoll_wait: {share:.2}\n{out}"
    );
}
