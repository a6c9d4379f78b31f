//! # `duet::blocking`: a task is a thread
//!
//! This is the runtime you already know. Code runs straight down the page;
//! when it has to wait — for a timer, a socket, a channel, another task —
//! the *thread* waits: it makes a system call and the kernel puts it to
//! sleep until the thing it waits for happens. Nothing here is clever, and
//! that is the point: it is the reference the event loop is measured by.
//!
//! What it costs: every task that waits is a whole OS thread — a stack
//! (megabytes of address space, some of it touched) and a kernel thread
//! the scheduler must track. Ten tasks are free; ten thousand are not.
//!
//! Read next: `net.rs`, then `channel.rs`; then [`crate::event_loop`],
//! which runs the same programs on one thread by never letting a task
//! sleep in the kernel.
//!
//! - [`net`]: `TcpListener` and `TcpStream`, thin wrappers over `std::net`.
//! - [`channel`]: `bounded`, `unbounded` and `oneshot`, over crossbeam.

pub mod channel;
pub mod net;

use crate::JoinError;
use crate::task_id::{TaskId, spawn_site};
use crate::trace::{self, CurrentTask, EventKind};
use std::panic::Location;
use std::thread;
use std::time::Duration;

/// Runs a program on the blocking runtime.
///
/// There is nothing to set up: the "runtime" is the operating system's
/// thread scheduler. `Runtime` exists so a program reads the same here as
/// on [`crate::event_loop::Runtime`], where `block_on` has real work to do.
#[derive(Debug, Default)]
pub struct Runtime {
    // Private, so every `Runtime` comes from `new()` (or `default()`), as
    // the event loop's does.
    _private: (),
}

impl Runtime {
    /// Creates a runtime. It owns nothing, so this cannot fail.
    pub fn new() -> Runtime {
        Runtime { _private: () }
    }

    /// Runs `f` on the calling thread and returns what it returns.
    ///
    /// Tasks that `f` spawns are threads of their own: they keep running
    /// after `block_on` returns, until they finish or the process exits.
    pub fn block_on<T>(&self, f: impl FnOnce() -> T) -> T {
        // The calling thread is task 0, "main", in traces: the event
        // loop's `block_on` future has that number and name too.
        let main = TaskId::blocking_main();
        trace::name_task(main, || "main".to_string());
        let _main = CurrentTask::enter(main);
        f()
    }
}

impl Drop for Runtime {
    /// Under `DUET_TRACE`, prints the blocking runtime's trace summary (or
    /// writes the trace file). Threads still running go on running.
    fn drop(&mut self) {
        trace::runtime_dropped(crate::task_id::BLOCKING_RUNTIME);
    }
}

/// Starts `f` on its own, new OS thread, named `duet-task-N`.
///
/// Works inside and outside [`Runtime::block_on`]. The task starts at once
/// and runs *in parallel* with its spawner; the OS decides who goes first.
/// Because every task has its own thread, tasks that wait for each other
/// never deadlock for lack of threads — they only cost memory.
///
/// Dropping the [`JoinHandle`] detaches the task: it keeps running.
///
/// # Panics
/// If the OS refuses to start another thread (too many threads, or out of
/// memory for their stacks).
#[track_caller]
pub fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
    // Numbered 1, 2, ... for the whole process (see `task_id.rs`).
    let id = TaskId::next_blocking();
    let location = Location::caller();
    trace::name_task(id, || spawn_site(location));
    spawn_thread(id, format!("duet-task-{}", id.as_u64()), f)
}

/// As [`spawn`], naming the thread (and the task, in traces) `name`.
pub fn spawn_named<T: Send + 'static>(
    name: impl Into<String>,
    f: impl FnOnce() -> T + Send + 'static,
) -> JoinHandle<T> {
    let id = TaskId::next_blocking();
    let name = name.into();
    trace::name_task(id, || name.clone());
    spawn_thread(id, name, f)
}

fn spawn_thread<T: Send + 'static>(
    id: TaskId,
    thread_name: String,
    f: impl FnOnce() -> T + Send + 'static,
) -> JoinHandle<T> {
    trace::emit(|| (Some(id), EventKind::Spawn));
    let thread = thread::Builder::new()
        .name(thread_name)
        .spawn(move || {
            let _life = ThreadLife::start(id);
            f()
        })
        .unwrap_or_else(|err| {
            panic!(
                "duet::blocking::spawn: the OS refused to start another thread ({err}); \
                 every blocking task needs its own thread, so spawn fewer tasks \
                 (or use duet::event_loop, which runs many tasks on one thread)"
            )
        });
    JoinHandle { thread, id }
}

/// Traces a task thread's start, and its exit when dropped, which happens
/// also when the task panics.
struct ThreadLife {
    id: TaskId,
    _current: CurrentTask,
}

impl ThreadLife {
    fn start(id: TaskId) -> ThreadLife {
        trace::emit(|| (Some(id), EventKind::ThreadStart));
        ThreadLife {
            id,
            _current: CurrentTask::enter(id),
        }
    }
}

impl Drop for ThreadLife {
    fn drop(&mut self) {
        let id = self.id;
        trace::emit(|| (Some(id), EventKind::ThreadExit));
    }
}

/// Owns a spawned task; [`JoinHandle::join`] waits for its result.
///
/// Dropping the handle detaches the task: it keeps running, and its result
/// is thrown away. A thread cannot be stopped from outside, so unlike the
/// event loop's handle there is no `abort`.
pub struct JoinHandle<T> {
    thread: thread::JoinHandle<T>,
    id: TaskId,
}

impl<T> JoinHandle<T> {
    /// Waits (the calling thread sleeps) until the task has finished.
    ///
    /// Returns the task's value, or a [`JoinError`] with
    /// [`is_panic`](JoinError::is_panic) if it panicked. A panic stays in
    /// its own thread: std catches it there and hands us the payload.
    pub fn join(self) -> Result<T, JoinError> {
        let target = Some(self.id);
        blocked_on_target("join", target, || self.thread.join()).map_err(JoinError::panic)
    }

    /// True once the task has run to the end (returned or panicked), so
    /// that [`join`](JoinHandle::join) would hardly wait: at most for the
    /// thread to finish exiting.
    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }
}

/// Puts the calling thread to sleep for at least `duration`.
///
/// It never returns early: the kernel may wake the thread late (it has
/// other threads to run), never before the time is up.
pub fn sleep(duration: Duration) {
    blocked_on("sleep", || thread::sleep(duration));
}

/// Offers the CPU to another thread that is ready to run.
///
/// This is only a hint to the OS scheduler; the thread stays ready, so it
/// is not a wait, and nothing is traced as blocked.
pub fn yield_now() {
    thread::yield_now();
}

/// Every place where a blocking task may wait goes through here: `sleep`,
/// `join`, and the socket and channel calls in [`net`] and [`channel`].
///
/// `on` names the wait with a short, fixed word: "sleep", "join",
/// "accept", "connect", "read", "write", "recv" or "send".
///
/// The trace chapter records `Block { on }` before `wait` and `Unblock`
/// after it, so a timeline shows each thread asleep in the kernel. Having
/// one doorway keeps that a one-place change. Until then it just waits.
pub(crate) fn blocked_on<T>(on: &'static str, wait: impl FnOnce() -> T) -> T {
    blocked_on_target(on, None, wait)
}

/// `blocked_on`, naming the task waited for (the one a `join` joins).
fn blocked_on_target<T>(on: &'static str, target: Option<TaskId>, wait: impl FnOnce() -> T) -> T {
    trace::emit(|| (trace::current_task(), EventKind::Block { on, target }));
    let result = wait();
    trace::emit(|| (trace::current_task(), EventKind::Unblock));
    result
}
