//! Stage 1: an executor that polls every task, forever, until all are done.
//!
//! The idea it teaches: an executor is a loop that calls `poll` on tasks.
//! Here the loop does not know which task could make progress, so it polls
//! all of them, again and again. The wakers it hands out do nothing
//! (`Waker::noop()`), and nothing needs them: every task is asked anyway.
//!
//! It works: three tasks sleep at once on one thread, and each finishes on
//! time. Its flaw, printed at the end: it polls the tasks hundreds of
//! thousands of times, and keeps a core busy while every task is only
//! *waiting*. It also hides bugs: a future that returns `Pending` without
//! arranging a wake (pitfall 1 in docs/PITFALLS.md) works here and hangs
//! anywhere else.
//!
//! The fix, in `learn_2_wakers.rs`: poll a task only when its waker says
//! so, and sleep when nobody has. In duet, the loop that does this right
//! is `src/event_loop/executor.rs`.
//!
//! Run: `cargo run --example learn_1_busy_loop`
//!
//! Read next: `learn_2_wakers.rs`.

#[path = "common/cpu_time.rs"]
mod cpu_time;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// A sleep that never arranges a wake: it only works because this
/// executor polls it over and over.
struct BusySleep {
    deadline: Instant,
}

impl Future for BusySleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            Poll::Ready(())
        } else {
            Poll::Pending // and no wake arranged: pitfall 1
        }
    }
}

fn sleep(after: Duration) -> BusySleep {
    BusySleep {
        deadline: Instant::now() + after,
    }
}

type Task = Pin<Box<dyn Future<Output = ()>>>;

/// The whole executor: poll every unfinished task, round and round.
/// Returns how many polls it made.
fn run(mut tasks: Vec<Option<Task>>) -> u64 {
    let mut cx = Context::from_waker(Waker::noop());
    let mut polls = 0;
    while tasks.iter().any(Option::is_some) {
        for slot in tasks.iter_mut() {
            if let Some(task) = slot {
                polls += 1;
                if task.as_mut().poll(&mut cx).is_ready() {
                    *slot = None; // never poll a finished future (pitfall 5)
                }
            }
        }
    }
    polls
}

fn main() {
    let start = Instant::now();
    let tasks = (1..=3u64)
        .map(|i| {
            let task: Task = Box::pin(async move {
                sleep(Duration::from_millis(100 * i)).await;
                println!("task {i} done after {} ms", start.elapsed().as_millis());
            });
            Some(task)
        })
        .collect();
    let polls = run(tasks);
    println!("polls: {polls}");
    cpu_time::report(start.elapsed());
}
