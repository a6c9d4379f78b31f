//! What a trace looks like from outside: the `DUET_TRACE` log and the SVG
//! timeline.
//!
//! - **`DUET_TRACE=1`**: the `hello_event_loop` and `hello_blocking`
//!   examples run as child processes with it set. Every line they write to
//!   stderr must be one event in the aligned columns of `event.rs`'s
//!   `Display` (time, thread, task, what happened), in time order, and the
//!   story must be there: spawns, polls, timer waits, parks, wakes on the
//!   loop; thread starts, blocks in sleep and join on the threads. Unset
//!   (or `0`, or empty) it prints nothing.
//! - **`render_svg`**: the picture must be well-formed XML (checked by
//!   the small parser below: matching tags, quoted attributes, `&` and `<`
//!   escaped, one root `<svg>`), self-contained (no scripts, no external
//!   links), and have one lane per event-loop task (plus the loop's own
//!   lane) or per blocking thread. A task named `<&>"` proves the escaping.
//! - **`render_html`**: the interactive page has one inline script and
//!   loads nothing; the data it draws is valid JSON (`support/json.rs`),
//!   with the same lanes as the picture, the loop's first. Where a
//!   headless Chromium is installed, the page is loaded in it: its script
//!   must draw the marks, and `#select=...` must open an event's details
//!   (what it waited for, when, what woke it).
//! - **`DUET_TRACE=1`** also prints a header line first and a summary per
//!   runtime last, whose counts match the lines printed.
//!
//! `svg.rs` marks a lane by its title: one `<text>` in the label column
//! (`x="6"`) per lane, reading "task N name", "thread T" or
//! "event loop (T)". The time axis has one more label there, "time since
//! capture start", which is not a lane.
//!
//! Read next: `src/trace/svg.rs`, then the tour's `src/tour/timeline.rs`,
//! which puts the two runtimes' pictures on one page.

#[path = "support/json.rs"]
mod json;
mod support;
use support::examples::Running;
use support::*;

use duet::blocking;
use duet::event_loop::channel::oneshot;
use duet::event_loop::net::{TcpListener, TcpStream};
use duet::event_loop::{sleep, spawn, spawn_named, yield_now};
use duet::trace::{Event, EventKind, capture, render_html, render_svg};
use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

/// A task name that needs escaping everywhere XML can hold it.
const AWKWARD: &str = "a<&>\"b";
const AWKWARD_ESCAPED: &str = "a&lt;&amp;&gt;&quot;b";

// ------------------------------------------------------------- examples as programs

/// What a finished example wrote.
struct Output {
    stdout: String,
    stderr: String,
}

/// Runs example `name` to the end with `DUET_TRACE` set to `trace` (or
/// removed), and returns what it wrote.
fn run_example(name: &str, trace: Option<&str>) -> Output {
    let mut running = Running::start_with(name, &[], |command| {
        match trace {
            Some(value) => command.env("DUET_TRACE", value),
            None => command.env_remove("DUET_TRACE"),
        };
    });
    let (status, stdout) = running.finish(THREAD_PATIENCE);
    let stderr = running.stderr();
    assert!(
        status.success(),
        "{name} failed: {status}\nstderr:\n{stderr}"
    );
    Output { stdout, stderr }
}

// ------------------------------------------------------------- the log's lines

/// One `DUET_TRACE` line, taken apart by its columns.
#[derive(Debug)]
struct LogLine {
    at_ms: f64,
    thread: String,
    task: String,
    what: String,
}

/// The columns of `Event`'s `Display`: the time right-aligned in 12, two
/// spaces, the thread in 16, a space, the task in 34, a space, then what
/// happened, which therefore always starts in column 66.
fn parse_log_line(line: &str) -> Result<LogLine, String> {
    const WHAT: usize = 12 + 2 + 16 + 1 + 34 + 1;
    let complain = |why: &str| Err(format!("{why}: {line:?}"));
    if !line.is_ascii() || line.len() <= WHAT {
        return complain("not an aligned trace line (too short, or not ASCII)");
    }
    // Right-aligned: the unit ends exactly at column 12.
    let Some(number) = line[..12].trim_start().strip_suffix("ms") else {
        return complain("the time column does not end in ms at column 12");
    };
    let Ok(at_ms) = number.parse::<f64>() else {
        return complain("the time column is not a number");
    };
    if &line[12..14] != "  " || &line[30..31] != " " || &line[65..66] != " " {
        return complain("the columns are not separated where they should be");
    }
    let thread = line[14..30].trim_end();
    let task = line[31..65].trim_end();
    let what = &line[WHAT..];
    if thread.is_empty() || task.is_empty() || what.starts_with(' ') {
        return complain("a column is empty or out of place");
    }
    Ok(LogLine {
        at_ms,
        thread: thread.to_string(),
        task: task.to_string(),
        what: what.to_string(),
    })
}

/// The first line `DUET_TRACE` prints: the column names, in the columns.
const HEADER: &str =
    "        time  thread           task (name)                        what happened";

/// Every stderr line, parsed: the header first, then events, then the
/// summary (its lines start with "summary of" or two spaces); fails on
/// any other line. Returns the events and the summary's lines.
fn parse_log_and_summary<'a>(name: &str, stderr: &'a str) -> (Vec<LogLine>, Vec<&'a str>) {
    let mut all = stderr.lines();
    assert_eq!(all.next(), Some(HEADER), "{name}: the header comes first");
    let (summary, events): (Vec<&str>, Vec<&str>) = all.partition(|line| {
        line.starts_with("summary of")
            || (line.starts_with("  ")
                && !line.trim().is_empty()
                && line.trim_start().starts_with(char::is_alphabetic))
    });
    let lines: Vec<LogLine> = events
        .into_iter()
        .map(|line| {
            parse_log_line(line).unwrap_or_else(|why| panic!("{name}: {why}\nstderr:\n{stderr}"))
        })
        .collect();
    assert!(!lines.is_empty(), "{name} printed no trace");
    for pair in lines.windows(2) {
        assert!(
            pair[0].at_ms <= pair[1].at_ms,
            "{name}: time runs backwards: {pair:?}"
        );
    }
    assert!(
        summary
            .first()
            .is_some_and(|line| line.starts_with("summary of")),
        "{name}: a summary ends the log:\n{stderr}"
    );
    assert!(
        stderr.ends_with(&format!("{}\n", summary.last().unwrap())),
        "{name}: the summary comes last:\n{stderr}"
    );
    (lines, summary)
}

/// The number in a "... X.XXXms ..." phrase after `prefix`.
fn millis_after(text: &str, prefix: &str) -> Option<f64> {
    text.strip_prefix(prefix)?.split("ms").next()?.parse().ok()
}

/// What the lines about `task` say, in order.
fn story_of<'a>(lines: &'a [LogLine], task: &str) -> Vec<&'a str> {
    lines
        .iter()
        .filter(|line| line.task == task)
        .map(|line| line.what.as_str())
        .collect()
}

#[test]
fn duet_trace_prints_the_event_loop_story_one_aligned_line_per_event() {
    let output = run_example("hello_event_loop", Some("1"));
    let (lines, summary) = parse_log_and_summary("hello_event_loop", &output.stderr);
    let all = &output.stderr;

    // One thread: the loop runs on main.
    assert!(lines.iter().all(|line| line.thread == "main"), "{all}");

    // The three spawned tasks, numbered 1 to 3 and named by the example.
    let tasks: Vec<&str> = lines
        .iter()
        .filter(|line| line.what == "spawn")
        .map(|line| line.task.as_str())
        .collect();
    assert_eq!(
        tasks,
        [
            "task 1 (sleeper 1)",
            "task 2 (sleeper 2)",
            "task 3 (sleeper 3)"
        ],
        "{all}"
    );
    for (task, hundreds) in tasks.iter().zip(1..) {
        // Each task: spawned, polled, waits for its timer, pending; then
        // woken by the timer, polled, done.
        let story = story_of(&lines, task);
        let waits_for = story
            .iter()
            .find(|what| what.starts_with("waits for timer in "))
            .unwrap_or_else(|| panic!("{task} waits for a timer:\n{all}"));
        let ms = millis_after(waits_for, "waits for timer in ").expect("a time in ms");
        let nap = f64::from(100 * hundreds);
        assert!(
            ms <= nap && ms > nap - 50.0,
            "{task} sleeps {nap} ms: {waits_for}"
        );
        let story: Vec<&str> = story
            .into_iter()
            .filter(|what| !what.starts_with("waits for"))
            .collect();
        assert_eq!(
            story,
            [
                "spawn",
                "poll start",
                "poll end: pending",
                "woken by its timer",
                "poll start",
                "poll end: ready (done)"
            ],
            "{task}'s story:\n{all}"
        );
    }

    // block_on's own future is task 0, "main": it waits for each task in
    // turn, woken each time by that task finishing, then finishes.
    let main = story_of(&lines, "task 0 (main)");
    for n in 1..=3 {
        assert!(
            main.contains(&format!("waits for task {n} to finish").as_str()),
            "{all}"
        );
        assert!(
            main.contains(&format!("woken by task {n} finishing").as_str()),
            "{all}"
        );
    }
    assert_eq!(main.last(), Some(&"poll end: ready (done)"));

    // The loop's own lines have no task: it parks with a timeout no longer
    // than the next sleep, unparks, and only then a timer fires, naming
    // the task it wakes, which is woken next.
    let loop_lines = story_of(&lines, "-");
    let parks: Vec<&&str> = loop_lines
        .iter()
        .filter(|what| what.starts_with("loop parks in epoll_wait"))
        .collect();
    assert!(parks.len() >= 3, "the loop parks between timers:\n{all}");
    for park in parks {
        let ms = millis_after(park, "loop parks in epoll_wait (at most ")
            .unwrap_or_else(|| panic!("a park with a timeout: {park}"));
        assert!(ms <= 100.0, "no park outlasts the next timer: {park}");
    }
    let count = |what: &str| loop_lines.iter().filter(|w| **w == what).count();
    assert!(count("loop unparks") >= 3);
    for n in 1..=3 {
        let fired = lines
            .iter()
            .position(|line| line.what == format!("timer fired -> wakes task {n}"))
            .unwrap_or_else(|| panic!("task {n}'s timer fires:\n{all}"));
        assert_eq!(lines[fired - 1].what, "loop unparks", "{all}");
        assert_eq!(lines[fired + 1].task, format!("task {n} (sleeper {n})"));
        assert_eq!(lines[fired + 1].what, "woken by its timer");
    }

    // The summary counts what the log shows.
    let polls = lines.iter().filter(|l| l.what == "poll start").count();
    let parks = lines
        .iter()
        .filter(|l| l.what.starts_with("loop parks"))
        .count();
    let wakes = lines.iter().filter(|l| l.what.starts_with("woken")).count();
    assert_eq!(summary[0], "summary of event loop 1:", "{all}");
    assert_eq!(
        summary[1],
        "  tasks:   3 spawned (+ main), 0 spawn_blocking jobs"
    );
    assert_eq!(summary[2], format!("  polls:   {polls}"));
    assert_eq!(
        summary[3],
        format!("  wakes:   {wakes} on the loop thread, 0 from other threads")
    );
    assert!(summary[4].starts_with(&format!("  parks:   {parks}, asleep in epoll_wait ")));
    assert!(summary[5].starts_with("  threads: 1 OS thread "), "{all}");

    // The program's own output is untouched, and holds no trace lines.
    assert!(output.stdout.contains("total 60"), "{}", output.stdout);
    assert!(
        output
            .stdout
            .lines()
            .all(|line| parse_log_line(line).is_err()),
        "trace lines went to stdout:\n{}",
        output.stdout
    );
}

#[test]
fn duet_trace_prints_the_blocking_story_one_aligned_line_per_event() {
    let output = run_example("hello_blocking", Some("1"));
    let (lines, summary) = parse_log_and_summary("hello_blocking", &output.stderr);
    let all = &output.stderr;

    let tasks: Vec<&LogLine> = lines.iter().filter(|line| line.what == "spawn").collect();
    assert_eq!(tasks.len(), 3, "three spawns:\n{all}");
    for (spawn, n) in tasks.into_iter().zip(1..) {
        assert_eq!(spawn.thread, "main", "main spawns every task");
        // The same numbers and names as on the event loop.
        let task = spawn.task.as_str();
        assert_eq!(task, format!("task {n} (sleeper {n})"));
        // Everything else about the task happens on its own thread, which
        // `spawn_named` names after the task.
        let thread = format!("sleeper {n}");
        let on_thread: Vec<&str> = lines
            .iter()
            .filter(|line| line.task == task && line.what != "spawn")
            .map(|line| {
                assert_eq!(line.thread, thread, "{task}'s events are on its thread");
                line.what.as_str()
            })
            .collect();
        assert_eq!(
            on_thread,
            [
                "thread starts",
                "blocks in sleep",
                "unblocks",
                "thread exits"
            ],
            "{task}'s story:\n{all}"
        );
    }

    // The main thread is task 0, "main", as on the event loop: it blocks
    // in the join of each task in turn.
    let main: Vec<&str> = lines
        .iter()
        .filter(|line| line.thread == "main" && line.what != "spawn")
        .map(|line| {
            assert_eq!(line.task, "task 0 (main)", "block_on's thread is main");
            line.what.as_str()
        })
        .collect();
    let mut expected = Vec::new();
    for n in 1..=3 {
        expected.push(format!("blocks in join of task {n}"));
        expected.push("unblocks".to_string());
    }
    assert_eq!(main, expected, "{all}");

    // The summary: four threads (three tasks and main), time in each call.
    assert_eq!(summary[0], "summary of the blocking runtime:", "{all}");
    assert_eq!(
        summary[1],
        "  tasks:   3 spawned (+ main), each on an OS thread of its own"
    );
    assert!(summary[2].starts_with("  threads: 4 OS threads"), "{all}");
    assert!(
        summary[3].starts_with("  blocked: join ") && summary[3].contains("(3 calls), sleep "),
        "{all}"
    );

    assert!(output.stdout.contains("total 60"), "{}", output.stdout);
}

#[test]
fn without_duet_trace_or_with_it_off_nothing_of_the_trace_is_printed() {
    for name in ["hello_event_loop", "hello_blocking"] {
        for setting in [None, Some("0"), Some("")] {
            let output = run_example(name, setting);
            assert_eq!(
                output.stderr, "",
                "{name} with DUET_TRACE={setting:?} printed to stderr"
            );
            assert!(
                output.stdout.contains("total 60"),
                "{name} still does its work: {}",
                output.stdout
            );
            assert!(
                output
                    .stdout
                    .lines()
                    .all(|line| parse_log_line(line).is_err()),
                "{name}: trace lines on stdout:\n{}",
                output.stdout
            );
        }
    }
}

// ------------------------------------------------------------- a small XML checker

/// One element of a parsed document: its name, its attributes (values
/// unescaped), and its own text (unescaped, children's text excluded).
#[derive(Debug)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses `doc` as an XML document whose root is `<svg>`, strictly enough
/// for what a renderer can get wrong: start and end tags must match, every
/// attribute value must be quoted and free of `<`, every `&` must begin an
/// entity, there must be exactly one root element and no text outside it.
/// Returns the elements in document order, or what is wrong and where.
fn parse_svg(doc: &str) -> Result<Vec<Element>, String> {
    let bytes = doc.as_bytes();
    let at = |i: usize| -> String {
        let end = (i + 60).min(doc.len());
        let end = (end..=doc.len())
            .find(|&e| doc.is_char_boundary(e))
            .unwrap_or(doc.len());
        format!("at byte {i}: {:?}", &doc[i..end])
    };
    let mut elements: Vec<Element> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut roots = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'<' {
            let end = doc[i..].find('<').map_or(doc.len(), |n| i + n);
            let text = unescape(&doc[i..end]).map_err(|why| format!("{why} {}", at(i)))?;
            match stack.last() {
                Some(&top) => elements[top].text.push_str(&text),
                None if text.trim().is_empty() => {}
                None => return Err(format!("text outside the root element {}", at(i))),
            }
            i = end;
            continue;
        }
        let rest = &doc[i..];
        if rest.starts_with("<!--") {
            let end = rest
                .find("-->")
                .ok_or_else(|| format!("an unclosed comment {}", at(i)))?;
            i += end + 3;
        } else if i == 0 && rest.starts_with("<?xml") {
            let end = rest
                .find("?>")
                .ok_or_else(|| format!("an unclosed prolog {}", at(i)))?;
            i += end + 2;
        } else if let Some(close) = rest.strip_prefix("</") {
            let end = close
                .find('>')
                .ok_or_else(|| format!("an unclosed end tag {}", at(i)))?;
            let name = close[..end].trim_end();
            let open = stack
                .pop()
                .ok_or_else(|| format!("an end tag with nothing open {}", at(i)))?;
            if elements[open].name != name {
                return Err(format!(
                    "</{name}> closes <{}> {}",
                    elements[open].name,
                    at(i)
                ));
            }
            i += 2 + end + 1;
        } else {
            let (element, self_closing, len) =
                parse_start_tag(rest).map_err(|why| format!("{why} {}", at(i)))?;
            if stack.is_empty() {
                roots += 1;
                if roots > 1 {
                    return Err(format!("a second root element {}", at(i)));
                }
            }
            elements.push(element);
            if !self_closing {
                stack.push(elements.len() - 1);
            }
            i += len;
        }
    }
    if let Some(&open) = stack.last() {
        return Err(format!("<{}> is never closed", elements[open].name));
    }
    match elements.first() {
        Some(root) if root.name == "svg" => Ok(elements),
        Some(root) => Err(format!("the root is <{}>, not <svg>", root.name)),
        None => Err("no element at all".to_string()),
    }
}

/// `<name attr="value" ...>` or `.../>` at the start of `tag`: the
/// element, whether it closes itself, and the tag's length in bytes.
fn parse_start_tag(tag: &str) -> Result<(Element, bool, usize), String> {
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '-' | '.');
    let bytes = tag.as_bytes();
    let mut i = 1;
    let name_end = tag[i..]
        .find(|c: char| !is_name_char(c))
        .map_or(tag.len(), |n| i + n);
    let name = &tag[i..name_end];
    if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return Err("a tag without a valid name".to_string());
    }
    i = name_end;
    let mut element = Element {
        name: name.to_string(),
        attrs: Vec::new(),
        text: String::new(),
    };
    loop {
        let spaced = i;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        match bytes.get(i) {
            None => return Err(format!("<{name}> is never finished")),
            Some(b'>') => return Ok((element, false, i + 1)),
            Some(b'/') if bytes.get(i + 1) == Some(&b'>') => return Ok((element, true, i + 2)),
            Some(_) if i == spaced => {
                return Err(format!("<{name}>: attributes must be separated by spaces"));
            }
            Some(_) => {}
        }
        let attr_end = tag[i..]
            .find(|c: char| !is_name_char(c))
            .map_or(tag.len(), |n| i + n);
        let attr = &tag[i..attr_end];
        if attr.is_empty() {
            return Err(format!("<{name}>: a stray character {:?}", &tag[i..i + 1]));
        }
        i = attr_end;
        if bytes.get(i) != Some(&b'=') {
            return Err(format!("<{name}>: attribute {attr} has no =\"value\""));
        }
        i += 1;
        let quote = match bytes.get(i) {
            Some(&q @ (b'"' | b'\'')) => q as char,
            _ => return Err(format!("<{name}>: attribute {attr}'s value is not quoted")),
        };
        i += 1;
        let value_end = tag[i..]
            .find(quote)
            .map(|n| i + n)
            .ok_or_else(|| format!("<{name}>: attribute {attr}'s quote is never closed"))?;
        let raw = &tag[i..value_end];
        if raw.contains('<') {
            return Err(format!("<{name}>: an unescaped < in attribute {attr}"));
        }
        let value = unescape(raw).map_err(|why| format!("<{name}> attribute {attr}: {why}"))?;
        if element.attr(attr).is_some() {
            return Err(format!("<{name}>: attribute {attr} twice"));
        }
        element.attrs.push((attr.to_string(), value));
        i = value_end + 1;
    }
}

/// Replaces XML's entities; fails on a bare `&` or an unknown entity.
fn unescape(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let end = after
            .find(';')
            .filter(|&n| n <= 10)
            .ok_or_else(|| "a bare & (not an entity)".to_string())?;
        let entity = &after[..end];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let number = if let Some(hex) = entity.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(decimal) = entity.strip_prefix('#') {
                    decimal.parse().ok()
                } else {
                    None
                };
                number
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("an unknown entity &{entity};"))?
            }
        };
        out.push(c);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Nothing in the picture reaches outside it: no scripts, no embedded
/// documents or images, links only to `#fragments` inside it.
fn check_self_contained(doc: &str, elements: &[Element]) {
    let lower = doc.to_ascii_lowercase();
    for banned in [
        "<script",
        "href=\"http",
        "href='http",
        "javascript:",
        "@import",
    ] {
        assert!(!lower.contains(banned), "the SVG contains {banned}");
    }
    for element in elements {
        assert!(
            !matches!(
                element.name.as_str(),
                "script" | "image" | "foreignObject" | "iframe" | "style"
            ),
            "a <{}> element",
            element.name
        );
        for (name, value) in &element.attrs {
            if name == "href" || name.ends_with(":href") {
                assert!(
                    value.starts_with('#'),
                    "<{}> links out: {value}",
                    element.name
                );
            }
            if let Some(url) = value.split("url(").nth(1) {
                assert!(
                    url.starts_with('#'),
                    "<{}> {name} points out: {value}",
                    element.name
                );
            }
            if name != "xmlns" && !name.starts_with("xmlns:") {
                assert!(
                    !value.contains("://"),
                    "<{}> {name} names an address: {value}",
                    element.name
                );
            }
        }
    }
}

/// The lane titles: the label column's texts, less the axis caption.
fn lane_titles(elements: &[Element]) -> Vec<&str> {
    let titles: Vec<&str> = elements
        .iter()
        .filter(|e| e.name == "text" && e.attr("x") == Some("6"))
        .map(|e| e.text.as_str())
        .filter(|text| *text != "time since capture start")
        .collect();
    for title in &titles {
        assert!(
            title.starts_with("task ")
                || title.starts_with("thread ")
                || title.starts_with("event loop ("),
            "not a lane title (has svg.rs changed how it marks lanes?): {title:?}"
        );
    }
    titles
}

/// Checks a whole SVG document and returns its elements.
fn checked_svg(svg: &str) -> Vec<Element> {
    let elements =
        parse_svg(svg).unwrap_or_else(|why| panic!("the SVG is not well-formed XML: {why}\n{svg}"));
    check_self_contained(svg, &elements);
    elements
}

#[test]
fn the_xml_checker_rejects_what_a_renderer_can_get_wrong() {
    let good = "<svg a=\"1\"><g><text x='6'>x &amp; y &#8230;</text></g><rect/></svg>\n";
    let elements = parse_svg(good).expect("a good document");
    assert_eq!(elements.len(), 4);
    assert_eq!(elements[2].text, "x & y \u{2026}");
    for (bad, why) in [
        ("<svg><g></svg>", "closes"),
        ("<svg><text>a < b</text></svg>", "name"),
        ("<svg><text>a & b</text></svg>", "bare &"),
        ("<svg><text>&nbsp;</text></svg>", "unknown entity"),
        ("<svg a=1></svg>", "not quoted"),
        ("<svg a=\"<\"></svg>", "unescaped <"),
        ("<svg a=\"x\" a=\"y\"></svg>", "twice"),
        ("<svg></svg><svg></svg>", "second root"),
        ("<svg>", "never closed"),
        ("<g></g>", "not <svg>"),
        ("text<svg></svg>", "outside"),
        ("<svg a=\"1\"b=\"2\"></svg>", "separated"),
    ] {
        let error = parse_svg(bad).expect_err(bad);
        assert!(error.contains(why), "{bad}: {error}");
    }
}

// ------------------------------------------------------------- the pictures

/// An event-loop program with a socket pair, a timer, an unnamed task and a
/// task whose name needs escaping.
fn event_loop_capture() -> Vec<Event> {
    within(|| {
        let rt = runtime();
        let ((), events) = capture(|| {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = listener.local_addr().unwrap();
                let server = spawn_named("server", async move {
                    let (mut stream, _) = listener.accept().await.unwrap();
                    let mut buf = [0u8; 5];
                    stream.read_exact(&mut buf).await.unwrap();
                    stream.write_all(&buf).await.unwrap();
                });
                let client = spawn_named("client", async move {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    stream.write_all(b"hello").await.unwrap();
                    let mut buf = [0u8; 5];
                    stream.read_exact(&mut buf).await.unwrap();
                    buf
                });
                let awkward = spawn_named(AWKWARD, sleep(Duration::from_millis(5)));
                let plain = spawn(async { 1 });
                bounded(server).await.unwrap();
                assert_eq!(&bounded(client).await.unwrap(), b"hello");
                bounded(awkward).await.unwrap();
                assert_eq!(bounded(plain).await.unwrap(), 1);
            })
        });
        events
    })
}

/// A blocking program: named threads (one awkwardly), an unnamed one, and
/// the test's own thread joining them.
fn blocking_capture() -> Vec<Event> {
    within(|| {
        let ((), events) = capture(|| {
            let (tx, rx) = blocking::channel::oneshot::<u8>();
            let waiter = blocking::spawn_named("waiter", move || rx.recv());
            let awkward =
                blocking::spawn_named(AWKWARD, || blocking::sleep(Duration::from_millis(5)));
            let plain = blocking::spawn(|| 2);
            tx.send(1).unwrap();
            assert_eq!(waiter.join().unwrap(), Some(1));
            awkward.join().unwrap();
            assert_eq!(plain.join().unwrap(), 2);
        });
        events
    })
}

/// The lane titles `svg.rs` should draw for `events`, computed from the
/// events alone: one lane per task, titled "task N name"; one per thread
/// that records the loop's own events ("event loop (T)") or events of no
/// task ("thread T").
fn expected_titles(events: &[Event]) -> BTreeSet<String> {
    let mut titles = BTreeSet::new();
    let mut tasks = HashSet::new();
    for e in events {
        let loop_event = matches!(
            e.kind,
            EventKind::Park { .. }
                | EventKind::Unpark
                | EventKind::IoReady { .. }
                | EventKind::TimerFired { .. }
        );
        match e.task {
            _ if loop_event => {
                titles.insert(format!("event loop ({})", e.thread));
            }
            Some(task) if tasks.insert(task) => {
                let name = e.task_name.as_deref().expect("every task here has a name");
                titles.insert(format!("task {} {name}", task.as_u64()));
            }
            Some(_) => {}
            None => {
                titles.insert(format!("thread {}", e.thread));
            }
        }
    }
    titles
}

#[test]
fn the_event_loop_timeline_is_well_formed_self_contained_and_has_one_lane_per_task() {
    let events = event_loop_capture();
    let svg = render_svg(&events);
    let elements = checked_svg(&svg);

    let tasks: HashSet<_> = events.iter().filter_map(|e| e.task).collect();
    // server, client, the awkward one, the unnamed one, and block_on's future.
    assert_eq!(tasks.len(), 5, "the program's tasks");
    let titles = lane_titles(&elements);
    assert_eq!(
        titles.len(),
        tasks.len() + 1,
        "one lane per task and one for the loop: {titles:?}"
    );
    let drawn: BTreeSet<String> = titles.iter().map(|t| t.to_string()).collect();
    assert_eq!(drawn, expected_titles(&events));
    assert!(drawn.contains("event loop (test-body)"), "{drawn:?}");
    check_geometry(&elements, titles.len(), true);
    check_bars_and_waits_per_task(&events, &elements);

    // The awkward name is escaped in the document and intact once parsed.
    assert!(titles.iter().any(|t| t.ends_with(AWKWARD)), "{titles:?}");
    assert!(svg.contains(AWKWARD_ESCAPED), "escaped in the text");
    assert!(!svg.contains(AWKWARD), "never raw");

    // It draws what happened: bars for polls, wait lines, park spans,
    // arrows for wakes between lanes.
    let count = |name: &str| elements.iter().filter(|e| e.name == name).count();
    assert!(count("rect") > tasks.len(), "bars for the polls");
    assert!(
        elements
            .iter()
            .any(|e| e.name == "line" && e.attr("marker-end") == Some("url(#arrow)")),
        "an arrow for a wake"
    );
}

#[test]
fn the_blocking_timeline_is_well_formed_self_contained_and_has_one_lane_per_thread() {
    let events = blocking_capture();
    let svg = render_svg(&events);
    let elements = checked_svg(&svg);

    // waiter, the awkward one, the unnamed one, and the test's own thread.
    let threads: HashSet<&str> = events.iter().map(|e| e.thread.as_str()).collect();
    assert_eq!(threads.len(), 4, "{threads:?}");
    let titles = lane_titles(&elements);
    assert_eq!(
        titles.len(),
        threads.len(),
        "one lane per thread: {titles:?}"
    );
    let drawn: BTreeSet<String> = titles.iter().map(|t| t.to_string()).collect();
    assert_eq!(drawn, expected_titles(&events));
    assert!(drawn.contains("thread test-body"), "{drawn:?}");
    check_geometry(&elements, titles.len(), false);
    assert!(svg.contains(AWKWARD_ESCAPED) && !svg.contains(AWKWARD));
    // No loop lane: blocking threads park in the kernel on their own.
    assert!(!titles.iter().any(|t| t.starts_with("event loop")));
}

/// The picture's geometry: everything is drawn inside the picture's size,
/// lanes go down the page one below the other with the time axis under
/// them, every wake arrow starts and ends on a drawn lane, and the note
/// about lanes left out appears only when lanes were left out.
fn check_geometry(elements: &[Element], lanes_in_capture: usize, has_wakes: bool) {
    let number = |e: &Element, name: &str| -> Option<f64> {
        e.attr(name).and_then(|value| value.parse().ok())
    };
    let root = &elements[0];
    let (width, height) = (
        number(root, "width").unwrap(),
        number(root, "height").unwrap(),
    );
    assert_eq!(
        root.attr("viewBox"),
        Some(format!("0 0 {width} {height}").as_str())
    );
    for e in elements {
        for (name, limit) in [("x", width), ("x1", width), ("x2", width)]
            .into_iter()
            .chain([("y", height), ("y1", height), ("y2", height)])
        {
            if let Some(value) = number(e, name) {
                assert!(
                    (0.0..=limit).contains(&value),
                    "<{} {name}=\"{value}\"> lies outside the {width} x {height} picture",
                    e.name
                );
            }
        }
        if let (Some(x), Some(w)) = (number(e, "x"), number(e, "width")) {
            assert!(x + w <= width, "a <{}> runs off the right edge", e.name);
        }
        if let (Some(y), Some(h)) = (number(e, "y"), number(e, "height")) {
            assert!(y + h <= height, "a <{}> runs off the bottom", e.name);
        }
    }
    let label_ys: Vec<f64> = elements
        .iter()
        .filter(|e| e.name == "text" && e.attr("x") == Some("6"))
        .filter(|e| e.text != "time since capture start")
        .map(|e| number(e, "y").unwrap())
        .collect();
    assert!(
        label_ys.windows(2).all(|pair| pair[0] < pair[1]),
        "lanes go down the page"
    );
    let axis_y = elements
        .iter()
        .find(|e| e.name == "text" && e.text == "time since capture start")
        .and_then(|e| number(e, "y"))
        .expect("a time axis");
    let axis_line = elements
        .iter()
        .filter(|e| e.name == "line" && e.attr("stroke") == Some("black"))
        .filter(|e| e.attr("y1") == e.attr("y2") && e.attr("x1") != e.attr("x2"))
        .find_map(|e| number(e, "y1"))
        .expect("the axis line");
    assert!(
        label_ys.iter().all(|&y| y < axis_y && y + 10.0 < axis_line),
        "the time axis is below every lane, clear of its label"
    );
    // A lane's label sits 0.12 of a lane height (26 px) below its middle;
    // bars, park spans, wait lines and arrows are centred on the middle.
    let middles: Vec<f64> = label_ys.iter().map(|y| y - 0.12 * 26.0).collect();
    let on_a_middle = |y: f64| middles.iter().any(|m| (m - y).abs() < 0.2);
    for rect in elements.iter().filter(|e| e.name == "rect") {
        if let (Some(y), Some(h)) = (number(rect, "y"), number(rect, "height")) {
            assert!(
                on_a_middle(y + h / 2.0),
                "a bar or park span off its lane, at y = {y}"
            );
        }
    }
    let wait_lines: Vec<&Element> = elements
        .iter()
        .filter(|e| e.name == "line" && e.attr("stroke") == Some("#999"))
        .collect();
    for line in &wait_lines {
        assert!(
            on_a_middle(number(line, "y1").unwrap()),
            "a wait line off its lane"
        );
    }
    // A wait's label is drawn only where it fits on its line (about 6 px
    // a letter), just above it.
    let wait_labels: Vec<&Element> = elements
        .iter()
        .filter(|e| e.name == "text" && e.attr("fill") == Some("#555"))
        .collect();
    for label in &wait_labels {
        let (x, y) = (number(label, "x").unwrap(), number(label, "y").unwrap());
        let room = 6.0 * label.text.chars().count() as f64;
        assert!(
            wait_lines.iter().any(|line| {
                let (x1, x2) = (number(line, "x1").unwrap(), number(line, "x2").unwrap());
                (x1 + 2.0 - x).abs() < 0.2
                    && (number(line, "y1").unwrap() - 3.0 - y).abs() < 0.2
                    && x2 - x1 > room - 0.2
            }),
            "the label {:?} at ({x}, {y}) is not on a wait line long enough for it",
            label.text
        );
    }
    if has_wakes {
        assert!(!wait_labels.is_empty(), "long waits say what they wait for");
    }
    let arrows: Vec<&Element> = elements
        .iter()
        .filter(|e| e.name == "line" && e.attr("marker-end").is_some())
        .collect();
    for arrow in &arrows {
        for end in ["y1", "y2"] {
            let y = number(arrow, end).unwrap();
            assert!(
                on_a_middle(y),
                "a wake arrow ends at y = {y}, on no drawn lane ({label_ys:?})"
            );
        }
    }
    if has_wakes {
        assert!(
            !arrows.is_empty(),
            "wakes between lanes are drawn as arrows"
        );
    }
    // And no bigger than it needs: the margins past the last drawn thing
    // are small.
    let far = |names: &[&str]| -> f64 {
        elements
            .iter()
            .flat_map(|e| names.iter().filter_map(|name| number(e, name)))
            .fold(0.0, f64::max)
    };
    assert!(
        width - far(&["x", "x1", "x2"]) < 60.0,
        "a wide empty margin"
    );
    assert!(
        height - far(&["y", "y1", "y2"]) < 60.0,
        "a tall empty margin"
    );
    let note = elements
        .iter()
        .any(|e| e.text.contains("more lanes not drawn"));
    assert_eq!(note, lanes_in_capture > 40, "the note about lanes left out");
}

/// On an event-loop picture, each task's lane has one bar per poll and one
/// wait line per poll that ended `Pending`, as the events say.
fn check_bars_and_waits_per_task(events: &[Event], elements: &[Element]) {
    let number = |e: &Element, name: &str| -> f64 { e.attr(name).unwrap().parse().unwrap() };
    let mut checked = 0;
    for label in elements
        .iter()
        .filter(|e| e.name == "text" && e.attr("x") == Some("6"))
    {
        let Some(id) = label
            .text
            .strip_prefix("task ")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|id| id.parse::<u64>().ok())
        else {
            continue;
        };
        let middle = number(label, "y") - 0.12 * 26.0;
        let of_task = |e: &&Event| e.task.map(|t| t.as_u64()) == Some(id);
        let polls = events
            .iter()
            .filter(of_task)
            .filter(|e| matches!(e.kind, EventKind::PollStart))
            .count();
        let pending = events
            .iter()
            .filter(of_task)
            .filter(|e| matches!(e.kind, EventKind::PollEnd { ready: false }))
            .count();
        let bars = elements
            .iter()
            .filter(|e| e.name == "rect" && e.attr("fill") == Some("#337ab7"))
            .filter(|e| (number(e, "y") + number(e, "height") / 2.0 - middle).abs() < 0.2)
            .count();
        let waits = elements
            .iter()
            .filter(|e| e.name == "line" && e.attr("stroke") == Some("#999"))
            .filter(|e| (number(e, "y1") - middle).abs() < 0.2)
            .count();
        assert_eq!(bars, polls, "task {id}: one bar per poll");
        assert_eq!(waits, pending, "task {id}: one wait line per pending poll");
        checked += 1;
    }
    assert!(checked > 0, "task lanes were checked");
}

#[test]
fn an_empty_capture_draws_an_empty_well_formed_picture() {
    let ((), events) = capture(|| ());
    let svg = render_svg(&events);
    let elements = checked_svg(&svg);
    assert!(lane_titles(&elements).is_empty());
}

#[test]
fn past_forty_lanes_the_rest_are_counted_in_a_note_not_drawn() {
    let events = within(|| {
        let rt = runtime();
        let ((), events) = capture(|| {
            rt.block_on(async {
                let handles: Vec<_> = (0..45).map(|i| spawn(async move { i })).collect();
                for handle in handles {
                    bounded(handle).await.unwrap();
                }
            })
        });
        events
    });
    let lanes = expected_titles(&events).len();
    assert_eq!(lanes, 46, "45 tasks and block_on's future");
    let svg = render_svg(&events);
    let elements = checked_svg(&svg);
    // svg.rs draws at most MAX_LANES = 40.
    assert_eq!(lane_titles(&elements).len(), 40);
    check_geometry(&elements, lanes, false);
    let note = format!("and {} more lanes not drawn", lanes - 40);
    assert!(
        elements
            .iter()
            .any(|e| e.name == "text" && e.text.contains(&note)),
        "a note says {note:?}"
    );
}

/// Wakes to and from lanes past the fortieth are left out, not drawn to
/// nowhere: here the forty-first lane's task is woken by a drawn one and
/// then wakes `block_on`'s.
#[test]
fn wake_arrows_are_drawn_only_between_drawn_lanes() {
    let events = within(|| {
        let rt = runtime();
        let ((), events) = capture(|| {
            rt.block_on(async {
                // Lane 0 is block_on's future, lane 1 the first task, and
                // the fortieth spawned task gets lane 40, the first not drawn.
                let (to_late, from_first) = oneshot();
                let (to_main, from_late) = oneshot();
                let mut handles = vec![spawn(async move {
                    yield_now().await;
                    to_late.send(1).unwrap(); // a drawn lane wakes lane 40
                })];
                let mut ends = Some((from_first, to_main));
                for i in 1..45 {
                    if i == 39 {
                        let (from_first, to_main) = ends.take().unwrap();
                        handles.push(spawn(async move {
                            let one = bounded(from_first.recv()).await.unwrap();
                            to_main.send(one).unwrap(); // lane 40 wakes lane 0
                        }));
                    } else {
                        handles.push(spawn(async move {}));
                    }
                }
                assert_eq!(bounded(from_late.recv()).await, Some(1));
                for handle in handles {
                    bounded(handle).await.unwrap();
                }
            })
        });
        events
    });
    let lanes = expected_titles(&events).len();
    assert!(lanes > 41, "{lanes} lanes");
    let elements = checked_svg(&render_svg(&events));
    // Every wake here touches the undrawn lane: no arrow may show.
    check_geometry(&elements, lanes, false);
    assert!(
        !elements.iter().any(|e| e.attr("marker-end").is_some()),
        "an arrow to or from a lane that is not drawn"
    );
}

#[test]
fn the_html_page_is_self_contained_and_holds_each_sections_lanes_and_marks_as_valid_data() {
    let event_loop = event_loop_capture();
    let blocking = blocking_capture();
    let page = render_html(
        "duet <&> \"both\"",
        &[
            ("event_loop <one thread>", &event_loop),
            ("blocking & threads", &blocking),
        ],
    );
    assert!(page.starts_with("<!DOCTYPE html>"), "an HTML page");
    assert!(page.contains("<title>duet &lt;&amp;&gt; &quot;both&quot;</title>"));
    assert!(page.contains("<h1>duet &lt;&amp;&gt; &quot;both&quot;</h1>"));
    assert!(
        !page.contains(AWKWARD) && !page.contains("<one thread>"),
        "task names and titles escaped on the page too"
    );
    // Its one script is inline: nothing is loaded from anywhere.
    let lower = page.to_ascii_lowercase();
    assert_eq!(lower.matches("<script").count(), 1, "one script");
    assert_eq!(lower.matches("</script>").count(), 1, "one script end");
    assert!(lower.contains("<script>"), "the script has no src");
    for banned in [
        "<link",
        "src=",
        "href=\"http",
        "@import",
        "<iframe",
        "fetch(",
        "xmlhttprequest",
    ] {
        assert!(
            !lower.contains(banned),
            "the page loads something: {banned}"
        );
    }

    // The data the script draws is valid JSON: per section its title, its
    // lanes (the loop's first, then tasks by number) and its marks.
    let data = page
        .split("const SECTIONS = ")
        .nth(1)
        .and_then(|rest| rest.split(";\n").next())
        .expect("the page holds its data");
    let data = json::parse(data).unwrap_or_else(|why| panic!("the data is not JSON: {why}"));
    let sections = data.as_array().expect("a list of sections");
    assert_eq!(sections.len(), 2, "one timeline per section");
    let titles: Vec<&str> = sections
        .iter()
        .map(|s| s.get("title").and_then(json::Json::as_str).unwrap())
        .collect();
    assert_eq!(titles, ["event_loop <one thread>", "blocking & threads"]);
    for (section, events) in sections.iter().zip([&event_loop, &blocking]) {
        let lanes: Vec<&str> = section
            .get("lanes")
            .and_then(json::Json::as_array)
            .unwrap()
            .iter()
            .map(|lane| lane.as_str().unwrap())
            .collect();
        let drawn: BTreeSet<String> = lanes.iter().map(|t| t.to_string()).collect();
        assert_eq!(drawn, expected_titles(events));
        assert_eq!(drawn.len(), lanes.len(), "no lane twice");
        let first_task = lanes.iter().position(|l| l.starts_with("task ")).unwrap();
        assert!(
            lanes[..first_task]
                .iter()
                .all(|l| l.starts_with("event loop (")),
            "the loop's lane comes first: {lanes:?}"
        );
        let numbers: Vec<u64> = lanes[first_task..]
            .iter()
            .filter_map(|l| l.strip_prefix("task ")?.split(' ').next()?.parse().ok())
            .collect();
        assert!(
            numbers.windows(2).all(|w| w[0] < w[1]),
            "tasks in order: {lanes:?}"
        );
        let marks = section.get("marks").and_then(json::Json::as_array).unwrap();
        assert!(!marks.is_empty());
        for mark in marks {
            let kind = mark.get("k").and_then(json::Json::as_str).unwrap();
            assert!(["run", "wait", "park", "tick", "wake", "spawn"].contains(&kind));
            for lane in ["l", "t"] {
                let lane = mark.get(lane).and_then(json::Json::as_f64).unwrap();
                assert!((lane as usize) < lanes.len() && lane >= 0.0);
            }
            let (start, end) = (
                mark.get("s").and_then(json::Json::as_f64).unwrap(),
                mark.get("e").and_then(json::Json::as_f64).unwrap(),
            );
            assert!(0.0 <= start && start <= end, "{mark:?}");
            assert!(
                !mark
                    .get("d")
                    .and_then(json::Json::as_str)
                    .unwrap()
                    .is_empty()
            );
        }
    }
    // The event loop's waits say what woke them.
    let marks = sections[0]
        .get("marks")
        .and_then(json::Json::as_array)
        .unwrap();
    assert!(marks.iter().any(|m| {
        m.get("k").and_then(json::Json::as_str) == Some("wait")
            && m.get("d")
                .and_then(json::Json::as_str)
                .unwrap()
                .contains("woken by: ")
    }));
}

// ------------------------------------------------------------- in a real browser

/// A headless Chromium on this machine, if there is one.
fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| {
            std::process::Command::new(name)
                .arg("--version")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
        })
}

/// Loads `url` in headless Chromium, lets its scripts run, and returns the
/// document as the scripts left it. Bounded: the browser is killed after
/// a minute.
fn browser_dom(browser: &str, url: &str) -> String {
    let profile = std::env::temp_dir().join(format!("duet-chromium-{}", std::process::id()));
    let mut child = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the browser starts");
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut dom = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut dom);
        let _ = tx.send(dom);
    });
    let dom = rx.recv_timeout(Duration::from_secs(60));
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&profile);
    dom.expect("the browser answered within a minute")
}

#[test]
fn in_a_real_browser_the_page_draws_its_marks_and_opens_an_events_details() {
    let Some(browser) = chromium() else {
        eprintln!("no headless Chromium here: the page was checked as data only");
        return;
    };
    let events = event_loop_capture();
    let page = render_html("a browser check", &[("event loop", &events)]);
    let path = std::env::temp_dir().join(format!("duet-page-{}.html", std::process::id()));
    std::fs::write(&path, page).unwrap();
    let url = format!("file://{}#select=0:woken by: its timer", path.display());
    let dom = browser_dom(browser, &url);
    let _ = std::fs::remove_file(&path);
    // The script ran: it drew the marks as SVG elements of class "mark".
    assert!(
        dom.matches("class=\"mark").count() > 5,
        "no marks drawn:\n{dom}"
    );
    // And `#select` opened the details of a timer wait: what it waited
    // for, when, and what woke it.
    let detail = dom
        .split("<div class=\"detail\">")
        .nth(1)
        .and_then(|rest| rest.split("</div>").next())
        .expect("a details panel");
    assert!(
        detail.contains("waits for timer in ") && detail.contains("woken by: its timer at "),
        "the details of the selected wait: {detail:?}"
    );
    assert!(dom.contains("selected"), "the selected mark is marked");
}
