//! The tour binary (`cargo run --release`), run as a newcomer would run it:
//! a small tour succeeds and shows both runtimes and the explanation,
//! `--help` documents every flag, and a wrong flag is refused with exit
//! code 2.
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

#[test]
fn a_small_tour_shows_both_runtimes_and_explains_them() {
    let (status, output) = tour(&["--tasks", "20", "--wait-ms", "10"]);
    assert!(status.success(), "the tour failed:\n{output}");
    for runtime in ["blocking", "event_loop"] {
        assert!(
            output
                .lines()
                .any(|line| line.starts_with(runtime) && line.contains(" ms")),
            "no table row for {runtime}:\n{output}"
        );
    }
    assert!(output.contains("20 tasks each wait 10 ms"), "{output}");
    // The paragraph is word-wrapped; compare it with the line breaks gone.
    let flat = output.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("What the numbers show")
            && flat
                .contains("Async is not about more threads — it is about not needing one per wait"),
        "no explanation:\n{output}"
    );
}

#[test]
fn help_mentions_every_flag() {
    let (status, output) = tour(&["--help"]);
    assert!(status.success(), "{output}");
    for flag in ["--tasks", "--wait-ms", "--help"] {
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
