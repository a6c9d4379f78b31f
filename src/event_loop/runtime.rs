//! `Runtime`, `block_on` and `spawn`: the user's side of the executor.
//!
//! `block_on` makes the calling thread the loop thread until its future
//! completes: it marks the thread as running this runtime (`context.rs`)
//! and runs the loop, `Executor::run_until` in `executor.rs`. Its future
//! is not a spawned task (it lives on the caller's stack and may borrow
//! from it), but it is scheduled like one: it has its own waker and key,
//! and takes its turn on the run queue. So a busy task cannot starve it,
//! and it cannot starve the tasks.
//!
//! `block_on` returns as soon as its own future is done, even if other
//! tasks are still runnable or waiting; they stay with the `Runtime`, a
//! later `block_on` continues them, and dropping the `Runtime` drops them.
//!
//! Read next: `context.rs`, how `spawn` finds the runtime.

use super::Builder;
use super::context;
use super::diagnostics::Diagnostics;
use super::executor::Executor;
use super::join_handle::JoinHandle;
use crate::trace;
use std::future::Future;
use std::io;
use std::panic::Location;
use std::pin::pin;
use std::rc::Rc;

/// A single-threaded event loop. Create one per thread that runs async
/// code; several may exist at once, on one thread or on many.
///
/// It is `!Send`: its tasks may hold `Rc`s and other `!Send` values, so the
/// runtime must stay on the thread that made it.
///
/// ```
/// use duet::event_loop::{Runtime, spawn};
///
/// let rt = Runtime::new()?;
/// let answer = rt.block_on(async { spawn(async { 6 * 7 }).await.unwrap() });
/// assert_eq!(answer, 42);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Runtime {
    executor: Rc<Executor>,
}

impl Runtime {
    /// A new runtime with an empty task table, no timers and its own
    /// `epoll` instance: the same as `Builder::new().build()` (real clock;
    /// first woken, first polled, unless `DUET_SEED` is set, see
    /// [`Builder`]). Fails if the OS refuses the epoll/eventfd descriptors
    /// (for example when out of file descriptors), or if `DUET_SEED` is not
    /// a number.
    ///
    /// ```
    /// use duet::event_loop::Runtime;
    ///
    /// let rt = Runtime::new()?;
    /// assert_eq!(rt.block_on(async { "hello" }), "hello");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    pub(super) fn from_executor(executor: Rc<Executor>) -> Runtime {
        Runtime { executor }
    }

    /// Runs `future`, and every spawned task, on this thread until
    /// `future` completes, then returns its output.
    ///
    /// # Panics
    /// If called inside another `block_on` on this thread, and if `future`
    /// panics (the panic passes through to the caller, as a panic in a
    /// plain function call would). A panicking *spawned* task does not
    /// reach here: its `JoinHandle` reports it.
    ///
    /// ```
    /// use duet::event_loop::{Runtime, spawn};
    ///
    /// let rt = Runtime::new()?;
    /// let handle = rt.block_on(async { spawn(async { "still here" }) });
    /// // block_on has returned before the task ran; the next block_on runs it.
    /// assert_eq!(rt.block_on(async { handle.await }).unwrap(), "still here");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _entered = context::enter(&self.executor);
        self.executor.run_until(pin!(future))
    }

    /// Sets what this runtime's diagnostics watch for and whether they
    /// print (see [`Diagnostics`]; the default follows the environment).
    ///
    /// ```
    /// use duet::event_loop::{Diagnostics, Runtime};
    ///
    /// let rt = Runtime::new().unwrap();
    /// rt.set_diagnostics(Diagnostics::off());
    /// assert_eq!(rt.diagnostics(), Diagnostics::off());
    /// ```
    pub fn set_diagnostics(&self, diagnostics: Diagnostics) {
        self.executor.watch.config.set(diagnostics);
    }

    /// What this runtime's diagnostics watch for.
    ///
    /// ```
    /// let rt = duet::event_loop::Runtime::new().unwrap();
    /// assert!(rt.diagnostics().lost_waker);
    /// ```
    pub fn diagnostics(&self) -> Diagnostics {
        self.executor.watch.config.get()
    }
}

impl Drop for Runtime {
    /// Drops every task's future and every unclaimed output; never waits.
    /// Under `DUET_TRACE`, then prints this runtime's trace summary (or
    /// writes the trace file).
    fn drop(&mut self) {
        self.executor.shutdown();
        // Under `DUET_TRACE`: this runtime's summary, or the JSON file.
        trace::runtime_dropped(self.executor.numbering().runtime());
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("tasks", &self.executor.tasks().borrow().len())
            .field("timers", &self.executor.timers().lock().len())
            .field("io_sources", &self.executor.reactor().source_count())
            .finish()
    }
}

/// Starts `future` as a new task on the runtime running on this thread,
/// and returns a handle to await its output. Spawning never polls: the
/// task first runs once the caller gives the thread back (its poll returns
/// `Pending`, at an `.await` that must wait or a `yield_now`). The future
/// need not be `Send`.
///
/// # Panics
/// Outside `Runtime::block_on` (no runtime is running on this thread).
///
/// ```
/// use duet::event_loop::{Runtime, spawn};
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let handles: Vec<_> = (1..=3).map(|i| spawn(async move { i * 10 })).collect();
///     let mut total = 0;
///     for handle in handles {
///         total += handle.await.unwrap();
///     }
///     assert_eq!(total, 60);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    // Traces name the task after the line that spawned it.
    context::expect_current("duet::event_loop::spawn").spawn(future, Location::caller())
}

/// As [`spawn`], with a name that traces show next to the task's number.
///
/// ```
/// use duet::event_loop::{Runtime, spawn_named};
/// use duet::trace::capture;
///
/// let rt = Runtime::new()?;
/// let (_, events) = capture(|| rt.block_on(async { spawn_named("greeter", async {}).await }));
/// assert!(events.iter().any(|e| e.task_name.as_deref() == Some("greeter")));
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn spawn_named<F>(name: impl Into<String>, future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    context::expect_current("duet::event_loop::spawn_named").spawn_named(
        future,
        Location::caller(),
        name.into(),
    )
}

#[cfg(test)]
mod tests {
    use super::{Runtime, spawn, spawn_named};

    /// A named task's name is kept only while the task lives: a server
    /// that names a task per connection must not keep every name forever.
    #[test]
    fn names_are_kept_while_their_tasks_live() {
        let rt = Runtime::new().unwrap();
        let names = || rt.executor.remote.name_count();
        rt.block_on(async {
            let (done, detached) = (
                spawn_named("joined", async {}),
                spawn_named("detached", async {}),
            );
            drop(detached);
            let unnamed = spawn(async {});
            assert_eq!(names(), 2, "both named tasks are alive");
            done.await.unwrap();
            unnamed.await.unwrap();
            crate::event_loop::yield_now().await; // the detached one ends too
        });
        assert_eq!(names(), 0, "every named task ended");
    }
}
