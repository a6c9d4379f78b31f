//! Watching the runtimes work: every spawn, poll, wake, wait, park and
//! block, as a list of [`Event`]s, a readable log, a summary, a timeline
//! picture and page, and a file for Perfetto.
//!
//! Turn it on in one of three ways:
//!
//! - [`capture`]`(|| ...)` runs a closure with recording on and returns the
//!   events recorded meanwhile, by every thread, in the order they
//!   happened. Tests, the tour and the pipeline examples use this.
//! - `DUET_TRACE=1` in the environment prints every event to stderr as it
//!   happens, one aligned line each under a header naming the columns:
//!   time, thread, task (number and name), what happened. When a runtime
//!   is dropped it prints that runtime's [`Summary`] (tasks, polls, wakes,
//!   parks and time parked, OS threads; for the blocking runtime, time
//!   blocked per kind of call). `DUET_TRACE=1 cargo run --example
//!   echo_event_loop` reads as a story, and its twin `echo_blocking`
//!   numbers and names its tasks alike (see `task_id.rs`).
//! - `DUET_TRACE=trace.json` (any value ending in `.json`) prints nothing
//!   and instead writes every event of the process to that file as Chrome
//!   Trace Event JSON ([`write_chrome_json`]) each time a runtime is
//!   dropped: open it in ui.perfetto.dev or `chrome://tracing`. (A runtime's
//!   drop is the last moment duet sees: Rust runs no code of ours at
//!   process exit.)
//!
//! ```
//! use duet::event_loop::{Runtime, spawn};
//! use duet::trace::{capture, render_svg};
//!
//! let rt = Runtime::new()?;
//! let (_, events) = capture(|| rt.block_on(async { spawn(async {}).await }));
//! for event in &events {
//!     println!("{event}"); // spawn, poll start, poll end, wake, ...
//! }
//! let picture = render_svg(&events); // an SVG timeline of the same events
//! # assert!(picture.starts_with("<svg"));
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! When none is on, a trace point costs one relaxed atomic load and a
//! branch that is never taken: see `enabled` in `recorder.rs`.
//!
//! Files, in reading order: `recorder.rs` (the switch and the global event
//! list), `cause.rs` (how a wake's cause reaches its trace point), `event.rs` (what
//! an event says, and how it prints), `summary.rs` (the counts),
//! `chrome.rs` (the export), `svg.rs` (the picture) and `html.rs` with
//! `timeline.js` (the page a learner can zoom and click).
//!
//! Read next: `recorder.rs`.

mod cause;
mod chrome;
mod event;
mod html;
mod recorder;
mod summary;
mod svg;

pub use crate::task_id::TaskId;
pub use chrome::write_chrome_json;
pub use event::{DiagnosisKind, Event, EventKind, WaitOn, WokenBy};
pub use html::render_html;
pub use recorder::capture;
pub use summary::{Blocked, RuntimeSummary, Summary};
pub use svg::render_svg;

pub(crate) use cause::{wake_cause, waking};
pub(crate) use recorder::{CurrentTask, current_task, emit, enabled, name_task, runtime_dropped};
