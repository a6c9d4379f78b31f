//! What every test binary shares: waits that cannot hang, and small probes.
//!
//! The rule these helpers enforce: **no test may hang.** A bug in an
//! executor usually shows up as a wait that never ends, and a test suite
//! that hangs tells the reader nothing. So every wait has a bound:
//!
//! - [`within`] runs a whole test body on its own std thread and takes its
//!   result with `recv_timeout`. Even a bug that stalls the event loop
//!   itself (where no timer inside it could fire) fails the test.
//! - [`bounded`] and [`bounded_as`] bound one `.await` inside a runtime with
//!   `timeout`, whose timer wakes only the *awaiting* future, so it cannot
//!   mask the bug it guards by waking the task under test.
//!
//! Each file under `tests/` is its own crate and uses only some of these.

// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

use duet::event_loop::{Runtime, spawn, timeout, yield_now};
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::panic::resume_unwind;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::task::{Poll, Waker};
use std::thread;
use std::time::Duration;

/// How long one wait may take: long enough for any healthy machine, short
/// enough to fail fast.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// How long a whole test body may run when it waits several times.
pub const THREAD_PATIENCE: Duration = Duration::from_secs(10);

/// A fresh event-loop runtime.
pub fn runtime() -> Runtime {
    Runtime::new().expect("the OS gave us an epoll instance")
}

/// Awaits `future`, failing the test instead of hanging if it takes longer
/// than [`PATIENCE`].
pub async fn bounded<F: Future>(future: F) -> F::Output {
    bounded_as("this wait", future).await
}

/// [`bounded`], with a name for the wait in the failure message.
pub async fn bounded_as<F: Future>(what: &str, future: F) -> F::Output {
    match timeout(PATIENCE, future).await {
        Ok(output) => output,
        Err(_) => panic!("{what}: still waiting after {PATIENCE:?}; a bug made it endless"),
    }
}

/// Runs `f` on its own std thread and returns its result, or fails the
/// test after [`PATIENCE`].
pub fn within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    within_for(PATIENCE, f)
}

/// [`within`] with its own patience. A panic in `f` is re-raised here with
/// its own message, so the test fails for the reason `f` gave.
pub fn within_for<T: Send + 'static>(
    patience: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    let thread = thread::Builder::new()
        .name("test-body".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("the OS gave us a thread");
    match rx.recv_timeout(patience) {
        Ok(value) => {
            thread.join().expect("the thread already sent its result");
            value
        }
        Err(RecvTimeoutError::Disconnected) => {
            resume_unwind(thread.join().expect_err("it ended without sending"))
        }
        Err(RecvTimeoutError::Timeout) => panic!(
            "the test body was still running after {patience:?}: the loop hung, \
             or something spins inside a poll"
        ),
    }
}

/// The text of a panic payload (`panic!` makes a `&str` or a `String`).
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<not a string>".to_string()
    }
}

/// Counts guards made and guards dropped, so a test can tell "dropped
/// exactly once" from "leaked".
#[derive(Clone, Default)]
pub struct DropLog {
    created: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
}

/// One value whose drop a [`DropLog`] counts.
pub struct Guard(Arc<AtomicUsize>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl DropLog {
    /// A new guard, counted as created now and as dropped when it drops.
    pub fn guard(&self) -> Guard {
        self.created.fetch_add(1, Ordering::SeqCst);
        Guard(self.dropped.clone())
    }
    /// How many guards were made.
    pub fn created(&self) -> usize {
        self.created.load(Ordering::SeqCst)
    }
    /// How many guards were dropped.
    pub fn dropped(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }
}

/// Runs a closure when dropped: user code in a destructor.
pub struct OnDrop<F: FnOnce()>(pub Option<F>);

impl<F: FnOnce()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

/// A count that `Runtime`'s `Debug` prints, such as `"tasks"`, `"timers"`
/// or `"io_sources"` (the sources the reactor still has registered): how
/// a test sees that nothing was left behind.
pub fn debug_count(rt: &Runtime, field: &str) -> usize {
    let text = format!("{rt:?}");
    let label = format!("{field}: ");
    let start = text
        .find(&label)
        .unwrap_or_else(|| panic!("Runtime's Debug shows {field}: {text}"))
        + label.len();
    let digits: String = text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().expect("a count")
}

/// A future that is ready once `flag` is set. Its first poll hands the
/// task's waker to `waker_tx`, that is, to the thread that will set the
/// flag and wake it.
pub fn wait_for_flag(
    flag: Arc<AtomicBool>,
    waker_tx: mpsc::Sender<Waker>,
) -> impl Future<Output = ()> {
    let mut waker_tx = Some(waker_tx);
    poll_fn(move |cx| {
        if flag.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        if let Some(tx) = waker_tx.take() {
            tx.send(cx.waker().clone())
                .expect("the waking thread waits");
        }
        Poll::Pending
    })
}

/// Pitfall 6, on the loop thread: spawns a task whose first poll wakes
/// itself `wakes` times, gives the loop 20 turns, and checks that all
/// those wakes made exactly one more poll (a task is on the run queue at
/// most once); then releases the task and awaits it. The task stays
/// pending without waking until released, so a duplicate queue entry
/// would show as an extra poll. Shared by `tests/pitfalls.rs` (a million
/// wakes) and `tests/event_loop_executor.rs` (a thousand).
pub async fn wakes_during_one_poll_mean_one_more_poll(wakes: usize) {
    let polls = Rc::new(Cell::new(0));
    let release = Rc::new(Cell::new(false));
    let stored: Rc<RefCell<Option<Waker>>> = Rc::default();
    let (p, r, s) = (polls.clone(), release.clone(), stored.clone());
    let handle = spawn(poll_fn(move |cx| {
        p.set(p.get() + 1);
        if p.get() == 1 {
            for _ in 0..wakes {
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
    assert_eq!(
        polls.get(),
        2,
        "{wakes} wakes during one poll, exactly one more poll"
    );
    release.set(true);
    stored.borrow_mut().take().unwrap().wake();
    handle.await.unwrap();
    assert_eq!(polls.get(), 3);
}

/// A value that runs `f` when dropped.
pub fn on_drop<F: FnOnce()>(f: F) -> OnDrop<F> {
    OnDrop(Some(f))
}

pub mod examples;
