//! The switch, and the one list every thread appends to.
//!
//! A trace point in the runtimes is one line,
//! `trace::emit(|| (Some(task_id), EventKind::PollStart))`, and what it
//! records is what [`capture`] hands back:
//!
//! ```
//! use duet::event_loop::{Runtime, spawn};
//! use duet::trace::{EventKind, capture};
//!
//! let rt = Runtime::new()?;
//! let (_, events) = capture(|| rt.block_on(async { spawn(async {}).await }));
//! assert!(events.iter().any(|event| event.kind == EventKind::PollStart));
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! `emit` is `#[inline]` and does one thing before anything else: a
//! *relaxed* load of [`STATE`]. Relaxed is enough because nothing is
//! published through the flag: a thread that sees "on" a moment late only
//! misses an event at the very edge of a capture. When tracing is off that
//! load and an untaken branch are the whole cost; the closure that builds
//! the event is never called.
//!
//! When tracing is on, `record` takes a global mutex, reads the clock
//! *inside* it (so `at` never decreases across threads: the lock orders
//! the events; on an event loop with a virtual clock, its virtual time is
//! used instead, held up to the latest `at` so far), prints the line if `DUET_TRACE` is set, and appends the
//! event to the running capture, if any. Slow, and deliberately simple:
//! tracing is for watching, not for production.
//!
//! Under `DUET_TRACE` the recorder also keeps every event of the process:
//! when a runtime is dropped, [`runtime_dropped`] prints that runtime's
//! summary (`summary.rs`) after the events, or, when `DUET_TRACE` names a
//! `.json` file, writes the events so far there (`chrome.rs`). Dropping
//! the runtime is the last moment duet sees: Rust runs no code of ours at
//! process exit. The kept list grows with every event: trace a
//! long-running server for a while, not for days.
//!
//! A wake's cause reaches its trace point through a thread-local too:
//! see `cause.rs`.
//!
//! Read next: `cause.rs`.

use super::event::{Event, EventKind};
use crate::task_id::TaskId;
use parking_lot::Mutex;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

const OFF: u8 = 0;
const ON: u8 = 1;
/// Not yet decided: `DUET_TRACE` has not been read.
const UNKNOWN: u8 = 2;

/// Is anyone listening? See the module comment for the ordering.
static STATE: AtomicU8 = AtomicU8::new(UNKNOWN);

/// Everything `record` needs, behind one lock.
static RECORDER: Mutex<Recorder> = Mutex::new(Recorder {
    print: false,
    json: None,
    header_printed: false,
    kept: Vec::new(),
    origin: None,
    capture: None,
    names: BTreeMap::new(),
});

struct Recorder {
    /// `DUET_TRACE` is set (and names no `.json` file): print each event
    /// to stderr.
    print: bool,
    /// `DUET_TRACE=path.json`: write the events there as each runtime drops.
    json: Option<PathBuf>,
    /// The column names have been printed.
    header_printed: bool,
    /// Under `DUET_TRACE`, every event of the process, timed from `origin`.
    kept: Vec<Event>,
    /// Time zero for printed events: the first event of the process.
    origin: Option<Instant>,
    capture: Option<Capture>,
    /// Task names, kept while anyone is listening.
    names: BTreeMap<TaskId, Arc<str>>,
}

struct Capture {
    start: Instant,
    /// The `at` of the last event, which the next may not go below.
    latest: Duration,
    events: Vec<Event>,
}

/// True if events are being recorded or printed.
#[inline]
pub(crate) fn enabled() -> bool {
    // (Without the `OFF` or `ON` arm every trace point would fall through
    // to `read_environment`: the same answer, at the price of a lock each
    // time, the very cost this function exists to avoid.)
    match STATE.load(Ordering::Relaxed) {
        OFF => false,
        ON => true,
        _ => read_environment(),
    }
}

/// Decides, once, whether `DUET_TRACE` asks for printing (any value but
/// empty or `0`) or for a JSON file (a value ending in `.json`).
#[cold]
fn read_environment() -> bool {
    let value = std::env::var_os("DUET_TRACE").filter(|value| !value.is_empty() && value != "0");
    let json = value
        .as_ref()
        .filter(|value| value.to_string_lossy().ends_with(".json"))
        .map(PathBuf::from);
    let mut recorder = RECORDER.lock();
    recorder.print = value.is_some() && json.is_none();
    let on = value.is_some();
    recorder.json = json;
    if STATE.load(Ordering::Relaxed) == UNKNOWN {
        STATE.store(if on { ON } else { OFF }, Ordering::Relaxed);
    }
    STATE.load(Ordering::Relaxed) == ON
}

impl Recorder {
    /// `DUET_TRACE` is on, for printing or for a file.
    fn env_wants_events(&self) -> bool {
        self.print || self.json.is_some()
    }
}

/// Records the event that `make` builds, if anyone is listening.
#[inline]
pub(crate) fn emit(make: impl FnOnce() -> (Option<TaskId>, EventKind)) {
    if enabled() {
        let (task, kind) = make();
        record(task, kind);
    }
}

#[cold]
fn record(task: Option<TaskId>, kind: EventKind) {
    let thread = thread_label();
    // On the thread of an event loop with a virtual clock, events are
    // stamped with its time (since the runtime was built), so that a
    // deterministic run has deterministic times (docs/DETERMINISM.md).
    let virtual_time = crate::event_loop::virtual_elapsed();
    let mut recorder = RECORDER.lock();
    let now = Instant::now();
    let task_name = task.and_then(|id| recorder.names.get(&id).cloned());
    if recorder.env_wants_events() {
        let origin = *recorder.origin.get_or_insert(now);
        let event = Event {
            at: virtual_time.unwrap_or(now - origin),
            thread: thread.clone(),
            task,
            kind: kind.clone(),
            task_name: task_name.clone(),
        };
        if recorder.print {
            if !recorder.header_printed {
                recorder.header_printed = true;
                eprintln!("{}", Event::header());
            }
            eprintln!("{event}");
        }
        recorder.kept.push(event);
    }
    if let Some(capture) = &mut recorder.capture {
        // Never decreasing, even when virtual and real times mix.
        let at = virtual_time
            .unwrap_or(now - capture.start)
            .max(capture.latest);
        capture.latest = at;
        capture.events.push(Event {
            at,
            thread,
            task,
            kind,
            task_name,
        });
    }
}

/// Remembers a task's name for the events that follow, if anyone is
/// listening. `name` is only called then.
#[inline]
pub(crate) fn name_task(id: TaskId, name: impl FnOnce() -> String) {
    if enabled() {
        RECORDER.lock().names.insert(id, name().into());
    }
}

/// Runtime `runtime` (its serial, see `task_id.rs`) is being dropped:
/// under `DUET_TRACE`, print its summary, or write the events so far to
/// the JSON file.
#[inline]
pub(crate) fn runtime_dropped(runtime: u32) {
    if enabled() {
        at_runtime_drop(runtime);
    }
}

#[cold]
fn at_runtime_drop(runtime: u32) {
    let recorder = RECORDER.lock();
    if recorder.print {
        let summary = super::summary::Summary::of(&recorder.kept);
        for part in summary
            .runtimes
            .iter()
            .filter(|part| part.runtime == runtime)
        {
            eprint!("{part}");
        }
    }
    if let Some(path) = &recorder.json {
        let written = std::fs::File::create(path).and_then(|file| {
            super::chrome::write_chrome_json(&recorder.kept, std::io::BufWriter::new(file))
        });
        if let Err(error) = written {
            eprintln!(
                "duet: DUET_TRACE: could not write {}: {error}",
                path.display()
            );
        }
    }
}

fn thread_label() -> String {
    let thread = std::thread::current();
    match thread.name() {
        Some(name) => name.to_string(),
        None => format!("{:?}", thread.id()),
    }
}

thread_local! {
    /// The task this thread is running right now: the event loop sets it
    /// around each poll, a blocking task's thread for its whole life. Trace
    /// points deep inside (a `Sleep` registering its timer) read it to say
    /// *which* task now waits.
    static CURRENT_TASK: Cell<Option<TaskId>> = const { Cell::new(None) };
    /// Set while this thread is inside `capture`, to refuse nesting.
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
}

/// The task running on this thread, if any (and if tracing is on).
pub(crate) fn current_task() -> Option<TaskId> {
    CURRENT_TASK.try_with(Cell::get).ok().flatten()
}

/// Marks `id` as this thread's current task until dropped.
pub(crate) struct CurrentTask {
    previous: Option<TaskId>,
}

impl CurrentTask {
    pub(crate) fn enter(id: TaskId) -> CurrentTask {
        CurrentTask {
            previous: CURRENT_TASK.replace(Some(id)),
        }
    }
}

impl Drop for CurrentTask {
    fn drop(&mut self) {
        CURRENT_TASK.set(self.previous);
    }
}

/// Runs `f` with recording on, and returns its value with every event any
/// thread recorded meanwhile, in the order they happened (`at` never
/// decreases).
///
/// Recording is process-wide: threads that `f` starts are recorded, and so
/// is anything else running in the process meanwhile. Captures on
/// different threads therefore take turns (a second one waits for the
/// first to end).
///
/// # Panics
/// If called inside another `capture` on the same thread (it would wait
/// for itself forever).
///
/// ```
/// use duet::event_loop::{Runtime, spawn};
/// use duet::trace::capture;
///
/// let rt = Runtime::new()?;
/// let (answer, events) = capture(|| rt.block_on(async { spawn(async { 42 }).await }));
/// assert_eq!(answer.unwrap(), 42);
/// for event in &events {
///     println!("{event}"); // one line each, as DUET_TRACE prints them
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn capture<R>(f: impl FnOnce() -> R) -> (R, Vec<Event>) {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    assert!(
        !CAPTURING.get(),
        "duet::trace::capture was called inside another capture on this thread; \
         a capture already records everything, so take the events from the outer one"
    );
    let _turn = ONE_AT_A_TIME.lock();
    CAPTURING.set(true);
    enabled(); // read DUET_TRACE first, so ending the capture restores it
    RECORDER.lock().capture = Some(Capture {
        start: Instant::now(),
        latest: Duration::ZERO,
        events: Vec::new(),
    });
    STATE.store(ON, Ordering::Relaxed);
    // Ends the capture even if `f` panics, so tracing does not stay on.
    let ending = EndCapture { finished: false };
    let value = f();
    (value, ending.finish())
}

/// Stops the capture when `capture` returns, or unwinds.
struct EndCapture {
    finished: bool,
}

impl EndCapture {
    fn finish(mut self) -> Vec<Event> {
        self.finished = true;
        stop_capture()
    }
}

impl Drop for EndCapture {
    fn drop(&mut self) {
        if !self.finished {
            stop_capture();
        }
    }
}

fn stop_capture() -> Vec<Event> {
    let mut recorder = RECORDER.lock();
    let events = recorder
        .capture
        .take()
        .map(|capture| capture.events)
        .unwrap_or_default();
    if !recorder.env_wants_events() {
        STATE.store(OFF, Ordering::Relaxed);
        recorder.names.clear();
    }
    drop(recorder);
    CAPTURING.set(false);
    events
}
