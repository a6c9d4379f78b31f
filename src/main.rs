//! The duet tour: the first thing to run (`cargo run --release`).
//!
//! It runs three workloads (tasks that wait, tasks that compute, and a
//! network server) on straight-line code with one thread, on
//! `duet::blocking` with a thread per task and on `duet::event_loop` with
//! one thread, each in its own child process; measures wall time, p50/p99
//! latency, the most OS threads alive at once and peak memory; and prints
//! them side by side with a reading of what they show. One event-loop
//! thread serves every waiting task, while blocking code needs a thread
//! per waiting task; and where tasks compute rather than wait, the event
//! loop does not win. Async is not about more threads; it is about not
//! needing one per wait.
//!
//! `cargo run --release -- --help` lists the flags.
//!
//! The reading order for the whole crate starts at `README.md` and
//! `examples/learn_0_future.rs`, and is listed in `src/lib.rs`; the tour
//! comes after the runtimes and the trace.
//!
//! Read next: `src/tour/mod.rs`.

#![forbid(unsafe_code)]

mod tour;

fn main() -> std::process::ExitCode {
    tour::main()
}
