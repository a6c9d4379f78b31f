//! `spawn_blocking`: run blocking code without blocking the loop.
//!
//! The loop thread must never block: while it waits in a blocking call,
//! every task on it waits too. Code that must block (a slow computation, a
//! file read, a library with no async API) goes to another thread, and the
//! loop gets a wake when it is done.
//!
//! The mechanism is the blocking runtime's, plus one wake:
//!
//! 1. a new OS thread runs the closure (inside `catch_unwind`);
//! 2. it puts the result in a slot shared with a small task on the loop,
//!    and wakes that task's waker; from another thread, the wake goes
//!    through the remote queue and the reactor's `mio::Waker`, so a parked
//!    loop wakes up;
//! 3. the task returns the result, or re-raises the closure's panic, which
//!    the executor catches like any task's panic: the handle reports
//!    `Err(is_panic)` with the original payload.
//!
//! One thread per call, not a pool: it is the simplest thing that cannot
//! deadlock (a pool of N threads hangs when N jobs wait on a job still in
//! the queue), and a thread start costs tens of microseconds, small
//! beside the blocking work that justifies `spawn_blocking`. tokio pools
//! threads to save that start-up; we say so and keep the code short.
//!
//! Aborting the handle drops the waiting task; the thread cannot be
//! stopped and runs its closure to the end, its result dropped.
//!
//! Read next: `timer.rs`.

use super::context;
use super::join_handle::JoinHandle;
use crate::task_id::TaskId;
use parking_lot::Mutex;
use std::future::poll_fn;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::thread;

/// Where the helper thread leaves its result for the loop.
struct Handoff<T> {
    result: Option<thread::Result<T>>,
    waker: Option<Waker>,
}

/// Runs `f` on a new OS thread and returns a handle that the loop's tasks
/// can await. Must be called on a thread running a runtime.
///
/// # Panics
/// Outside `Runtime::block_on`, or if the OS refuses a new thread.
pub fn spawn_blocking<T, F>(f: F) -> JoinHandle<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let core = context::expect_current("duet::event_loop::spawn_blocking");
    let handoff = Arc::new(Mutex::new(Handoff {
        result: None,
        waker: None,
    }));
    let thread_handoff = handoff.clone();
    thread::Builder::new()
        .name(format!("duet-blocking-{}", TaskId::next().as_u64()))
        .spawn(move || {
            let result = catch_unwind(AssertUnwindSafe(f));
            let waker = {
                let mut handoff = thread_handoff.lock();
                handoff.result = Some(result);
                handoff.waker.take()
            };
            // Wake after unlocking (PITFALLS.md #9).
            if let Some(waker) = waker {
                waker.wake();
            }
        })
        .unwrap_or_else(|error| {
            panic!("duet::event_loop::spawn_blocking: the OS refused a new thread: {error}")
        });
    core.spawn(async move {
        let result = poll_fn(|cx| {
            let mut handoff = handoff.lock();
            match handoff.result.take() {
                Some(result) => Poll::Ready(result),
                None => {
                    handoff.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await;
        // A panic in the closure becomes this task's panic, which the
        // executor reports through the JoinHandle with the same payload.
        result.unwrap_or_else(|payload| resume_unwind(payload))
    })
}
