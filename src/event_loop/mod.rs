//! The event loop: one thread, many tasks.
//!
//! A task here is a future. The loop polls it; when it cannot go on it
//! returns `Pending`, having left a *waker* with whatever it waits for (a
//! timer, a socket, a channel, another task). When that thing happens, it
//! calls the waker, which puts the task back on the run queue. When the
//! run queue is empty the loop sleeps in one system call (`epoll_wait`,
//! through mio) until the first timer is due or something wakes a task.
//! Nothing ever blocks the thread except that one call, which is why one
//! thread can serve thousands of waiting tasks.
//!
//! Read the files in this order:
//!
//! 1. `slab.rs`, then `task.rs`: what a task is, and the table that owns them.
//! 2. `waker.rs`: how a wake becomes a key on a run queue.
//! 3. `executor.rs`: the loop that polls; `runtime.rs`: `block_on`,
//!    `spawn`; `context.rs`: how `spawn` finds the runtime;
//!    `join_handle.rs`: awaiting, aborting and detaching tasks;
//!    `budget.rs`: fairness inside one task's poll.
//! 4. `reactor.rs`: sleeping in the kernel until a socket, a timer or
//!    another thread needs the loop.
//! 5. `timer.rs`, `timeout.rs`, `yield_now.rs`: the first futures built
//!    on all that.
//! 6. `io_source.rs`: the edge-triggered read/write discipline; `net/`:
//!    TCP built on it.
//! 7. `channel/`: async channels written by hand, wakers in plain sight;
//!    `spawn_blocking.rs`: handing blocking work to another thread.
//! 8. `diagnostics.rs`, `watch.rs`, `slow_poll.rs`, `stall.rs`: how the loop notices a
//!    task's mistakes (a lost waker, a slow poll, busy waiting, a hang, a
//!    deadlock) and says so (`docs/DIAGNOSTICS.md`).
//!
//! The same programs on threads: [`crate::blocking`].

mod budget;
pub mod channel;
mod context;
mod diagnostics;
mod executor;
mod io_source;
mod join_handle;
pub mod net;
mod reactor;
mod runtime;
mod slab;
mod slow_poll;
mod spawn_blocking;
mod stall;
mod task;
mod task_turn;
mod timeout;
mod timer;
mod waker;
mod watch;
mod yield_now;

pub use diagnostics::Diagnostics;
pub use join_handle::JoinHandle;
pub use runtime::{Runtime, spawn, spawn_named};
pub use spawn_blocking::spawn_blocking;
pub use timeout::{Elapsed, Timeout, timeout};
pub use timer::{Sleep, sleep, sleep_until};
pub use yield_now::{YieldNow, yield_now};
