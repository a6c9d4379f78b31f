//! The duet tour: the first thing to run (`cargo run --release`).
//!
//! It runs one workload — 1,000 tasks that each wait 100 ms — on both
//! runtimes, each in its own child process, measures wall time, the most
//! OS threads alive at once and peak memory, and prints them side by side
//! with a paragraph saying what they show: one event-loop thread serves
//! every waiting task, while blocking code needs a thread per waiting task.
//! Async is not about more threads; it is about not needing one per wait.
//!
//! `cargo run --release -- --help` lists the flags.
//!
//! Reading order for the whole crate: `README.md` → `DESIGN.md` →
//! `src/lib.rs`. For the tour itself, read `src/tour/mod.rs` next.

#![forbid(unsafe_code)]

mod tour;

fn main() -> std::process::ExitCode {
    tour::main()
}
