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
//! 2. it sends the result on a `oneshot` channel (see `channel/`) to a
//!    small task on the loop; from another thread, the wake goes through
//!    the remote queue and the reactor's `mio::Waker`, so a parked loop
//!    wakes up;
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
//! Read next: `timeout.rs`, the last leaf future.

use super::channel::oneshot;
use super::context;
use super::join_handle::JoinHandle;
use std::panic::{AssertUnwindSafe, Location, catch_unwind, resume_unwind};
use std::thread;

/// Runs `f` on a new OS thread and returns a handle that the loop's tasks
/// can await. Must be called on a thread running a runtime.
///
/// # Panics
/// Outside `Runtime::block_on`, or if the OS refuses a new thread.
///
/// ```
/// use duet::event_loop::{Runtime, spawn_blocking};
/// use std::time::Duration;
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let handle = spawn_blocking(|| {
///         std::thread::sleep(Duration::from_millis(10)); // blocks its own thread
///         42
///     });
///     assert_eq!(handle.await.unwrap(), 42);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn spawn_blocking<T, F>(f: F) -> JoinHandle<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let core = context::expect_current("duet::event_loop::spawn_blocking");
    let location = Location::caller();
    let (sender, receiver) = oneshot();
    // Numbered apart from the tasks ("blocking N"), and its thread is
    // named after it: `duet-blocking-N` wakes "blocking N".
    let id = core.numbering().next_job();
    thread::Builder::new()
        .name(format!("duet-blocking-{}", id.as_u64()))
        .spawn(move || {
            // If the task was aborted, nobody is listening: the result is
            // dropped here.
            let _ = sender.send(catch_unwind(AssertUnwindSafe(f)));
        })
        .unwrap_or_else(|error| {
            panic!("duet::event_loop::spawn_blocking: the OS refused a new thread: {error}")
        });
    core.spawn_as(
        id,
        async move {
            match receiver.await {
                Some(Ok(value)) => value,
                // A panic in the closure becomes this task's panic, which the
                // executor reports through the JoinHandle with the same payload.
                Some(Err(payload)) => resume_unwind(payload),
                None => {
                    unreachable!("the helper thread always sends: catch_unwind caught any panic")
                }
            }
        },
        location,
        false,
    )
}
