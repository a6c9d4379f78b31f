//! `accept` when the process is out of file descriptors (EMFILE).
//!
//! The trap: the pending connection stays in the kernel's queue, so the
//! listener stays readable, and a server that retries `accept` at once
//! spins at 100% CPU. duet's `accept` returns the error every time but
//! waits 50 ms (`RESOURCE_BACKOFF` in `net/listener.rs`) before the next
//! attempt, and the waiting client is accepted once descriptors free up.
//!
//! This is its own test binary, with one test, because running out of
//! descriptors is process-wide: any test running beside it would fail.

use duet::event_loop::net::TcpListener;
use duet::event_loop::{Runtime, timeout};
use std::fs::File;
use std::io::{Read, Write};
use std::panic::resume_unwind;
use std::process::Command;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

const EMFILE: i32 = 24;
const PATIENCE: Duration = Duration::from_secs(5);
const THREAD_PATIENCE: Duration = Duration::from_secs(10);
/// The listener's backoff after EMFILE (`RESOURCE_BACKOFF`, not exported).
const BACKOFF: Duration = Duration::from_millis(50);
/// How long the test keeps calling `accept` while out of descriptors.
const EXHAUSTED_FOR: Duration = Duration::from_millis(500);

/// This process's soft limit on open files, from /proc/self/limits.
fn soft_nofile() -> String {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .unwrap();
    line.split_whitespace().nth(3).unwrap().to_string()
}

/// Sets this process's soft limit on open files, keeping the hard limit.
fn set_soft_nofile(soft: &str) -> std::io::Result<bool> {
    let status = Command::new("prlimit")
        .arg("--pid")
        .arg(std::process::id().to_string())
        .arg(format!("--nofile={soft}:"))
        .status()?;
    Ok(status.success())
}

/// Puts the original limit back, even if the test fails.
struct RestoreLimit(String);

impl Drop for RestoreLimit {
    fn drop(&mut self) {
        let restored = set_soft_nofile(&self.0);
        if !matches!(restored, Ok(true)) && !thread::panicking() {
            panic!("could not restore the soft RLIMIT_NOFILE to {}", self.0);
        }
    }
}

#[test]
fn accept_out_of_file_descriptors_returns_the_error_without_spinning_and_keeps_the_client() {
    // Why: EMFILE leaves the listener readable: retry at once and the loop spins at 100% CPU.
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!("SKIPPED: the `prlimit` command is not installed (util-linux)");
        return;
    }
    let original = soft_nofile();
    match set_soft_nofile("256") {
        Ok(true) => {}
        other => {
            eprintln!("SKIPPED: prlimit could not lower RLIMIT_NOFILE ({other:?})");
            return;
        }
    }
    let _restore = RestoreLimit(original);
    assert_eq!(soft_nofile(), "256");

    // The loop runs on its own thread under a deadline: a busy loop inside
    // a poll could not be cut short by a timer.
    let (done_tx, done_rx) = mpsc::channel();
    let thread = thread::spawn(move || {
        let rt = Runtime::new().unwrap();
        let calls = rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            client.set_read_timeout(Some(PATIENCE)).unwrap();
            client.write_all(b"still here").unwrap();
            // The connection now waits in the listener's backlog.

            // Use up every descriptor.
            let mut files = Vec::new();
            let exhausted = loop {
                match File::open("/dev/null") {
                    Ok(file) => files.push(file),
                    Err(error) => break error,
                }
                assert!(files.len() < 1024, "the limit of 256 did not take effect");
            };
            assert_eq!(exhausted.raw_os_error(), Some(EMFILE), "{exhausted}");

            // Call accept for EXHAUSTED_FOR: every call must return EMFILE,
            // and the backoff keeps the number of calls small.
            let start = Instant::now();
            let mut calls = 0;
            while start.elapsed() < EXHAUSTED_FOR {
                let result = timeout(PATIENCE, listener.accept())
                    .await
                    .unwrap_or_else(|_| {
                        panic!("accept call {} hung instead of failing", calls + 1)
                    });
                calls += 1;
                match result {
                    Err(error) => assert_eq!(
                        error.raw_os_error(),
                        Some(EMFILE),
                        "accept call {calls} failed with {error}"
                    ),
                    Ok((_, peer)) => panic!("accept call {calls} succeeded ({peer}) with no fds"),
                }
            }
            let max_calls = (EXHAUSTED_FOR.as_millis() / BACKOFF.as_millis()) as usize * 2;
            assert!(
                calls <= max_calls,
                "{calls} accept calls in {EXHAUSTED_FOR:?}: the listener does not back off \
                 ({BACKOFF:?} between attempts allows at most about {})",
                max_calls / 2
            );
            assert!(
                calls >= 2,
                "only {calls} accept call(s) in {EXHAUSTED_FOR:?}"
            );

            // Free the descriptors: the waiting client is accepted.
            drop(files);
            let (mut stream, peer) = timeout(PATIENCE, listener.accept())
                .await
                .expect("accept hung after descriptors were freed")
                .expect("accept failed after descriptors were freed");
            assert_eq!(peer, client.local_addr().unwrap(), "the waiting client");
            let mut got = [0; 10];
            timeout(PATIENCE, stream.read_exact(&mut got))
                .await
                .expect("read hung")
                .unwrap();
            assert_eq!(&got, b"still here");
            stream.write_all(b"ok").await.unwrap();
            let mut reply = [0; 2];
            client.read_exact(&mut reply).unwrap();
            assert_eq!(&reply, b"ok");
            calls
        });
        let _ = done_tx.send(calls);
    });
    let outcome = done_rx.recv_timeout(THREAD_PATIENCE);
    let calls = match outcome {
        Ok(calls) => {
            thread.join().unwrap();
            calls
        }
        Err(RecvTimeoutError::Disconnected) => match thread.join() {
            Err(payload) => resume_unwind(payload),
            Ok(()) => unreachable!(),
        },
        Err(RecvTimeoutError::Timeout) => panic!("the event loop thread hung"),
    };
    eprintln!("{calls} accept calls while out of descriptors");
}
