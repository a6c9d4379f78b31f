//! Stage 2: a run queue, wakers that fill it, and a timer thread.
//!
//! The idea it teaches: poll a task only when it has been woken. Each task
//! gets a waker that pushes the task's number onto a run queue; the loop
//! pops a number and polls that task; with the queue empty it sleeps on a
//! condition variable until a wake arrives. Sleeps hand their deadline and
//! waker to one timer thread, which wakes them when due.
//!
//! The same three sleeping tasks as stage 1 now take a handful of polls,
//! and the CPU time printed at the end is close to nothing.
//!
//! Its flaws: a task woken twice before it runs is queued twice (the
//! last task in `main` shows the stale entries this leaves: pitfall 6
//! in docs/PITFALLS.md); a `Sleep` keeps the first waker it was given
//! (pitfall 2); and sockets have no place here: waiting for one would need
//! a thread per socket, or polling it in a busy loop again.
//!
//! The fix, in `learn_3_epoll.rs`: sleep in the kernel's `epoll_wait`,
//! where sockets and timers wake the loop alike. In duet, the wakers and
//! their "queued" flag are `src/event_loop/waker.rs`, the timers
//! `src/event_loop/timer.rs`.
//!
//! Run: `cargo run --example learn_2_wakers`
//!
//! Read next: `learn_3_epoll.rs`.

#[path = "common/cpu_time.rs"]
mod cpu_time;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

/// The run queue: task numbers, and a condvar to sleep on when empty.
#[derive(Default)]
struct Queue {
    ready: Mutex<VecDeque<usize>>,
    not_empty: Condvar,
}

/// A task's waker: "put task `id` on the queue". It never polls.
struct TaskWaker {
    id: usize,
    queue: Arc<Queue>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.queue.ready.lock().unwrap().push_back(self.id);
        self.queue.not_empty.notify_one();
    }
}

thread_local! {
    /// Where a `Sleep` sends its (deadline, waker): the timer thread.
    static TIMERS: RefCell<Option<mpsc::Sender<(Instant, Waker)>>> = const { RefCell::new(None) };
}

/// The timer thread: waits for the earliest deadline (or a new timer),
/// then wakes every timer that is due. It ends when the sender is dropped.
fn timer_thread(new_timers: mpsc::Receiver<(Instant, Waker)>) {
    let mut timers: Vec<(Instant, Waker)> = Vec::new();
    loop {
        let now = Instant::now();
        for (_, waker) in timers.extract_if(.., |(deadline, _)| *deadline <= now) {
            waker.wake();
        }
        let next = timers.iter().map(|(deadline, _)| *deadline).min();
        let received = match next {
            Some(deadline) => new_timers.recv_timeout(deadline - now),
            None => new_timers
                .recv()
                .map_err(|_| RecvTimeoutError::Disconnected),
        };
        match received {
            Ok(timer) => timers.push(timer),
            Err(RecvTimeoutError::Timeout) => {} // a deadline came
            Err(RecvTimeoutError::Disconnected) => return, // the executor is gone
        }
    }
}

/// A sleep that registers its waker with the timer thread, once.
struct Sleep {
    deadline: Instant,
    registered: bool,
}

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        if !self.registered {
            let timer = (self.deadline, cx.waker().clone()); // only the first: pitfall 2
            TIMERS.with(|t| t.borrow().as_ref().unwrap().send(timer).unwrap());
            self.registered = true;
        }
        Poll::Pending
    }
}

fn sleep(after: Duration) -> Sleep {
    Sleep {
        deadline: Instant::now() + after,
        registered: false,
    }
}

type Task = Pin<Box<dyn Future<Output = ()>>>;

/// The executor. Returns (polls made, queue entries found stale).
fn run(futures: Vec<Task>) -> (u64, u64) {
    let (timer_tx, timer_rx) = mpsc::channel();
    let timer = thread::spawn(move || timer_thread(timer_rx));
    TIMERS.with(|t| *t.borrow_mut() = Some(timer_tx));

    let queue = Arc::new(Queue::default());
    let wakers: Vec<Waker> = (0..futures.len())
        .map(|id| {
            Waker::from(Arc::new(TaskWaker {
                id,
                queue: queue.clone(),
            }))
        })
        .collect();
    queue.ready.lock().unwrap().extend(0..futures.len()); // every task starts runnable
    let mut tasks: Vec<Option<Task>> = futures.into_iter().map(Some).collect();
    let (mut polls, mut stale) = (0, 0);
    while tasks.iter().any(Option::is_some) {
        let id = {
            let mut ready = queue.ready.lock().unwrap();
            // Check and sleep under one lock: a wake cannot slip in between.
            loop {
                match ready.pop_front() {
                    Some(id) => break id,
                    None => ready = queue.not_empty.wait(ready).unwrap(),
                }
            }
        };
        let Some(task) = &mut tasks[id] else {
            stale += 1; // a wake for a finished task: skip it (pitfall 5)
            continue;
        };
        polls += 1;
        if task
            .as_mut()
            .poll(&mut Context::from_waker(&wakers[id]))
            .is_ready()
        {
            tasks[id] = None;
        }
    }
    TIMERS.with(|t| t.borrow_mut().take()); // lets the timer thread end
    timer.join().unwrap();
    (polls, stale)
}

fn main() {
    let start = Instant::now();
    let mut tasks: Vec<Task> = (1..=3u64)
        .map(|i| -> Task {
            Box::pin(async move {
                sleep(Duration::from_millis(100 * i)).await;
                println!("task {i} done after {} ms", start.elapsed().as_millis());
            })
        })
        .collect();
    // Wakes itself three times in its first poll, is done at its second.
    let mut first = true;
    tasks.push(Box::pin(poll_fn(move |cx| {
        if !std::mem::take(&mut first) {
            return Poll::Ready(());
        }
        (0..3).for_each(|_| cx.waker().wake_by_ref());
        Poll::Pending
    })));
    let (polls, stale) = run(tasks);
    println!("polls: {polls}");
    println!(
        "stale queue entries: {stale} (one task, woken 3 times in one poll, was queued 3 times)"
    );
    cpu_time::report(start.elapsed());
}
