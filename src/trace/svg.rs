//! The timeline picture: a capture drawn as lanes over a time axis.
//!
//! - One lane per event-loop task, and one for the loop itself; one lane
//!   per blocking thread.
//! - A solid bar is work: a poll (event loop) or a thread running between
//!   waits (blocking).
//! - A thin line between bars is waiting, labelled with what is waited for.
//! - A shaded span on the loop's lane is a park: the thread asleep in
//!   `epoll_wait`. Blocking threads have no such lane: every one of them
//!   parks on its own.
//! - An arrow is a wake, from whoever called the waker to the task woken.
//!
//! - A tick on the loop's lane is a timer firing or a socket reported ready.
//!
//! Lanes come in a fixed order: the loop's first, then the tasks by
//! number (task 0, "main", first), then threads that ran no task.
//!
//! The SVG is self-contained (no scripts, no external assets), so a
//! browser, an image viewer or a README can show it as it is. For a page
//! a learner can zoom and click, see `html.rs`.
//!
//! Read next: `html.rs`.

use super::event::{Event, EventKind, Millis};
use crate::task_id::TaskId;
use std::collections::HashMap;
use std::fmt::Write;
use std::time::Duration;

const LABEL_WIDTH: f64 = 230.0;
const PLOT_WIDTH: f64 = 900.0;
const LANE_HEIGHT: f64 = 26.0;
const TOP: f64 = 30.0;
/// Beyond this many lanes the picture stops being readable; the rest are
/// counted in a note instead of drawn.
const MAX_LANES: usize = 40;

/// Renders `events` (from [`crate::trace::capture`]) as an SVG document.
///
/// ```
/// use duet::event_loop::{Runtime, yield_now};
/// use duet::trace::{capture, render_svg};
///
/// let rt = Runtime::new()?;
/// let (_, events) = capture(|| rt.block_on(yield_now()));
/// let svg = render_svg(&events);
/// assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
/// // std::fs::write("timeline.svg", svg)?; then open it in a browser
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn render_svg(events: &[Event]) -> String {
    let timeline = Timeline::build(events);
    let mut svg = String::new();
    timeline.draw(&mut svg);
    svg
}

/// A horizontal span on a lane.
struct Span {
    start: Duration,
    end: Duration,
    label: Option<String>,
}

#[derive(Default)]
struct Lane {
    key: Option<LaneKey>,
    title: String,
    /// Timer firings and ready sockets (the loop's lane).
    ticks: Vec<Duration>,
    work: Vec<Span>,
    waits: Vec<Span>,
    parks: Vec<Span>,
}

struct Arrow {
    at: Duration,
    from: usize,
    to: usize,
}

#[derive(Default)]
struct Timeline {
    lanes: Vec<Lane>,
    arrows: Vec<Arrow>,
    end: Duration,
}

/// Which lane an event belongs to; lanes are drawn in this order.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum LaneKey {
    Loop(String),
    Task(TaskId),
    Thread(String),
}

impl Timeline {
    fn build(events: &[Event]) -> Timeline {
        let mut timeline = Timeline {
            end: events.last().map_or(Duration::ZERO, |e| e.at),
            ..Timeline::default()
        };
        let mut index: HashMap<LaneKey, usize> = HashMap::new();
        // Open spans: a poll or run that started, a wait or park that began.
        let mut open_work: HashMap<usize, Duration> = HashMap::new();
        let mut open_wait: HashMap<usize, (Duration, Option<String>)> = HashMap::new();
        let mut open_park: HashMap<usize, Duration> = HashMap::new();
        // Who is running on each thread right now: the source of a wake.
        let mut running_on: HashMap<&str, usize> = HashMap::new();
        for event in events {
            let key = lane_key(event);
            let lane = *index.entry(key.clone()).or_insert_with(|| {
                timeline.lanes.push(Lane {
                    key: Some(key.clone()),
                    title: lane_title(&key, event),
                    ..Lane::default()
                });
                timeline.lanes.len() - 1
            });
            match &event.kind {
                EventKind::PollStart | EventKind::ThreadStart | EventKind::Unblock => {
                    close_wait(&mut timeline.lanes[lane], &mut open_wait, lane, event.at);
                    open_work.insert(lane, event.at);
                    running_on.insert(&event.thread, lane);
                }
                EventKind::PollEnd { ready } => {
                    close_work(&mut timeline.lanes[lane], &mut open_work, lane, event.at);
                    running_on.remove(event.thread.as_str());
                    if !ready {
                        open_wait.entry(lane).or_insert((event.at, None));
                    }
                }
                EventKind::Wait { on } => {
                    // Said during the poll; the wait starts when it ends.
                    open_wait.insert(lane, (event.at, Some(on.to_string())));
                }
                EventKind::Block { on, .. } => {
                    close_work(&mut timeline.lanes[lane], &mut open_work, lane, event.at);
                    open_wait.insert(lane, (event.at, Some((*on).to_string())));
                }
                EventKind::ThreadExit => {
                    close_work(&mut timeline.lanes[lane], &mut open_work, lane, event.at);
                }
                EventKind::Park { .. } => {
                    open_park.insert(lane, event.at);
                }
                EventKind::Unpark => {
                    if let Some(start) = open_park.remove(&lane) {
                        timeline.lanes[lane].parks.push(Span {
                            start,
                            end: event.at,
                            label: None,
                        });
                    }
                }
                EventKind::Wake { .. } => {
                    let from = running_on
                        .get(event.thread.as_str())
                        .copied()
                        .unwrap_or_else(|| {
                            let loop_key = LaneKey::Loop(event.thread.clone());
                            let thread_key = LaneKey::Thread(event.thread.clone());
                            index
                                .get(&loop_key)
                                .or(index.get(&thread_key))
                                .copied()
                                .unwrap_or(lane)
                        });
                    timeline.arrows.push(Arrow {
                        at: event.at,
                        from,
                        to: lane,
                    });
                }
                EventKind::IoReady { .. } | EventKind::TimerFired { .. } => {
                    timeline.lanes[lane].ticks.push(event.at);
                }
                EventKind::Spawn | EventKind::Cancelled { .. } | EventKind::Diagnosis { .. } => {}
            }
        }
        // Whatever is still open runs to the end of the capture.
        let end = timeline.end;
        for (lane, start) in open_work {
            timeline.lanes[lane].work.push(Span {
                start,
                end,
                label: None,
            });
        }
        for (lane, (start, label)) in open_wait {
            timeline.lanes[lane].waits.push(Span { start, end, label });
        }
        timeline.sort_lanes();
        timeline
    }

    /// Puts the lanes in `LaneKey` order, and the arrows with them.
    fn sort_lanes(&mut self) {
        let mut order: Vec<usize> = (0..self.lanes.len()).collect();
        order.sort_by(|&a, &b| self.lanes[a].key.cmp(&self.lanes[b].key));
        let mut row = vec![0; order.len()];
        for (new, &old) in order.iter().enumerate() {
            row[old] = new;
        }
        let mut lanes: Vec<Option<Lane>> = self.lanes.drain(..).map(Some).collect();
        self.lanes = order.iter().filter_map(|&old| lanes[old].take()).collect();
        for arrow in &mut self.arrows {
            arrow.from = row[arrow.from];
            arrow.to = row[arrow.to];
        }
    }

    fn draw(&self, svg: &mut String) {
        let shown = self.lanes.len().min(MAX_LANES);
        let height = TOP + LANE_HEIGHT * shown as f64 + 50.0;
        let width = LABEL_WIDTH + PLOT_WIDTH + 50.0;
        let _ = writeln!(
            svg,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
             viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"11\">"
        );
        svg.push_str(
            "<defs><marker id=\"arrow\" viewBox=\"0 0 6 6\" refX=\"5\" refY=\"3\" \
             markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\"><path d=\"M0,0 L6,3 L0,6 z\" \
             fill=\"#d9534f\"/></marker></defs>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
        );
        for (row, lane) in self.lanes.iter().take(shown).enumerate() {
            self.draw_lane(svg, row, lane);
        }
        for arrow in &self.arrows {
            if arrow.from < shown && arrow.to < shown && arrow.from != arrow.to {
                let x = self.x(arrow.at);
                let (y1, y2) = (lane_middle(arrow.from), lane_middle(arrow.to));
                let _ = writeln!(
                    svg,
                    "<line x1=\"{x:.1}\" y1=\"{y1:.1}\" x2=\"{x:.1}\" y2=\"{y2:.1}\" \
                     stroke=\"#d9534f\" stroke-width=\"1\" marker-end=\"url(#arrow)\"/>"
                );
            }
        }
        self.draw_axis(svg, TOP + LANE_HEIGHT * shown as f64 + 8.0);
        if self.lanes.len() > shown {
            let _ = writeln!(
                svg,
                "<text x=\"10\" y=\"{:.1}\">… and {} more lanes not drawn</text>",
                height - 6.0,
                self.lanes.len() - shown
            );
        }
        svg.push_str("</svg>\n");
    }

    fn draw_lane(&self, svg: &mut String, row: usize, lane: &Lane) {
        let y = TOP + LANE_HEIGHT * row as f64;
        let _ = writeln!(
            svg,
            "<text x=\"6\" y=\"{:.1}\">{}</text>",
            y + LANE_HEIGHT * 0.62,
            escape(&lane.title)
        );
        for park in &lane.parks {
            let (x, w) = (self.x(park.start), self.width(park));
            let _ = writeln!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{LANE_HEIGHT}\" fill=\"#e6e6e6\"/>"
            );
        }
        for &tick in &lane.ticks {
            let x = self.x(tick);
            let _ = writeln!(
                svg,
                "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#f0ad4e\" stroke-width=\"2\"/>",
                y + 3.0,
                y + LANE_HEIGHT - 3.0
            );
        }
        let middle = y + LANE_HEIGHT / 2.0;
        for wait in &lane.waits {
            let (x, w) = (self.x(wait.start), self.width(wait));
            let _ = writeln!(
                svg,
                "<line x1=\"{x:.1}\" y1=\"{middle:.1}\" x2=\"{:.1}\" y2=\"{middle:.1}\" stroke=\"#999\"/>",
                x + w
            );
            // The label only where it fits, at about 6 px a letter.
            if let Some(label) = &wait.label
                && w > 6.0 * label.len() as f64
            {
                let _ = writeln!(
                    svg,
                    "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#555\" font-size=\"9\">{}</text>",
                    x + 2.0,
                    middle - 3.0,
                    escape(label)
                );
            }
        }
        for work in &lane.work {
            let (x, w) = (self.x(work.start), self.width(work).max(1.0));
            let _ = writeln!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"#337ab7\"/>",
                y + 6.0,
                LANE_HEIGHT - 12.0
            );
        }
    }

    fn draw_axis(&self, svg: &mut String, y: f64) {
        let _ = writeln!(
            svg,
            "<line x1=\"{LABEL_WIDTH}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"black\"/>",
            LABEL_WIDTH + PLOT_WIDTH
        );
        for tick in 0..=5 {
            let at = self.end.mul_f64(tick as f64 / 5.0);
            let x = self.x(at);
            let _ = writeln!(
                svg,
                "<line x1=\"{x:.1}\" y1=\"{y:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"black\"/>\
                 <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                y + 5.0,
                y + 18.0,
                Millis(at)
            );
        }
        let _ = writeln!(
            svg,
            "<text x=\"6\" y=\"{:.1}\">time since capture start</text>",
            y + 18.0
        );
    }

    fn x(&self, at: Duration) -> f64 {
        let end = self.end.as_secs_f64().max(1e-9);
        LABEL_WIDTH + PLOT_WIDTH * (at.as_secs_f64() / end)
    }

    fn width(&self, span: &Span) -> f64 {
        self.x(span.end) - self.x(span.start)
    }
}

fn lane_middle(row: usize) -> f64 {
    TOP + LANE_HEIGHT * row as f64 + LANE_HEIGHT / 2.0
}

fn close_work(lane: &mut Lane, open: &mut HashMap<usize, Duration>, index: usize, end: Duration) {
    if let Some(start) = open.remove(&index) {
        lane.work.push(Span {
            start,
            end,
            label: None,
        });
    }
}

fn close_wait(
    lane: &mut Lane,
    open: &mut HashMap<usize, (Duration, Option<String>)>,
    index: usize,
    end: Duration,
) {
    if let Some((start, label)) = open.remove(&index) {
        lane.waits.push(Span { start, end, label });
    }
}

pub(super) fn lane_key(event: &Event) -> LaneKey {
    match (&event.kind, event.task) {
        (
            EventKind::Park { .. }
            | EventKind::Unpark
            | EventKind::IoReady { .. }
            | EventKind::TimerFired { .. },
            _,
        ) => LaneKey::Loop(event.thread.clone()),
        (_, Some(task)) => LaneKey::Task(task),
        (_, None) => LaneKey::Thread(event.thread.clone()),
    }
}

pub(super) fn lane_title(key: &LaneKey, event: &Event) -> String {
    match key {
        LaneKey::Loop(thread) => format!("event loop ({thread})"),
        LaneKey::Thread(thread) => format!("thread {thread}"),
        LaneKey::Task(id) => match &event.task_name {
            Some(name) => format!("{id} {name}"),
            None => format!("{id} ({})", event.thread),
        },
    }
}

/// Escapes text for XML.
pub(super) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
