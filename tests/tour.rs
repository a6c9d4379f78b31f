//! The tour binary (`cargo run --release`), run as a newcomer would run it:
//! a small tour succeeds, prints every row of every workload with its
//! reading, and writes the timeline page; `--only` and `--no-html` do what
//! they say; `--help` documents every flag; a wrong flag is refused with
//! exit code 2.
//!
//! Every run is a child process with a deadline, so a hung tour fails the
//! test instead of hanging `cargo test`.
//!
//! Read next: `src/tour/mod.rs`, the tour itself.

use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Runs the tour binary with `args`; returns its exit status and stdout
/// and stderr together. Kills it and fails after 60 s.
fn tour(args: &[&str]) -> (ExitStatus, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_duet"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tour binary starts");
    // Drain both pipes on their own threads, so a chatty child never
    // blocks on a full pipe while we wait for it to exit.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut text = String::new();
            pipe.read_to_string(&mut text).expect("output is UTF-8");
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait works") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the tour {args:?} ran for more than 60 s");
        }
        thread::sleep(Duration::from_millis(20));
    };
    let output = stdout.join().unwrap() + &stderr.join().unwrap();
    (status, output)
}

/// Sizes small enough for a test: the whole tour in a few seconds.
const SMALL: &[&str] = &[
    "--tasks",
    "20",
    "--wait-ms",
    "5",
    "--cpu-tasks",
    "4",
    "--work-ms",
    "5",
    "--clients",
    "5",
    "--requests",
    "3",
    "--service-ms",
    "1",
];

const RUNTIMES: [&str; 3] = [
    "blocking, 1 thread",
    "blocking, thread/task",
    "event_loop, 1 thread",
];

#[test]
fn a_small_tour_prints_every_row_explains_it_and_writes_the_timelines() {
    let dir = std::env::temp_dir().join(format!("duet-tour-test-{}", std::process::id()));
    let html = dir.join("tour.html");
    let html_arg = html.to_str().expect("a UTF-8 temp path");
    let mut args = SMALL.to_vec();
    args.extend(["--html", html_arg]);
    let (status, output) = tour(&args);
    assert!(status.success(), "the tour failed:\n{output}");

    // Every workload has a heading, a row per runtime with all five
    // numbers, and a paragraph answering its claim.
    for (workload, heading, claim) in [
        (
            "timers",
            "20 tasks each wait 5 ms",
            "async is multi-threaded",
        ),
        (
            "cpu",
            "4 tasks each compute for about 5 ms",
            "async is always faster",
        ),
        (
            "network",
            "5 clients × 3 requests to a server that waits 1 ms",
            "blocking code can't serve many clients",
        ),
    ] {
        let section = section(&output, workload);
        let flat = section.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains(heading),
            "no heading for {workload}:\n{section}"
        );
        assert!(
            flat.contains(claim),
            "no reading for {workload}:\n{section}"
        );
        for runtime in RUNTIMES {
            let row = section
                .lines()
                .find(|line| line.starts_with(runtime))
                .unwrap_or_else(|| panic!("no {runtime} row for {workload}:\n{section}"));
            let cells: Vec<&str> = row[runtime.len()..].split_whitespace().collect();
            // wall, p50, p99 (number + unit each), threads, memory (+ unit).
            assert_eq!(cells.len(), 9, "a row with a missing cell: {row}");
            for unit in [cells[1], cells[3], cells[5]] {
                assert!(unit == "ms" || unit == "s", "a time without a unit: {row}");
            }
        }
    }
    // The network has a fourth row: the same server on a loop per core,
    // and its reading says so.
    let network = section(&output, "network");
    let row = network
        .lines()
        .find(|line| line.starts_with("event_loop, loop/core"))
        .unwrap_or_else(|| panic!("no loop-per-core row:\n{network}"));
    let cells: Vec<&str> = row["event_loop, loop/core".len()..]
        .split_whitespace()
        .collect();
    assert_eq!(cells.len(), 9, "a row with a missing cell: {row}");
    let flat = network.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("one event loop per core"), "{network}");

    // The one-thread and event-loop rows ran on one thread; a thread per
    // task had one for each of the 20 waiting tasks, plus the main thread.
    let timers = section(&output, "timers");
    let threads = |runtime: &str| -> u64 {
        let row = timers
            .lines()
            .find(|line| line.starts_with(runtime))
            .unwrap();
        let cells: Vec<&str> = row[runtime.len()..].split_whitespace().collect();
        cells[6].replace(',', "").parse().expect("a thread count")
    };
    assert_eq!(threads("event_loop, 1 thread"), 1, "{timers}");
    assert_eq!(threads("blocking, 1 thread"), 1, "{timers}");
    assert!(threads("blocking, thread/task") > 1, "{timers}");

    // The timeline page: two pictures, one per runtime, and its path said.
    assert!(
        output.contains(html_arg),
        "the page's path is not printed:\n{output}"
    );
    let page = std::fs::read_to_string(&html).expect("the tour wrote the page");
    assert_eq!(page.matches("\"lanes\":[").count(), 2, "two timelines");
    assert!(page.contains("duet::blocking") && page.contains("duet::event_loop"));
    assert!(page.contains("connection 0"), "the lanes are named");
    // The readiness story is on the page: a task waits for readable, the
    // socket's readiness names it, and the wake names the socket.
    assert!(page.contains("waits for readable fd "), "a readable wait");
    assert!(page.contains("ready: readable"), "a ready socket");
    assert!(page.contains("woken by socket fd "), "a wake by a socket");
    // And both runs are summed up, by the code `DUET_TRACE` uses.
    assert!(
        output.contains("summary of the blocking runtime:")
            && output.contains("summary of event loop "),
        "the traced runs' summaries:\n{output}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The part of the tour's output from `== NAME ==` to the next heading.
fn section<'a>(output: &'a str, name: &str) -> &'a str {
    let start = output
        .find(&format!("== {name} =="))
        .unwrap_or_else(|| panic!("no {name} section:\n{output}"));
    let rest = &output[start + 3..];
    let end = rest.find("\n== ").map_or(rest.len(), |end| end);
    &rest[..end]
}

#[test]
fn only_runs_one_workload_and_no_html_writes_nothing() {
    let mut args = SMALL.to_vec();
    args.extend(["--only", "cpu", "--no-html"]);
    let (status, output) = tour(&args);
    assert!(status.success(), "{output}");
    assert!(output.contains("== cpu =="), "{output}");
    assert!(!output.contains("== timers ==") && !output.contains("== network =="));
    assert!(!output.contains("timelines"), "{output}");
}

#[test]
fn help_mentions_every_flag() {
    let (status, output) = tour(&["--help"]);
    assert!(status.success(), "{output}");
    for flag in [
        "--tasks",
        "--wait-ms",
        "--cpu-tasks",
        "--work-ms",
        "--clients",
        "--requests",
        "--service-ms",
        "--only",
        "--html",
        "--no-html",
        "--help",
    ] {
        assert!(
            output.contains(flag),
            "--help does not mention {flag}:\n{output}"
        );
    }
}

#[test]
fn an_unknown_flag_is_refused_with_code_2_and_usage() {
    let (status, output) = tour(&["--no-such-flag"]);
    assert_eq!(status.code(), Some(2), "{output}");
    assert!(output.contains("--no-such-flag"), "{output}");
    assert!(output.contains("Usage:"), "{output}");
}

#[test]
fn a_flag_without_its_value_is_refused_with_code_2() {
    let (status, output) = tour(&["--tasks"]);
    assert_eq!(status.code(), Some(2), "{output}");
    assert!(output.contains("--tasks needs a value"), "{output}");
}
