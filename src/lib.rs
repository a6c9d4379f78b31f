//! # duet: two runtimes that play the same piece
//!
//! duet teaches how an async runtime works by running the same programs on
//! two runtimes, side by side:
//!
//! - [`blocking`]: straight-line code. Every task gets its own OS thread;
//!   waiting means the thread sleeps in the kernel. This is the reference
//!   you already know.
//! - [`event_loop`]: one thread, many tasks. A task is a future; when it
//!   cannot go on it returns `Pending` and leaves a *waker* behind; the loop
//!   runs whatever is ready and, when nothing is, sleeps in the kernel
//!   until a timer or a socket (or another thread) needs it.
//!
//! The belief duet answers is "async means many threads, sync means one".
//! It is the other way round: the event loop serves thousands of waiting
//! tasks on one thread because a task that waits gives the thread back
//! instead of blocking it, while straight-line code needs a thread for
//! every task that waits.
//!
//! ## Reading order
//!
//! 1. `README.md`, then the learning path it starts with:
//!    `examples/learn_0_future.rs` and the stages after it, each a small
//!    executor of its own with a flaw that the next stage fixes.
//! 2. This file, then what both runtimes share: [`JoinError`]
//!    (`join_error.rs`), the channel errors (`channel_error.rs`) and
//!    [`TaskId`] (`task_id.rs`).
//! 3. [`blocking`] (`blocking/mod.rs`, `net/`, `channel.rs`): threads,
//!    `sleep`, sockets and channels as std gives them.
//! 4. [`event_loop`]: its module doc draws the loop's three layers (the
//!    executor, the reactor and its I/O types, the leaf futures built on
//!    them) and lists its files in reading order, futures first:
//!    `yield_now.rs` and `timer.rs`, then the executor from `task.rs` to
//!    `slab.rs`, the reactor with `io_source.rs` and `net/`, and last
//!    `channel/`, `spawn_blocking.rs` and `timeout.rs`.
//! 5. [`trace`] (`trace/`), then the tour (`src/main.rs`, `src/tour/`),
//!    then the tests, starting with `tests/pitfalls.rs` and the catalogue
//!    it follows, `docs/PITFALLS.md`.
//!
//! Every file's opening comment ends with a "Read next:" line that follows
//! this order, so you can read the crate from here to the tests one file
//! after another. `cargo doc --document-private-items --open` shows the
//! same pages in a browser, private modules included.
//!
//! A program reads almost line for line alike on both runtimes: the
//! difference is `async`, `.await` and the module path. Compare
//! `examples/hello_blocking.rs` with `examples/hello_event_loop.rs`.
//!
//! Read next: `join_error.rs`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod blocking;
mod channel_error;
pub mod event_loop;
mod join_error;
mod task_id;
pub mod trace;

pub use join_error::JoinError;
pub use task_id::TaskId;
