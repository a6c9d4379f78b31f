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
//! ```
//! use duet::blocking::{Runtime, sleep, spawn};
//! use std::time::{Duration, Instant};
//!
//! let rt = Runtime::new();
//! let start = Instant::now();
//! rt.block_on(|| {
//!     let handles: Vec<_> = (0..100).map(|_| spawn(|| sleep(Duration::from_millis(50)))).collect();
//!     for handle in handles {
//!         handle.join().unwrap();
//!     }
//! });
//! // A hundred waits at once, on a hundred threads: about 50 ms in all.
//! println!("{:?}", start.elapsed());
//! ```
//!
//! The same program on one thread is in [`crate::event_loop`].
//!
//! - [`net`]: `TcpListener` and `TcpStream`, thin wrappers over `std::net`.
//! - [`channel`]: `bounded`, `unbounded` and `oneshot`, over crossbeam.
//!
//! Read next: `net/mod.rs`, then `channel.rs`; then `event_loop/mod.rs`
//! ([`crate::event_loop`]), which runs the same programs on one thread by
//! never letting a task sleep in the kernel.

pub mod channel;
pub mod net;

use crate::JoinError;
use crate::task_id::{TaskId, spawn_site};
use crate::trace::{self, CurrentTask, EventKind};
use std::io;
use std::panic::Location;
use std::thread;
use std::time::Duration;

/// Runs a program on the blocking runtime.
///
/// There is nothing to set up: the "runtime" is the operating system's
/// thread scheduler. `Runtime` exists so a program reads the same here as
/// on [`crate::event_loop::Runtime`], where `block_on` has real work to do.
///
/// ```
/// use duet::blocking::{Runtime, spawn};
///
/// let rt = Runtime::new();
/// let answer = rt.block_on(|| spawn(|| 6 * 7).join().unwrap());
/// assert_eq!(answer, 42);
/// ```
#[derive(Debug, Default)]
pub struct Runtime {
    // Private, so every `Runtime` comes from `new()` (or `default()`), as
    // the event loop's does.
    _private: (),
}

impl Runtime {
    /// Creates a runtime. It owns nothing, so this cannot fail.
    ///
    /// ```
    /// use duet::blocking::Runtime;
    ///
    /// let rt = Runtime::new();
    /// assert_eq!(rt.block_on(|| "hello"), "hello");
    /// ```
    pub fn new() -> Runtime {
        Runtime { _private: () }
    }

    /// Runs `f` on the calling thread and returns what it returns.
    ///
    /// Tasks that `f` spawns are threads of their own: they keep running
    /// after `block_on` returns, until they finish or the process exits.
    ///
    /// ```
    /// use duet::blocking::{Runtime, spawn};
    ///
    /// let rt = Runtime::new();
    /// let handle = rt.block_on(|| spawn(|| "still here"));
    /// // block_on has returned; the task's thread ran on regardless.
    /// assert_eq!(rt.block_on(|| handle.join()).unwrap(), "still here");
    /// ```
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
/// memory for their stacks); [`try_spawn`] returns that as an error.
///
/// ```
/// use duet::blocking::{Runtime, spawn};
///
/// let rt = Runtime::new();
/// rt.block_on(|| {
///     let handles: Vec<_> = (1..=3).map(|i| spawn(move || i * 10)).collect();
///     let mut total = 0;
///     for handle in handles {
///         total += handle.join().unwrap();
///     }
///     assert_eq!(total, 60);
/// });
/// ```
#[track_caller]
pub fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
    try_spawn(f).unwrap_or_else(|err| refused(err))
}

/// As [`spawn`], naming the thread (and the task, in traces) `name`.
///
/// ```
/// use duet::blocking::{Runtime, spawn_named};
/// use duet::trace::capture;
///
/// let rt = Runtime::new();
/// let (_, events) = capture(|| rt.block_on(|| spawn_named("greeter", || {}).join()));
/// assert!(events.iter().any(|e| e.task_name.as_deref() == Some("greeter")));
/// ```
pub fn spawn_named<T: Send + 'static>(
    name: impl Into<String>,
    f: impl FnOnce() -> T + Send + 'static,
) -> JoinHandle<T> {
    try_spawn_named(name, f).unwrap_or_else(|err| refused(err))
}

/// As [`spawn`], but when the OS refuses to start another thread, says so
/// with an error instead of panicking.
///
/// A server that starts a thread per connection wants this: under a
/// thread limit (`ulimit -u`, a container's or a service manager's task
/// limit) it can close that one connection and go on serving the others,
/// and serve new ones again once threads have finished. The error is the
/// one `std::thread::Builder::spawn` returns, most often
/// [`io::ErrorKind::WouldBlock`] (`EAGAIN`: try again later).
///
/// ```
/// let task = duet::blocking::try_spawn(|| 6 * 7).expect("a thread to spare");
/// assert_eq!(task.join().unwrap(), 42);
/// ```
#[track_caller]
pub fn try_spawn<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> io::Result<JoinHandle<T>> {
    // Numbered 1, 2, ... for the whole process (see `task_id.rs`).
    let id = TaskId::next_blocking();
    let location = Location::caller();
    trace::name_task(id, || spawn_site(location));
    spawn_thread(id, format!("duet-task-{}", id.as_u64()), f)
}

/// As [`try_spawn`], naming the thread (and the task, in traces) `name`.
///
/// ```
/// let task = duet::blocking::try_spawn_named("worker", || {
///     std::thread::current().name().map(String::from)
/// })
/// .expect("a thread to spare");
/// assert_eq!(task.join().unwrap().as_deref(), Some("worker"));
/// ```
pub fn try_spawn_named<T: Send + 'static>(
    name: impl Into<String>,
    f: impl FnOnce() -> T + Send + 'static,
) -> io::Result<JoinHandle<T>> {
    let id = TaskId::next_blocking();
    let name = name.into();
    trace::name_task(id, || name.clone());
    spawn_thread(id, name, f)
}

/// The panic of [`spawn`] and [`spawn_named`] when the OS says no.
fn refused(err: io::Error) -> ! {
    panic!(
        "duet::blocking::spawn: the OS refused to start another thread ({err}); \
         every blocking task needs its own thread, so spawn fewer tasks \
         (or use duet::blocking::try_spawn and handle the error, \
         or duet::event_loop, which runs many tasks on one thread)"
    )
}

fn spawn_thread<T: Send + 'static>(
    id: TaskId,
    thread_name: String,
    f: impl FnOnce() -> T + Send + 'static,
) -> io::Result<JoinHandle<T>> {
    trace::emit(|| (Some(id), EventKind::Spawn));
    let thread = thread::Builder::new().name(thread_name).spawn(move || {
        let _life = ThreadLife::start(id);
        f()
    })?;
    Ok(JoinHandle { thread, id })
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
///
/// ```
/// use duet::blocking::{JoinHandle, Runtime, spawn};
///
/// let rt = Runtime::new();
/// rt.block_on(|| {
///     let handle: JoinHandle<u32> = spawn(|| panic!("boom"));
///     assert!(handle.join().unwrap_err().is_panic());
/// });
/// ```
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
    ///
    /// ```
    /// use duet::blocking::{Runtime, spawn};
    ///
    /// let rt = Runtime::new();
    /// rt.block_on(|| {
    ///     let handle = spawn(|| 6 * 7);
    ///     assert_eq!(handle.join().unwrap(), 42);
    /// });
    /// ```
    pub fn join(self) -> Result<T, JoinError> {
        let target = Some(self.id);
        blocked_on_target("join", target, || self.thread.join()).map_err(JoinError::panic)
    }

    /// True once the task has run to the end (returned or panicked), so
    /// that [`join`](JoinHandle::join) would hardly wait: at most for the
    /// thread to finish exiting.
    ///
    /// ```
    /// use duet::blocking::{Runtime, spawn, yield_now};
    ///
    /// let rt = Runtime::new();
    /// rt.block_on(|| {
    ///     let handle = spawn(|| 42);
    ///     while !handle.is_finished() {
    ///         yield_now();
    ///     }
    ///     assert_eq!(handle.join().unwrap(), 42);
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }
}

/// Puts the calling thread to sleep for at least `duration`.
///
/// It never returns early: the kernel may wake the thread late (it has
/// other threads to run), never before the time is up.
///
/// ```
/// use duet::blocking::{Runtime, sleep};
/// use std::time::{Duration, Instant};
///
/// let rt = Runtime::new();
/// rt.block_on(|| {
///     let start = Instant::now();
///     sleep(Duration::from_millis(10));
///     assert!(start.elapsed() >= Duration::from_millis(10));
/// });
/// ```
pub fn sleep(duration: Duration) {
    blocked_on("sleep", || thread::sleep(duration));
}

/// Offers the CPU to another thread that is ready to run.
///
/// This is only a hint to the OS scheduler; the thread stays ready, so it
/// is not a wait, and nothing is traced as blocked.
///
/// ```
/// use duet::blocking::{Runtime, spawn, yield_now};
///
/// let rt = Runtime::new();
/// rt.block_on(|| {
///     let handle = spawn(|| 42);
///     while !handle.is_finished() {
///         yield_now(); // offers the CPU to the spawned thread
///     }
/// });
/// ```
pub fn yield_now() {
    thread::yield_now();
}

/// Every place where a blocking task may wait goes through here: `sleep`,
/// `join`, and the socket and channel calls in [`net`] and [`channel`].
///
/// `on` names the wait with a short, fixed word: "sleep", "join",
/// "accept", "connect", "read", "write", "recv" or "send".
///
/// It records `Block { on }` before `wait` and `Unblock` after it (see
/// [`crate::trace`]), so a timeline shows each thread asleep in the
/// kernel. With tracing off, both are a flag check, and it just waits.
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
