//! Watching the runtimes work: every spawn, poll, wake, wait, park and
//! block, as a list of [`Event`]s, a readable log, and a timeline picture.
//!
//! Turn it on in one of two ways:
//!
//! - [`capture`]`(|| ...)` runs a closure with recording on and returns the
//!   events recorded meanwhile, by every thread, in the order they
//!   happened. Tests and the tour use this.
//! - `DUET_TRACE=1` in the environment prints every event to stderr as it
//!   happens, one aligned line each: time, thread, task, what happened.
//!   `DUET_TRACE=1 cargo run --example echo_event_loop` reads as a story.
//!
//! When neither is on, a trace point costs one relaxed atomic load and a
//! branch that is never taken: see `enabled` in `recorder.rs`.
//!
//! Files: `recorder.rs` (the switch and the global event list), `event.rs`
//! (what an event says, and how it prints), `svg.rs` (the timeline).
//!
//! Read next: `recorder.rs`.

mod event;
mod recorder;
mod svg;

pub use crate::task_id::TaskId;
pub use event::{DiagnosisKind, Event, EventKind, WaitOn};
pub use recorder::capture;
pub use svg::{render_html, render_svg};

pub(crate) use recorder::{CurrentTask, current_task, emit, enabled, name_task};
