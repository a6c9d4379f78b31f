//! The `select_*` examples, run as the programs they are: the heartbeat
//! client on threads and on the event loop, stopped by each of its three
//! sources in turn, must stop for that reason, cleanly (exit status 0,
//! every helper thread or task ended), having heard everything the stopper
//! said first. With `DUET_TRACE=1` the event-loop one shows the waits its
//! `select`s cancelled.
//!
//! Every run is bounded: the child process is killed if it has not exited
//! within the patience below (`tests/support/examples.rs`).

mod support;

use std::time::Duration;
use support::examples::Running;

const PATIENCE: Duration = Duration::from_secs(30);

/// Runs `name --stop-by stop_by`; returns its stdout and stderr.
fn run(name: &str, stop_by: &str, trace: bool) -> (String, String) {
    let mut process = Running::start_with(name, &["--stop-by", stop_by], |command| {
        if trace {
            command.env("DUET_TRACE", "1");
        } else {
            command.env_remove("DUET_TRACE");
        }
    });
    let (status, output) = process.finish(PATIENCE);
    assert!(status.success(), "{name} exited with {status}:\n{output}");
    (output, process.stderr())
}

/// The three counts of the summary line, checked against the lines above it.
fn summary(name: &str, stop_by: &str, output: &str) -> [usize; 3] {
    let last = output.lines().last().unwrap_or_default();
    let prefix = format!("stopped by {stop_by}: ");
    let counts: Vec<usize> = last
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{name}: the last line is not {prefix:?}...:\n{output}"))
        .split(", ")
        .map(|part| part.split(' ').next().unwrap().parse().unwrap())
        .collect();
    let printed = |start: &str| output.lines().filter(|l| l.starts_with(start)).count();
    let heard = [
        printed("server says: "),
        printed("producer says: "),
        printed("tick "),
    ];
    assert_eq!(
        counts, heard,
        "{name}: the summary counts what it printed:\n{output}"
    );
    [counts[0], counts[1], counts[2]]
}

#[test]
fn both_clients_stop_on_whichever_source_says_so() {
    for name in ["select_blocking", "select_event_loop"] {
        // Each source speaks 4 times before the chosen one says stop.
        let [lines, _, _] = summary(name, "server", &run(name, "server", false).0);
        assert_eq!(lines, 4, "{name}: every server line before its stop");
        let [_, messages, _] = summary(name, "producer", &run(name, "producer", false).0);
        assert_eq!(
            messages, 4,
            "{name}: every message before the producer's stop"
        );
        let [_, _, ticks] = summary(name, "tick", &run(name, "tick", false).0);
        assert_eq!(ticks, 4, "{name}: stopped at the fourth tick");
    }
}

#[test]
fn the_event_loop_client_shows_its_cancelled_waits() {
    let (output, stderr) = run("select_event_loop", "server", true);
    summary("select_event_loop", "server", &output);
    let cancelled = stderr
        .lines()
        .filter(|line| line.contains("cancels a pending wait (select: "))
        .count();
    // Every wake-up that one source wins drops the others' waits.
    assert!(cancelled >= 4, "{cancelled} cancelled waits in:\n{stderr}");
}
