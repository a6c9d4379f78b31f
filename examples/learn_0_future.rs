//! Chapter 0: what a future is, before any executor.
//!
//! The idea: a future is a value with one method, `poll`. Calling it asks
//! "are you done?". The answer is `Poll::Ready(output)`, or
//! `Poll::Pending`, which means "not yet, and I have arranged for someone
//! to call the waker in `cx` when it is worth asking again".
//!
//! ```text
//! pub trait Future {
//!     type Output;
//!     fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output>;
//! }
//! pub enum Poll<T> { Ready(T), Pending }
//! // Context carries one thing that matters here: cx.waker().
//! ```
//!
//! This file shows, in order: two futures written by hand (`YieldNow` and
//! `Sleep`); an `async fn` next to the state machine the compiler turns
//! it into, written out by hand, both run to the same result; what a
//! `Waker` is; and the smallest `block_on` that runs one future.
//!
//! What it lacks: it runs *one* future. Many tasks need an executor, and
//! the stages build one. The real versions of these futures are `src/event_loop/yield_now.rs` and
//! `src/event_loop/timer.rs`.
//!
//! Run: `cargo run --example learn_0_future`
//!
//! Read next: `learn_1_busy_loop.rs`.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

/// Pending once, then Ready. Before it says `Pending` it wakes its own
/// waker: whoever returns `Pending` must have arranged a wake, or nobody
/// will ever poll it again (pitfall 1 in docs/PITFALLS.md).
struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref(); // "poll me again soon"
        Poll::Pending
    }
}

/// Ready once its deadline has passed. Its wake comes from a helper
/// thread that sleeps until the deadline, then wakes the *latest* waker
/// it was given: a future may be polled with a different waker each time
/// (moved to another task), so it must keep the newest (pitfall 2). A
/// thread per sleep is wasteful; duet keeps one table of deadlines.
struct Sleep {
    deadline: Instant,
    waker: Option<Arc<Mutex<Waker>>>,
}

impl Sleep {
    fn new(after: Duration) -> Sleep {
        Sleep {
            deadline: Instant::now() + after,
            waker: None,
        }
    }
}

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        match &self.waker {
            // Polled again: keep the newest waker.
            Some(slot) => slot.lock().unwrap().clone_from(cx.waker()),
            None => {
                let slot = Arc::new(Mutex::new(cx.waker().clone()));
                let (deadline, theirs) = (self.deadline, slot.clone());
                thread::spawn(move || {
                    thread::sleep(deadline.saturating_duration_since(Instant::now()));
                    theirs.lock().unwrap().wake_by_ref();
                });
                self.waker = Some(slot);
            }
        }
        Poll::Pending
    }
}

/// An `async fn` with two `.await`s. The compiler turns it into a state
/// machine like [`StepsByHand`] below: one variant per place it can stop.
async fn steps(x: u32) -> u32 {
    let a = x + 1;
    YieldNow { yielded: false }.await;
    let b = a * 2;
    Sleep::new(Duration::from_millis(20)).await;
    a + b
}

/// `steps`, desugared by hand. Each variant holds the locals still alive
/// at that point, and the future being awaited there.
enum StepsByHand {
    Start { x: u32 },
    Yielding { a: u32, yield_now: YieldNow },
    Sleeping { a: u32, b: u32, sleep: Sleep },
    Done,
}

impl Future for StepsByHand {
    type Output = u32;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        // Every field is `Unpin`, so `Pin<&mut Self>` derefs mutably. The
        // compiler's own state machine may hold references into itself
        // (a borrow across an `.await`), so it is `!Unpin`: that is what
        // `Pin` is for.
        loop {
            match &mut *self {
                StepsByHand::Start { x } => {
                    let a = *x + 1;
                    let yield_now = YieldNow { yielded: false };
                    *self = StepsByHand::Yielding { a, yield_now };
                }
                StepsByHand::Yielding { a, yield_now } => {
                    if Pin::new(yield_now).poll(cx).is_pending() {
                        return Poll::Pending; // stop here; resume here
                    }
                    let (a, b) = (*a, *a * 2);
                    let sleep = Sleep::new(Duration::from_millis(20));
                    *self = StepsByHand::Sleeping { a, b, sleep };
                }
                StepsByHand::Sleeping { a, b, sleep } => {
                    if Pin::new(sleep).poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    let output = *a + *b;
                    *self = StepsByHand::Done;
                    return Poll::Ready(output);
                }
                StepsByHand::Done => panic!("polled after Ready (pitfall 5)"),
            }
        }
    }
}

// What is a `Waker`? Underneath, a `RawWaker`: a data pointer plus a
// pointer to a `RawWakerVTable` of four functions, `clone`, `wake`,
// `wake_by_ref` and `drop`, each taking that data pointer. A hand-built
// one is `unsafe` code: `clone` must bump a reference count behind the
// pointer and return a new `RawWaker`, `wake` must schedule the task and
// release the reference, `wake_by_ref` schedule without releasing, and
// `drop` release. Get one wrong and you have a use-after-free.
//
// The safe road: put the data in an `Arc` and implement one trait. std's
// `Wake` (used below) or `futures_task::ArcWake` (used by duet, in
// `src/event_loop/waker.rs`) writes the four functions for you, using the
// `Arc`'s reference count. So a waker is "an `Arc` of something that
// knows how to reschedule a task", shareable with any thread.

/// The waker of `block_on`: a flag and a condition variable.
struct Signal {
    woken: Mutex<bool>,
    wakeup: Condvar,
}

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        *self.woken.lock().unwrap() = true;
        self.wakeup.notify_one();
    }
}

/// Runs one future to the end on this thread, counting its polls. It
/// sleeps on the condvar while the future is Pending; the check of the
/// flag and the wait happen under one lock, so a wake cannot slip in
/// between them (pitfall 3).
fn block_on<F: Future>(future: F) -> (F::Output, usize) {
    let signal = Arc::new(Signal {
        woken: Mutex::new(false),
        wakeup: Condvar::new(),
    });
    let waker = Waker::from(signal.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    let mut polls = 0;
    loop {
        polls += 1;
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return (output, polls);
        }
        let mut woken = signal.woken.lock().unwrap();
        while !*woken {
            woken = signal.wakeup.wait(woken).unwrap();
        }
        *woken = false;
    }
}

fn main() {
    let ((), polls) = block_on(YieldNow { yielded: false });
    println!("yield_now: ready after {polls} polls");

    let start = Instant::now();
    let ((), polls) = block_on(Sleep::new(Duration::from_millis(30)));
    let waited = start.elapsed().as_millis();
    println!("sleep(30ms): ready after {polls} polls, {waited} ms");

    let (by_compiler, polls_a) = block_on(steps(10));
    let (by_hand, polls_b) = block_on(StepsByHand::Start { x: 10 });
    println!("async fn steps(10) = {by_compiler} after {polls_a} polls");
    println!("StepsByHand(10)    = {by_hand} after {polls_b} polls");
    assert_eq!((by_compiler, polls_a), (by_hand, polls_b));

    // A clone of a waker wakes the same task: `will_wake` says so, and
    // lets a future skip replacing a stored waker with its twin. Another
    // task's waker is another `Arc`.
    let new_signal = || {
        Arc::new(Signal {
            woken: Mutex::new(false),
            wakeup: Condvar::new(),
        })
    };
    let (one, other) = (Waker::from(new_signal()), Waker::from(new_signal()));
    let same = one.will_wake(&one.clone());
    println!(
        "waker: will_wake(clone) = {same}, will_wake(other task) = {}",
        one.will_wake(&other)
    );
}
