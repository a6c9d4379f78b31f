//! The trace as a story a learner can follow: twins that line up, causes
//! that are named, a summary that adds up, excerpts that stay true, and an
//! export the standard viewers can open.
//!
//! - **Twins**: the hello, echo and pipeline pairs run with
//!   `DUET_TRACE=1`. Each log is reduced to what both runtimes have words
//!   for (spawns, and for hello each task's waits and its end; see
//!   `common_story`), times and runtime-specific lines dropped; the two
//!   reductions must be equal, and so must the summaries' task counts.
//! - **Causes**: in a capture with sockets, timers, channels, joins and a
//!   wake from another thread, every `Wake` names who woke it, every
//!   `TimerFired` the task it wakes, every `IoReady` its descriptor; and
//!   the loop's `Unpark` comes before anything dispatched in that turn.
//! - **Summary**: its counts equal the counts of the captured events.
//! - **Excerpts**: `docs/trace_hello_event_loop.txt` and
//!   `docs/trace_hello_blocking.txt` are real `DUET_TRACE` output; the
//!   examples must still print them, times aside (per thread, for the
//!   blocking twin, whose threads interleave as the OS pleases).
//! - **Chrome JSON**: `write_chrome_json` writes valid JSON (checked by
//!   `support/json.rs`) whose slices have a start and a non-negative
//!   length and nest per track, and whose wake arrows land where they
//!   leave from no later; `DUET_TRACE=path.json` writes such a file.
//!
//! Every test takes [`serial`]: `capture` records the whole process.
//!
//! Read next: `src/trace/summary.rs`, then `src/trace/chrome.rs`.

#[path = "support/json.rs"]
mod json;
mod support;
use support::examples::Running;
use support::*;

use duet::blocking;
use duet::event_loop::net::{TcpListener, TcpStream};
use duet::event_loop::{channel, sleep, spawn_blocking, spawn_named};
use duet::trace::{Event, EventKind, Summary, WokenBy, capture, write_chrome_json};
use json::Json;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

// ------------------------------------------------------------- the twins

/// Runs example `name` with `args` and `DUET_TRACE=1`; returns its stderr.
fn traced_run(name: &str, args: &[&str]) -> String {
    let mut running = Running::start_with(name, args, |command| {
        command.env("DUET_TRACE", "1");
    });
    let (status, _stdout) = running.finish(THREAD_PATIENCE);
    let stderr = running.stderr();
    assert!(status.success(), "{name} failed: {status}\n{stderr}");
    stderr
}

/// An event line's task and what happened (columns of `event.rs`).
fn columns(line: &str) -> Option<(&str, &str)> {
    let task = line.get(31..65)?.trim_end();
    let what = line.get(66..)?;
    line.get(..12)?.trim_start().strip_suffix("ms")?;
    Some((task, what))
}

/// What both runtimes have words for, per task: its spawn, its waits
/// (only with `waits`), its end. Everything else is how one runtime does
/// it: polls, parks, wakes and readiness on the loop; thread starts,
/// unblocks and exits' timing on threads; `spawn_blocking` jobs.
fn common_story(log: &str, waits: bool, ends: bool) -> BTreeMap<String, Vec<String>> {
    let mut story: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (task, what) in log.lines().filter_map(columns) {
        if task == "-" || task.starts_with("blocking ") {
            continue;
        }
        let said = if what == "spawn" {
            Some("spawn".to_string())
        } else if what == "poll end: ready (done)" || what == "thread exits" {
            // The blocking main thread has no end of its own to trace.
            (ends && task != "task 0 (main)").then(|| "ends".to_string())
        } else if !waits {
            None
        } else if what.starts_with("waits for timer") || what == "blocks in sleep" {
            Some("waits: sleep".to_string())
        } else if let Some(rest) = what.strip_prefix("waits for task ") {
            Some(format!(
                "waits: join task {}",
                rest.trim_end_matches(" to finish")
            ))
        } else {
            what.strip_prefix("blocks in join of task ")
                .map(|n| format!("waits: join task {n}"))
        };
        if let Some(said) = said {
            story.entry(task.to_string()).or_default().push(said);
        }
    }
    story
}

/// The spawn lines, in order: the same numbers and names on both sides.
fn spawns(log: &str) -> Vec<&str> {
    log.lines()
        .filter_map(columns)
        .filter(|(task, what)| *what == "spawn" && !task.starts_with("blocking "))
        .map(|(task, _)| task)
        .collect()
}

/// The summary's "tasks:" count.
fn tasks_spawned(log: &str) -> &str {
    let line = log
        .lines()
        .find(|line| line.starts_with("  tasks:   "))
        .unwrap_or_else(|| panic!("a summary:\n{log}"));
    line["  tasks:   ".len()..].split(' ').next().unwrap()
}

fn check_twins(name: &str, args: &[&str], waits: bool, ends: bool, main: bool) {
    let _serial = serial();
    let blocking = traced_run(&format!("{name}_blocking"), args);
    let event_loop = traced_run(&format!("{name}_event_loop"), args);
    assert_eq!(
        spawns(&blocking),
        spawns(&event_loop),
        "{name}: the twins spawn the same tasks, numbered and named alike\n\
         --- blocking\n{blocking}\n--- event loop\n{event_loop}"
    );
    assert!(!spawns(&blocking).is_empty());
    assert_eq!(
        common_story(&blocking, waits, ends),
        common_story(&event_loop, waits, ends),
        "{name}: the twins' stories differ\n--- blocking\n{blocking}\n--- event loop\n{event_loop}"
    );
    assert_eq!(tasks_spawned(&blocking), tasks_spawned(&event_loop));
    for log in [&blocking, &event_loop].into_iter().filter(|_| main) {
        assert!(log.contains("task 0 (main)"), "main is task 0:\n{log}");
    }
}

#[test]
fn the_hello_twins_tell_the_same_story_with_the_same_numbers_and_names() {
    check_twins("hello", &[], true, true, true);
}

#[test]
fn the_echo_twins_spawn_the_same_server_and_connection_tasks() {
    // One client, two round trips: the connection's end races the exit.
    check_twins(
        "echo",
        &["--addr", "127.0.0.1:0", "--clients", "1", "--rounds", "2"],
        false,
        false,
        false, // the blocking main thread only waits for the clients, untraced
    );
}

#[test]
fn the_pipeline_twins_spawn_and_finish_the_same_stages() {
    let sizes = ["--items", "6", "--work-ms", "2", "--svg"];
    let svg = std::env::temp_dir().join(format!("duet-twins-{}.svg", std::process::id()));
    let mut args: Vec<&str> = sizes.to_vec();
    args.push(svg.to_str().unwrap());
    check_twins("pipeline", &args, false, true, true);
    let _ = std::fs::remove_file(svg);
}

// ------------------------------------------------------------- causes

/// Sockets, timers, a channel fed by a plain thread, a spawn_blocking job
/// and joins, on one loop.
/// Awaits `future`, telling `waiting` once it has returned `Pending` (so
/// that whatever `waiting` releases finds it waiting).
async fn signal_when_pending<F: std::future::Future>(
    future: F,
    waiting: std::sync::mpsc::Sender<()>,
) -> F::Output {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| {
        let poll = future.as_mut().poll(cx);
        if poll.is_pending() {
            let _ = waiting.send(());
        }
        poll
    })
    .await
}

fn busy_capture() -> Vec<Event> {
    within(|| {
        let rt = runtime();
        let ((), events) = capture(|| {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = listener.local_addr().unwrap();
                let server = spawn_named("server", async move {
                    let (mut stream, _) = listener.accept().await.unwrap();
                    let mut ping = [0u8; 4];
                    stream.read_exact(&mut ping).await.unwrap();
                    stream.write_all(&ping).await.unwrap();
                });
                let client = spawn_named("client", async move {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    sleep(Duration::from_millis(5)).await;
                    stream.write_all(b"ping").await.unwrap();
                    let mut echo = [0u8; 4];
                    stream.read_exact(&mut echo).await.unwrap();
                });
                // The feeder and the job each wake the loop from their own
                // thread: they wait until the loop is waiting for them.
                let (tx, rx) = channel::unbounded::<u32>();
                let (feed, fed) = std::sync::mpsc::channel();
                let feeder = std::thread::spawn(move || {
                    fed.recv().unwrap();
                    tx.try_send(1).unwrap();
                });
                assert_eq!(signal_when_pending(rx.recv(), feed).await, Some(1));
                let (go, gone) = std::sync::mpsc::channel();
                let job = spawn_blocking(move || {
                    gone.recv().unwrap();
                    7
                });
                assert_eq!(signal_when_pending(job, go).await.unwrap(), 7);
                server.await.unwrap();
                client.await.unwrap();
                feeder.join().unwrap();
            })
        });
        events
    })
}

#[test]
fn every_wake_readiness_and_timer_names_its_cause_or_target() {
    let _serial = serial();
    let events = busy_capture();
    let list = || events.iter().map(|e| format!("{e}\n")).collect::<String>();
    let mut seen = HashMap::new();
    for event in &events {
        match &event.kind {
            EventKind::Wake { by, .. } => {
                assert!(event.task.is_some(), "a wake names the woken task");
                assert_ne!(
                    *by,
                    WokenBy::Unknown,
                    "a wake with no cause: {event}\n{}",
                    list()
                );
                *seen.entry(std::mem::discriminant(by)).or_insert(0) += 1;
            }
            EventKind::TimerFired { wakes } => {
                assert!(wakes.is_some(), "{event}");
            }
            EventKind::IoReady { fd, .. } => assert!(*fd > 2, "{event}"),
            _ => {}
        }
    }
    for cause in [
        WokenBy::Timer,
        WokenBy::Socket { fd: 0 },
        WokenBy::Channel { from: None },
        WokenBy::Finished(events.iter().find_map(|e| e.task).unwrap()),
    ] {
        assert!(
            seen.contains_key(&std::mem::discriminant(&cause)),
            "no wake by {cause:?}:\n{}",
            list()
        );
    }
}

#[test]
fn the_loop_unparks_before_anything_it_dispatches() {
    let _serial = serial();
    let events = busy_capture();
    let mut parked: HashMap<&str, bool> = HashMap::new();
    for (i, event) in events.iter().enumerate() {
        let on = event.thread.as_str();
        match &event.kind {
            EventKind::Park { .. } => {
                parked.insert(on, true);
            }
            EventKind::Unpark => {
                parked.insert(on, false);
            }
            EventKind::IoReady { .. }
            | EventKind::TimerFired { .. }
            | EventKind::Wake {
                from_other_thread: false,
                ..
            } => {
                assert!(
                    !parked.get(on).copied().unwrap_or(false),
                    "event {i} dispatched while the loop is parked: {event}"
                );
            }
            _ => {}
        }
    }
    assert!(
        events
            .iter()
            .any(|e| matches!(e.kind, EventKind::IoReady { .. })),
        "the capture has readiness"
    );
}

// ------------------------------------------------------------- summary

#[test]
fn the_summary_counts_the_captured_events() {
    let _serial = serial();
    let events = busy_capture();
    let count = |f: &dyn Fn(&EventKind) -> bool| events.iter().filter(|e| f(&e.kind)).count();
    let summary = Summary::of(&events);
    assert_eq!(summary.runtimes.len(), 1, "{summary}");
    let part = &summary.runtimes[0];
    assert!(part.event_loop);
    let spawns = count(&|k| *k == EventKind::Spawn);
    assert_eq!(part.tasks_spawned + part.blocking_jobs, spawns);
    assert_eq!((part.tasks_spawned, part.blocking_jobs), (2, 1));
    assert_eq!(part.polls, count(&|k| *k == EventKind::PollStart));
    let wakes = |other: bool| {
        count(
            &|k| matches!(k, EventKind::Wake { from_other_thread, .. } if *from_other_thread == other),
        )
    };
    assert_eq!(part.wakes_same_thread, wakes(false));
    assert_eq!(part.wakes_other_threads, wakes(true));
    assert!(
        part.wakes_other_threads >= 2,
        "the feeder and the job: {summary}\n{}",
        events.iter().map(|e| format!("{e}\n")).collect::<String>()
    );
    assert_eq!(part.parks, count(&|k| matches!(k, EventKind::Park { .. })));
    assert_eq!(part.os_threads, 2, "the loop's and the job's");

    // The blocking runtime: threads, and time per call kind.
    let ((), events) = capture(|| {
        blocking::Runtime::new().block_on(|| {
            let a = blocking::spawn_named("a", || blocking::sleep(Duration::from_millis(3)));
            a.join().unwrap();
        })
    });
    let summary = Summary::of(&events);
    let part = &summary.runtimes[0];
    assert!(!part.event_loop);
    assert_eq!((part.tasks_spawned, part.os_threads), (1, 2), "{summary}");
    let on: Vec<(&str, usize)> = part.blocked.iter().map(|b| (b.on, b.calls)).collect();
    assert_eq!(on, [("join", 1), ("sleep", 1)]);
    let sleep = &part.blocked[1];
    assert!(sleep.time >= Duration::from_millis(3), "{summary}");
}

// ------------------------------------------------------------- excerpts

/// Masks every "12.345ms" as "#ms", and drops the time column.
fn timeless(line: &str) -> String {
    let line = match columns(line) {
        Some(_) => &line[12..],
        None => line,
    };
    let mut out = String::new();
    let mut number = String::new();
    for c in line.chars() {
        if c.is_ascii_digit() || (c == '.' && !number.is_empty()) {
            number.push(c);
            continue;
        }
        if !number.is_empty() {
            if c == 'm' && number.contains('.') {
                out.push('#');
            } else {
                out.push_str(&number);
            }
            number.clear();
        }
        out.push(c);
    }
    out.push_str(&number);
    out
}

/// The lines of `log`, times masked, grouped by thread (the second
/// column), in order; lines that are not events under key "".
fn by_thread(log: &str) -> BTreeMap<String, Vec<String>> {
    let mut threads: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in log.lines() {
        let thread = match columns(line) {
            Some(_) => line[14..30].trim_end().to_string(),
            None => String::new(),
        };
        threads.entry(thread).or_default().push(timeless(line));
    }
    threads
}

fn check_excerpt(name: &str) {
    let _serial = serial();
    let path = format!("{}/docs/trace_{name}.txt", env!("CARGO_MANIFEST_DIR"));
    let excerpt = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let log = traced_run(name, &[]);
    assert_eq!(
        by_thread(&excerpt),
        by_thread(&log),
        "{path} is no longer what `DUET_TRACE=1 cargo run --example {name}` prints \
         (times aside). Now it prints:\n{log}"
    );
}

#[test]
fn the_hello_event_loop_excerpt_is_what_the_example_prints() {
    check_excerpt("hello_event_loop");
}

#[test]
fn designs_trace_excerpt_is_picked_in_order_from_the_recorded_run() {
    let root = env!("CARGO_MANIFEST_DIR");
    let design = std::fs::read_to_string(format!("{root}/DESIGN.md")).unwrap();
    let run = std::fs::read_to_string(format!("{root}/docs/trace_hello_event_loop.txt")).unwrap();
    let after = design
        .split("cargo run --example hello_event_loop` prints this")
        .nth(1)
        .expect("DESIGN.md shows the hello_event_loop trace");
    let block = after
        .split("```text\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a text block follows");
    let mut recorded = run.lines().map(timeless);
    for line in block.lines() {
        let wanted = timeless(line);
        assert!(
            recorded.any(|line| line == wanted),
            "DESIGN.md's excerpt line {line:?} is not in docs/trace_hello_event_loop.txt \
             (after the lines before it)"
        );
    }
}

#[test]
fn the_hello_blocking_excerpt_is_what_the_example_prints() {
    check_excerpt("hello_blocking");
}

#[test]
fn timeless_masks_times_and_only_times() {
    assert_eq!(
        timeless(
            "   124.509ms  main             -                                  timer fired -> wakes task 1"
        ),
        "  main             -                                  timer fired -> wakes task 1"
    );
    assert_eq!(
        timeless("  parks:   3, asleep in epoll_wait 302.137ms in all"),
        "  parks:   3, asleep in epoll_wait #ms in all"
    );
    assert_eq!(timeless("socket fd 12 ready"), "socket fd 12 ready");
}

// ------------------------------------------------------------- Chrome JSON

/// A slice: start and end in nanoseconds, and its name.
type Slice = (i64, i64, String);

/// Checks a Chrome Trace Event document; returns its events.
fn check_chrome(text: &str) -> Vec<Json> {
    let doc = json::parse(text).unwrap_or_else(|why| panic!("not JSON: {why}\n{text}"));
    let events = doc
        .get("traceEvents")
        .and_then(Json::as_array)
        .expect("a traceEvents list")
        .to_vec();
    let number = |e: &Json, key: &str| e.get(key).and_then(Json::as_f64);
    // Slices per track, each [start, end], in nanoseconds (the export
    // writes microseconds with three decimals: whole nanoseconds).
    let ns = |micros: f64| (micros * 1000.0).round() as i64;
    let mut tracks: BTreeMap<(i64, i64), Vec<Slice>> = BTreeMap::new();
    let mut flows_out: HashMap<i64, f64> = HashMap::new();
    let mut named = 0;
    for e in &events {
        let phase = e
            .get("ph")
            .and_then(Json::as_str)
            .expect("every event has a phase");
        let track = (
            number(e, "pid").expect("a pid") as i64,
            number(e, "tid").unwrap_or(-1.0) as i64,
        );
        match phase {
            "M" => named += 1,
            "X" => {
                let (ts, dur) = (number(e, "ts").unwrap(), number(e, "dur").unwrap());
                assert!(ts >= 0.0 && dur >= 0.0, "{e:?}");
                let name = e.get("name").and_then(Json::as_str).unwrap().to_string();
                tracks
                    .entry(track)
                    .or_default()
                    .push((ns(ts), ns(ts) + ns(dur), name));
            }
            "s" => {
                flows_out.insert(number(e, "id").unwrap() as i64, number(e, "ts").unwrap());
            }
            "f" => {
                let id = number(e, "id").unwrap() as i64;
                let left = flows_out
                    .get(&id)
                    .unwrap_or_else(|| panic!("flow {id} lands unsent"));
                assert!(
                    *left <= number(e, "ts").unwrap(),
                    "flow {id} lands before it leaves"
                );
            }
            "i" => {}
            other => panic!("an unexpected phase {other}"),
        }
    }
    assert!(named > 0, "tracks and processes are named");
    // Per track, slices nest: each one either ends before the next starts
    // or contains it. (A slice is a half-open [start, end).)
    for (track, mut slices) in tracks {
        slices.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut open: Vec<Slice> = Vec::new();
        for slice in slices {
            while open.last().is_some_and(|top| top.1 <= slice.0) {
                open.pop();
            }
            if let Some(top) = open.last() {
                assert!(
                    slice.1 <= top.1,
                    "on track {track:?}, {slice:?} overlaps {top:?} without nesting"
                );
            }
            open.push(slice);
        }
    }
    events
}

#[test]
fn the_chrome_export_is_valid_json_with_nested_slices_and_wake_flows() {
    let _serial = serial();
    let mut events = busy_capture();
    let ((), blocking_events) = capture(|| {
        blocking::Runtime::new().block_on(|| {
            let a = blocking::spawn_named("a <\"\\>", || blocking::sleep(Duration::from_millis(2)));
            a.join().unwrap();
        })
    });
    let offset = events.last().unwrap().at;
    events.extend(blocking_events.into_iter().map(|mut e| {
        e.at += offset;
        e
    }));
    let mut out = Vec::new();
    write_chrome_json(&events, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let exported = check_chrome(&text);
    let phases = |ph: &str| {
        exported
            .iter()
            .filter(|e| e.get("ph").and_then(Json::as_str) == Some(ph))
            .count()
    };
    assert!(
        phases("X") > 10 && phases("s") > 3 && phases("f") > 3,
        "{text}"
    );
    let names: Vec<&str> = exported
        .iter()
        .filter_map(|e| e.get("name").and_then(Json::as_str))
        .collect();
    for wanted in ["park", "poll", "wake", "process_name", "thread_name"] {
        assert!(names.contains(&wanted), "no {wanted}:\n{text}");
    }
    assert!(text.contains("duet::blocking") && text.contains("duet::event_loop runtime"));
    assert!(text.contains("a <\\\"\\\\>"), "names are escaped:\n{text}");
}

#[test]
fn duet_trace_with_a_json_path_writes_the_file_at_runtime_drop() {
    let _serial = serial();
    let path = std::env::temp_dir().join(format!("duet-trace-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut running = Running::start_with("hello_event_loop", &[], |command| {
        command.env("DUET_TRACE", &path);
    });
    let (status, stdout) = running.finish(THREAD_PATIENCE);
    assert!(status.success());
    assert!(stdout.contains("total 60"));
    assert_eq!(running.stderr(), "", "a JSON trace prints nothing");
    let text = std::fs::read_to_string(&path).expect("the trace file was written");
    let exported = check_chrome(&text);
    assert!(text.contains("sleeper 3") && text.contains("\"park\""));
    assert!(exported.len() > 20);
    let _ = std::fs::remove_file(&path);
}
