//! Export: a capture as Chrome Trace Event JSON, the format Perfetto
//! (ui.perfetto.dev) and `chrome://tracing` open.
//!
//! The mapping, one runtime per "process" and one track per task:
//!
//! - process 0 is the blocking runtime, process N event loop N;
//! - each task (thread, on the blocking runtime) is a track; an event
//!   loop's own events go on its "event loop" track, at the top;
//! - polls, waits, blocking calls and a blocking thread's running spells
//!   are slices (`"ph":"X"`, a start and a duration), so they cannot be
//!   left open; a park is a slice on the loop's track;
//! - a fired timer or a ready socket is a zero-length slice on the loop's
//!   track (the place its wake arrows leave from);
//! - a wake is a flow (`"ph":"s"` then `"ph":"f"`): an arrow from whoever
//!   woke the task to the task's next poll.
//!
//! No JSON library: the output is a flat list of small objects, and the
//! only text that needs escaping is names, which `escape` handles.
//!
//! Read next: `svg.rs`, the timeline as a picture.

use super::event::{Event, EventKind, WokenBy};
use super::summary::runtime_of_each;
use crate::task_id::{BLOCKING_RUNTIME, TaskId};
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::time::Duration;

/// A track: (process, thread) in the format's words.
type Track = (u32, u64);

/// The loop's own track in an event loop's process.
const LOOP_TRACK: u64 = 0;

/// Writes `events` as Chrome Trace Event JSON to `out`.
///
/// `DUET_TRACE=trace.json` does this for the whole process each time a
/// runtime is dropped.
///
/// ```
/// let ((), events) = duet::trace::capture(|| {
///     let rt = duet::event_loop::Runtime::new().unwrap();
///     rt.block_on(duet::event_loop::sleep(std::time::Duration::from_millis(1)));
/// });
/// let mut json = Vec::new();
/// duet::trace::write_chrome_json(&events, &mut json).unwrap();
/// let json = String::from_utf8(json).unwrap();
/// assert!(json.starts_with("{\"traceEvents\":["));
/// assert!(json.contains("\"name\":\"park\""));
/// ```
pub fn write_chrome_json(events: &[Event], mut out: impl Write) -> io::Result<()> {
    let mut export = Export::default();
    export.build(events);
    out.write_all(b"{\"traceEvents\":[\n")?;
    for (n, line) in export.lines.iter().enumerate() {
        let comma = if n + 1 < export.lines.len() { "," } else { "" };
        writeln!(out, "{line}{comma}")?;
    }
    out.write_all(b"],\"displayTimeUnit\":\"ms\"}\n")?;
    out.flush()
}

#[derive(Default)]
struct Export {
    lines: Vec<String>,
    named: HashMap<Track, ()>,
    threads: HashMap<String, u64>,
    /// A track's open slice: its start, name and details.
    running: HashMap<Track, (Duration, String)>,
    waiting: HashMap<Track, (Duration, String)>,
    parked: HashMap<Track, Duration>,
    /// Flows whose arrow has left, by the task they wait to land on.
    flows: BTreeMap<TaskId, Vec<u64>>,
    /// When each track's last slice ended or last tick happened: a flow
    /// leaves from a slice (Perfetto binds it to the one around it).
    last_mark: HashMap<Track, Duration>,
    next_flow: u64,
}

impl Export {
    fn build(&mut self, events: &[Event]) {
        let owners = runtime_of_each(events);
        let mut processes: Vec<u32> = owners.clone();
        processes.sort_unstable();
        processes.dedup();
        for pid in processes {
            let name = if pid == BLOCKING_RUNTIME {
                "duet::blocking".to_string()
            } else {
                format!("duet::event_loop runtime {pid}")
            };
            self.meta(pid, None, "process_name", &name);
        }
        for (event, &pid) in events.iter().zip(&owners) {
            self.add(event, pid);
        }
        let end = events.last().map_or(Duration::ZERO, |e| e.at);
        let open: Vec<(Track, (Duration, String))> =
            self.running.drain().chain(self.waiting.drain()).collect();
        for (track, (start, name)) in open {
            self.slice(track, start, end, &name);
        }
        let parked: Vec<(Track, Duration)> = self.parked.drain().collect();
        for (track, start) in parked {
            self.slice(track, start, end, "park");
        }
    }

    fn add(&mut self, event: &Event, pid: u32) {
        let track = self.track_of(event, pid);
        let at = event.at;
        match &event.kind {
            EventKind::Spawn => self.instant(track, at, "spawn"),
            EventKind::Cancelled { .. } => self.instant(track, at, &event.kind.to_string()),
            // A diagnosis is a mark on the task's track: its kind names
            // it, the full message goes in its arguments.
            EventKind::Diagnosis { kind, message } => {
                self.lines.push(format!(
                    "{{\"ph\":\"i\",\"s\":\"t\",\"name\":\"diagnosis: {kind}\",\"pid\":{},\"tid\":{},\"ts\":{},\"args\":{{\"message\":\"{}\"}}}}",
                    track.0,
                    track.1,
                    micros(at),
                    escape(message)
                ));
            }
            EventKind::PollStart => {
                self.close_wait(track, at);
                self.running.insert(track, (at, "poll".to_string()));
                if let Some(task) = event.task {
                    for id in self.flows.remove(&task).unwrap_or_default() {
                        self.flow_end(track, at, id);
                    }
                }
            }
            EventKind::PollEnd { ready } => {
                self.close_run(track, at);
                if !ready {
                    // A `Wait` said during the poll: the wait starts now.
                    let what = self
                        .waiting
                        .remove(&track)
                        .map_or("waits".to_string(), |w| w.1);
                    self.waiting.insert(track, (at, what));
                }
            }
            EventKind::Wait { on } => {
                // Said during the poll; the wait starts when the poll ends.
                self.waiting.insert(track, (at, format!("waits for {on}")));
            }
            EventKind::ThreadStart | EventKind::Unblock => {
                self.close_wait(track, at);
                self.running.insert(track, (at, "running".to_string()));
            }
            EventKind::Block { .. } => {
                self.close_run(track, at);
                self.waiting.insert(track, (at, event.kind.to_string()));
            }
            EventKind::ThreadExit => self.close_run(track, at),
            EventKind::Park { .. } => {
                self.parked.insert(track, at);
            }
            EventKind::Unpark => {
                if let Some(start) = self.parked.remove(&track) {
                    self.slice(track, start, at, "park");
                }
            }
            EventKind::IoReady { .. } | EventKind::TimerFired { .. } => {
                self.slice(track, at, at, &event.kind.to_string());
                self.last_mark.insert(track, at);
            }
            EventKind::Wake { by, .. } => {
                let Some(woken) = event.task else { return };
                let from = match by {
                    WokenBy::Timer | WokenBy::Socket { .. } | WokenBy::Turn => (pid, LOOP_TRACK),
                    WokenBy::Task(task)
                    | WokenBy::Finished(task)
                    | WokenBy::Channel { from: Some(task) } => {
                        (task.runtime(), self.task_track(*task, &event.thread))
                    }
                    _ => (pid, self.thread_track(pid, &event.thread)),
                };
                // From the fired timer, the ready socket, or the end of
                // the finished task's poll, which came just before.
                let leaves = match by {
                    WokenBy::Timer | WokenBy::Socket { .. } | WokenBy::Finished(_) => {
                        self.last_mark.get(&from).copied().unwrap_or(at)
                    }
                    _ => at,
                };
                let id = self.next_flow;
                self.next_flow += 1;
                self.lines.push(format!(
                    "{{\"ph\":\"s\",\"cat\":\"wake\",\"name\":\"wake\",\"id\":{id},\"pid\":{},\"tid\":{},\"ts\":{}}}",
                    from.0,
                    from.1,
                    micros(leaves)
                ));
                self.flows.entry(woken).or_default().push(id);
            }
        }
    }

    fn track_of(&mut self, event: &Event, pid: u32) -> Track {
        match (&event.kind, event.task) {
            (
                EventKind::Park { .. }
                | EventKind::Unpark
                | EventKind::IoReady { .. }
                | EventKind::TimerFired { .. },
                _,
            ) => {
                self.name_track((pid, LOOP_TRACK), &format!("event loop ({})", event.thread));
                (pid, LOOP_TRACK)
            }
            (_, Some(task)) => {
                let name = match &event.task_name {
                    Some(name) => format!("{task} {name}"),
                    None => task.to_string(),
                };
                let track = (task.runtime(), self.task_track(task, &event.thread));
                self.name_track(track, &name);
                track
            }
            (_, None) => (pid, self.thread_track(pid, &event.thread)),
        }
    }

    /// Tasks in number order, `spawn_blocking` jobs after them.
    fn task_track(&mut self, task: TaskId, _thread: &str) -> u64 {
        let offset = if task.is_blocking_job() { 1 << 32 } else { 1 };
        offset + task.as_u64()
    }

    fn thread_track(&mut self, pid: u32, thread: &str) -> u64 {
        let next = 1 << 33 | self.threads.len() as u64;
        let tid = *self.threads.entry(thread.to_string()).or_insert(next);
        self.name_track((pid, tid), &format!("thread {thread}"));
        tid
    }

    fn name_track(&mut self, track: Track, name: &str) {
        if self.named.insert(track, ()).is_none() {
            self.meta(track.0, Some(track.1), "thread_name", name);
            let sort = format!(
                "{{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":{},\"tid\":{},\"args\":{{\"sort_index\":{}}}}}",
                track.0, track.1, track.1
            );
            self.lines.push(sort);
        }
    }

    fn meta(&mut self, pid: u32, tid: Option<u64>, what: &str, name: &str) {
        let tid = tid.map_or(String::new(), |tid| format!(",\"tid\":{tid}"));
        self.lines.push(format!(
            "{{\"ph\":\"M\",\"name\":\"{what}\",\"pid\":{pid}{tid},\"args\":{{\"name\":\"{}\"}}}}",
            escape(name)
        ));
    }

    fn close_run(&mut self, track: Track, end: Duration) {
        if let Some((start, name)) = self.running.remove(&track) {
            self.slice(track, start, end, &name);
            self.last_mark.insert(track, end);
        }
    }

    fn close_wait(&mut self, track: Track, end: Duration) {
        if let Some((start, name)) = self.waiting.remove(&track) {
            self.slice(track, start, end, &name);
        }
    }

    fn slice(&mut self, (pid, tid): Track, start: Duration, end: Duration, name: &str) {
        self.lines.push(format!(
            "{{\"ph\":\"X\",\"name\":\"{}\",\"pid\":{pid},\"tid\":{tid},\"ts\":{},\"dur\":{}}}",
            escape(name),
            micros(start),
            micros(end.saturating_sub(start))
        ));
    }

    fn instant(&mut self, (pid, tid): Track, at: Duration, name: &str) {
        self.lines.push(format!(
            "{{\"ph\":\"i\",\"s\":\"t\",\"name\":\"{}\",\"pid\":{pid},\"tid\":{tid},\"ts\":{}}}",
            escape(name),
            micros(at)
        ));
    }

    fn flow_end(&mut self, (pid, tid): Track, at: Duration, id: u64) {
        self.lines.push(format!(
            "{{\"ph\":\"f\",\"bp\":\"e\",\"cat\":\"wake\",\"name\":\"wake\",\"id\":{id},\"pid\":{pid},\"tid\":{tid},\"ts\":{}}}",
            micros(at)
        ));
    }
}

/// Microseconds, the format's unit, to the nanosecond.
fn micros(at: Duration) -> String {
    format!("{}.{:03}", at.as_micros(), at.subsec_nanos() % 1000)
}

/// Escapes text for a JSON string.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => escaped.push_str("\\\""),
            '\\' => escaped.push_str("\\\\"),
            c if u32::from(c) < 0x20 => escaped.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => escaped.push(c),
        }
    }
    escaped
}
