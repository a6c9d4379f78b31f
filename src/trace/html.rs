//! The timeline a learner can explore: an HTML page that draws itself.
//!
//! [`render_html`] turns each capture into a list of marks (lanes, bars,
//! waits, parks, ticks and wake arrows, each with a few lines saying what
//! it is, when, and what caused it) and writes them into the page as data.
//! The page's own script, `timeline.js` (built into the page, no network,
//! no external scripts), draws them: hover or click a mark to read its
//! details, zoom with the mouse wheel or the buttons, pan by dragging.
//! `#select=S:TEXT` in the address zooms to section S's longest mark whose
//! details contain TEXT and opens them (how a headless browser is pointed
//! at one event: `docs/tour.png` shows `#select=1:woken by: socket`).
//!
//! The lanes are the static picture's (`svg.rs`): the loop's first, then
//! the tasks by number, then plain threads.
//!
//! Read next: the tour (`src/tour/timeline.rs`), which draws the same
//! network run on both runtimes on one page.

use super::event::{Event, EventKind, Millis, WokenBy};
use super::svg::{LaneKey, escape, lane_key, lane_title};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::time::Duration;

const SCRIPT: &str = include_str!("timeline.js");

/// An HTML page with one interactive timeline per `(title, events)`
/// section, one above the other.
///
/// ```
/// let ((), events) = duet::trace::capture(|| {
///     let rt = duet::event_loop::Runtime::new().unwrap();
///     rt.block_on(duet::event_loop::sleep(std::time::Duration::from_millis(1)));
/// });
/// let page = duet::trace::render_html("one sleep", &[("event loop", &events)]);
/// assert!(page.contains("<script>") && page.contains("waits for timer"));
/// ```
pub fn render_html(page_title: &str, sections: &[(&str, &[Event])]) -> String {
    let mut data = String::from("[");
    for (n, (title, events)) in sections.iter().enumerate() {
        if n > 0 {
            data.push(',');
        }
        section_json(&mut data, title, events);
    }
    data.push(']');
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>\n\
         <style>{STYLE}</style></head><body>\n<h1>{title}</h1>\n\
         <p class=\"legend\"><span><b class=\"run\">&#9608;</b> running (a poll, or a thread awake)</span>\
         <span><b class=\"wait\">&#9472;</b> waiting (hover: for what, and what woke it)</span>\
         <span><b class=\"park\">&#9608;</b> loop parked in epoll_wait</span>\
         <span><b class=\"tick\">|</b> timer fired / socket ready</span>\
         <span><b class=\"wake\">&#8595;</b> wake</span><span><b class=\"spawn\">|</b> spawn</span></p>\n\
         <p class=\"help\">Hover or click a mark for its details. Zoom: mouse wheel over a \
         timeline, or the buttons; pan: drag.</p>\n<div id=\"sections\"></div>\n\
         <script>const SECTIONS = {data};\n{SCRIPT}</script>\n</body></html>\n",
        title = escape(page_title),
    );
    html
}

const STYLE: &str = "body{font-family:sans-serif;margin:16px;color:#222}\
h2{margin:22px 0 6px;font-size:18px}.legend span{margin-right:16px}\
.run{color:#337ab7}.wait{color:#999}.park{color:#ccc}.tick{color:#f0ad4e}.wake{color:#d9534f}.spawn{color:#5cb85c}\
.help{color:#555;font-size:13px}.tools button{margin-right:6px}\
.detail{font-family:monospace;font-size:13px;white-space:pre-wrap;background:#f6f6f6;\
border:1px solid #ddd;padding:6px 8px;min-height:3.6em;margin-top:4px}\
svg text{font-size:12px}.mark{cursor:pointer}.mark:hover{opacity:.7}rect.selected{stroke:#000;stroke-width:2}\
g.selected line{stroke:#000;stroke-width:3}g.selected .hit{stroke:transparent;stroke-width:8}";

/// One mark: where it is, what it looks like, and its details.
struct Mark {
    kind: &'static str,
    lane: usize,
    to: usize,
    start: Duration,
    end: Duration,
    label: String,
    detail: String,
}

/// What a lane has open while the events are read.
#[derive(Default)]
struct Open {
    run: Option<(Duration, String)>,
    wait: Option<(Duration, String)>,
    park: Option<(Duration, String)>,
    woken: Option<String>,
}

fn section_json(out: &mut String, title: &str, events: &[Event]) {
    let mut keys: Vec<(LaneKey, String)> = Vec::new();
    let mut row: HashMap<LaneKey, usize> = HashMap::new();
    for event in events {
        let key = lane_key(event);
        if !row.contains_key(&key) {
            row.insert(key.clone(), 0);
            keys.push((key.clone(), lane_title(&key, event)));
        }
    }
    keys.sort();
    for (n, (key, _)) in keys.iter().enumerate() {
        row.insert(key.clone(), n);
    }
    let mut marks = Vec::new();
    let mut open: BTreeMap<usize, Open> = BTreeMap::new();
    // Who runs on each thread now: where a wake arrow starts.
    let mut running_on: HashMap<&str, usize> = HashMap::new();
    let mut loop_of: HashMap<&str, usize> = HashMap::new();
    // The park each loop thread last woke from: what it finds before its
    // next poll is what woke it, and goes into the park's details.
    let mut woke_from: HashMap<&str, usize> = HashMap::new();
    for event in events {
        let lane = row[&lane_key(event)];
        let at = event.at;
        let who = lane_name(event);
        let state = open.entry(lane).or_default();
        match &event.kind {
            EventKind::PollStart | EventKind::ThreadStart | EventKind::Unblock => {
                if let Some((start, what)) = state.wait.take() {
                    let woken = match (&state.woken, &event.kind) {
                        (Some(by), _) => by.clone(),
                        (None, EventKind::Unblock) => "the kernel: the call returned".into(),
                        _ => "(no wake traced)".into(),
                    };
                    let detail = format!(
                        "{who}\n{what}\nfrom {} to {} ({})\nwoken by: {woken}",
                        Millis(start),
                        Millis(at),
                        Millis(at - start)
                    );
                    marks.push(span("wait", lane, start, at, what, detail));
                }
                if let Some(park) = woke_from.remove(event.thread.as_str())
                    && !marks[park].detail.contains("\nwoke for: ")
                {
                    marks[park].detail.push_str(
                        "\nwoke for: nothing on this thread: a wake from another thread, \
                         or the timeout",
                    );
                }
                let what = if event.kind == EventKind::PollStart {
                    "poll"
                } else {
                    "running"
                };
                state.run = Some((at, what.to_string()));
                running_on.insert(&event.thread, lane);
            }
            EventKind::PollEnd { .. } | EventKind::Block { .. } | EventKind::ThreadExit => {
                if let Some((start, what)) = state.run.take() {
                    let detail = format!(
                        "{who}\n{what} on thread {} from {} to {} ({})\nended: {}",
                        event.thread,
                        Millis(start),
                        Millis(at),
                        Millis(at - start),
                        event.kind
                    );
                    marks.push(span("run", lane, start, at, what, detail));
                }
                running_on.remove(event.thread.as_str());
                state.woken = None;
                match &event.kind {
                    // A `Wait` said during the poll: the wait starts now.
                    EventKind::PollEnd { ready: false } => {
                        let what = state.wait.take().map_or("waits".to_string(), |w| w.1);
                        state.wait = Some((at, what));
                    }
                    EventKind::Block { .. } => state.wait = Some((at, event.kind.to_string())),
                    _ => {}
                }
            }
            EventKind::Wait { on } => state.wait = Some((at, format!("waits for {on}"))),
            EventKind::Park { .. } => {
                state.park = Some((at, event.kind.to_string()));
                loop_of.insert(&event.thread, lane);
            }
            EventKind::Unpark => {
                if let Some((start, what)) = state.park.take() {
                    let detail = format!(
                        "{who}\n{what}\nasleep from {} to {} ({})",
                        Millis(start),
                        Millis(at),
                        Millis(at - start)
                    );
                    marks.push(span("park", lane, start, at, "parked".into(), detail));
                    woke_from.insert(&event.thread, marks.len() - 1);
                }
            }
            EventKind::IoReady { .. } | EventKind::TimerFired { .. } => {
                if let Some(&park) = woke_from.get(event.thread.as_str()) {
                    let found = format!("\nwoke for: {}", event.kind);
                    marks[park].detail.push_str(&found);
                }
                let detail = format!("{who}\nat {}: {}", Millis(at), event.kind);
                marks.push(span("tick", lane, at, at, event.kind.to_string(), detail));
            }
            EventKind::Wake { by, .. } => {
                state.woken = Some(format!("{by} at {}", Millis(at)));
                let from = match by {
                    WokenBy::Timer | WokenBy::Socket { .. } | WokenBy::Turn => {
                        loop_of.get(event.thread.as_str()).copied()
                    }
                    _ => running_on.get(event.thread.as_str()).copied(),
                }
                .unwrap_or(lane);
                let detail = format!(
                    "{who}\nat {}: {}\non thread {}",
                    Millis(at),
                    event.kind,
                    event.thread
                );
                marks.push(Mark {
                    to: lane,
                    ..span("wake", from, at, at, event.kind.to_string(), detail)
                });
            }
            EventKind::Spawn => {
                let detail = format!(
                    "{who}\nspawned at {} on thread {}",
                    Millis(at),
                    event.thread
                );
                marks.push(span("spawn", lane, at, at, "spawn".into(), detail));
            }
            EventKind::Diagnosis { kind, message } => {
                let detail = format!("{who}\nat {}: diagnosis ({kind})\n{message}", Millis(at));
                marks.push(span(
                    "tick",
                    lane,
                    at,
                    at,
                    format!("diagnosis: {kind}"),
                    detail,
                ));
            }
            EventKind::Cancelled { .. } => {
                let detail = format!(
                    "{who}
at {}: {}",
                    Millis(at),
                    event.kind
                );
                marks.push(span("tick", lane, at, at, event.kind.to_string(), detail));
            }
        }
    }
    let end = events.last().map_or(Duration::ZERO, |e| e.at);
    for (lane, state) in open {
        if let Some((start, what)) = state.run {
            marks.push(span(
                "run",
                lane,
                start,
                end,
                what.clone(),
                format!("{what} (still at the end)"),
            ));
        }
        if let Some((start, what)) = state.wait {
            let detail = format!("{what}\nfrom {} to the end of the capture", Millis(start));
            marks.push(span("wait", lane, start, end, what, detail));
        }
    }
    let _ = write!(
        out,
        "{{\"title\":{},\"end\":{},\"lanes\":[",
        json(title),
        secs(end)
    );
    for (n, (_, title)) in keys.iter().enumerate() {
        let comma = if n > 0 { "," } else { "" };
        let _ = write!(out, "{comma}{}", json(title));
    }
    out.push_str("],\"marks\":[");
    for (n, mark) in marks.iter().enumerate() {
        let comma = if n > 0 { "," } else { "" };
        let _ = write!(
            out,
            "{comma}\n{{\"k\":\"{}\",\"l\":{},\"t\":{},\"s\":{},\"e\":{},\"label\":{},\"d\":{}}}",
            mark.kind,
            mark.lane,
            mark.to,
            secs(mark.start),
            secs(mark.end),
            json(&mark.label),
            json(&mark.detail)
        );
    }
    out.push_str("]}");
}

fn span(
    kind: &'static str,
    lane: usize,
    start: Duration,
    end: Duration,
    label: String,
    detail: String,
) -> Mark {
    Mark {
        kind,
        lane,
        to: lane,
        start,
        end,
        label,
        detail,
    }
}

/// "task 2 (connection)", or the loop or thread an event is about.
fn lane_name(event: &Event) -> String {
    let key = lane_key(event);
    lane_title(&key, event)
}

/// Seconds, as a JSON number (microsecond precision is enough to draw).
fn secs(at: Duration) -> String {
    format!("{:.9}", at.as_secs_f64())
}

/// A JSON string literal that is also safe inside `<script>`: `<` is
/// written as `\u003c`, so no `</script>` can end the script early.
fn json(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '<' => out.push_str("\\u003c"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
