//! The event loop: one thread, many tasks.
//!
//! A task here is a future. The loop polls it; when it cannot go on it
//! returns `Pending`, having left a *waker* with whatever it waits for (a
//! timer, a socket, a channel, another task). When that thing happens, it
//! calls the waker, which puts the task back on the run queue. When the
//! run queue is empty the loop sleeps in one system call (`epoll_wait`,
//! through mio) until the first timer is due or something wakes a task.
//! Nothing in the loop blocks the thread except that one call, which is
//! why one thread can serve thousands of waiting tasks (as long as the
//! tasks themselves do not block it: that is what `spawn_blocking` is for).
//!
//! ```
//! use duet::event_loop::{Runtime, sleep, spawn};
//! use std::time::{Duration, Instant};
//!
//! let rt = Runtime::new()?;
//! let start = Instant::now();
//! rt.block_on(async {
//!     let handles: Vec<_> = (0..100).map(|_| spawn(sleep(Duration::from_millis(50)))).collect();
//!     for handle in handles {
//!         handle.await.unwrap();
//!     }
//! });
//! // A hundred waits at once, all on this thread: about 50 ms in all.
//! println!("{:?}", start.elapsed());
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! The same program on threads is in [`crate::blocking`].
//!
//! ## The map: three layers
//!
//! ```text
//!  +------------------------------------------------------------------+
//!  | LEAF FUTURES: what a task awaits                                 |
//!  |   yield_now.rs   timer.rs (sleep)   timeout.rs                   |
//!  |   channel/ (mod, mpsc, waiters, oneshot)   spawn_blocking.rs     |
//!  |   and futures made of futures: child_wakers.rs, join.rs,         |
//!  |   join_all.rs, select.rs                                         |
//!  +------------------------------------------------------------------+
//!     | each leaves its task's Waker somewhere and returns Pending:
//!     | a Sleep in the executor's timer table, a channel future in the
//!     | channel; a yield puts its task in the deferred list; a blocking
//!     | thread wakes its task from outside, through the remote queue
//!     v
//!  +------------------------------+          +-------------------------+
//!  | EXECUTOR: runs tasks         |   park   | REACTOR and its I/O     |
//!  |   task.rs      waker.rs      | -------> | types: waits for the    |
//!  |   executor.rs  deferred.rs   |          | kernel (epoll, via mio) |
//!  |   task_turn.rs runtime.rs    |   wake   |   reactor.rs            |
//!  |   context.rs join_handle.rs  | <------- |   sources.rs            |
//!  |   budget.rs slab.rs          |          |   precise_wakeup.rs     |
//!  |   clock.rs schedule.rs       |          |   io_source.rs          |
//!  |   builder.rs                 |          |   net/ (TcpListener,    |
//!  |   diagnostics.rs watch.rs    |          |     TcpStream, halves)  |
//!  |   slow_poll.rs stall.rs      |          |                         |
//!  +------------------------------+          +-------------------------+
//! ```
//!
//! - The **executor** owns the tasks, the run queue and the timer table;
//!   its loop (`executor.rs`) polls whatever is runnable and, when nothing
//!   is, parks in the reactor for no longer than the earliest timer.
//! - The **reactor** owns the `epoll` instance: it wakes the tasks whose
//!   sockets became ready, and an eventfd lets other threads wake the
//!   parked loop. `io_source.rs` and `net/` are the futures that wait on
//!   it: every socket call is a non-blocking system call, and when that
//!   would block, a waker left with the reactor.
//! - The **leaf futures** need nothing more than a waker and a place to
//!   leave it. They are built on the layers below, and two of them on
//!   another leaf: `timeout` on a `Sleep`, `spawn_blocking` on a oneshot.
//!
//! ## Reading order
//!
//! Every file's "Read next:" line follows this order.
//!
//! 1. Two leaf futures first, to see the shape of every future:
//!    `yield_now.rs` (`Pending` once, then `Ready`) and `timer.rs`
//!    (`sleep`: a deadline and a waker in a table).
//! 2. The executor: `task.rs` (what a task is) → `waker.rs` (how a wake
//!    becomes a key on a run queue) → `executor.rs` (the loop, one turn in
//!    numbered steps) → `deferred.rs` (letting others run first) →
//!    `task_turn.rs` (one poll of one task) →
//!    `runtime.rs` (`block_on`, `spawn`) → `context.rs` (how `spawn` finds
//!    the runtime) → `join_handle.rs` (awaiting, aborting and detaching
//!    tasks) → `budget.rs` (fairness inside one task's poll) → `slab.rs`
//!    (the table whose keys cannot go stale).
//! 3. The reactor and its I/O types: `reactor.rs` (sleeping in the kernel
//!    until a socket, a timer or another thread needs the loop) →
//!    `sources.rs` (what it keeps per socket: readiness and waiters) →
//!    `precise_wakeup.rs` (a timerfd, so a park ends on the deadline's
//!    microsecond, not the next millisecond) →
//!    `io_source.rs` (the edge-triggered read/write discipline) → `net/`
//!    (`mod.rs`, `listener.rs`, `stream.rs`, `options.rs`, `split.rs`: TCP
//!    built on it).
//! 4. The other leaf futures: `channel/` (`mod.rs`, `mpsc.rs`,
//!    `waiters.rs`, `oneshot.rs`: async channels written by hand, wakers in
//!    plain sight) → `spawn_blocking.rs` (handing blocking work to another
//!    thread) → `timeout.rs` (racing a future against a `Sleep`).
//! 5. Futures that compose by polling each other (`docs/COMPOSING.md`):
//!    `child_wakers.rs` (a waker per child, so only the woken child is
//!    polled) → `join.rs` → `join_all.rs` → `select.rs` (the loser is
//!    dropped: cancellation).
//! 6. Runs that repeat exactly (`docs/DETERMINISM.md`): `clock.rs` (a
//!    virtual clock that jumps to the next deadline) → `schedule.rs` (FIFO,
//!    or a seeded random pick among the runnable tasks) → `builder.rs`.
//! 7. How the loop notices a task's mistakes (a lost waker, a slow poll,
//!    busy waiting, a hang, a deadlock) and says so
//!    (`docs/DIAGNOSTICS.md`): `diagnostics.rs` (the switches and the
//!    reports) → `watch.rs` (what each poll is checked for) →
//!    `slow_poll.rs` → `stall.rs` (when the loop has nothing to do).
//!
//! Then `trace/` ([`crate::trace`]): how both runtimes report what they
//! do. The same programs on threads: [`crate::blocking`].
//!
//! Read next: `yield_now.rs`.

mod budget;
mod builder;
pub mod channel;
mod child_wakers;
mod clock;
mod context;
mod deferred;
mod diagnostics;
mod executor;
mod io_source;
mod join;
mod join_all;
mod join_handle;
pub mod net;
mod precise_wakeup;
mod reactor;
mod runtime;
mod schedule;
mod select;
mod slab;
mod slow_poll;
mod sources;
mod spawn_blocking;
mod stall;
mod task;
mod task_turn;
mod timeout;
mod timer;
mod waker;
mod watch;
mod yield_now;

pub(crate) use clock::virtual_elapsed;
pub use join::{Join, join};
pub use join_all::{JoinAll, join_all};

pub use builder::Builder;
pub use clock::now;
pub use diagnostics::Diagnostics;
pub use join_handle::JoinHandle;
pub use runtime::{Runtime, spawn, spawn_named};
pub use select::{Either, Select, select};
pub use spawn_blocking::spawn_blocking;
pub use timeout::{Elapsed, Timeout, timeout};
pub use timer::{Sleep, sleep, sleep_until};
pub use yield_now::{YieldNow, yield_now};
