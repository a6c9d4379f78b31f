//! `echo_per_core_event_loop`, run as the program it is: one event loop
//! per core, fed connections in turn by an acceptor thread.
//!
//! The tests start the built example as a child process (the helpers in
//! `tests/support/examples.rs` bound every wait and kill the child when a
//! test ends, passing or failing) and check what a user would: it runs a
//! loop thread per core, the loops get equal shares of the connections,
//! every connection is echoed whichever loop took it, many connections at
//! once and out of order, a client that resets ends only its own
//! connection, and the self-test reports and exits.
//!
//! Read next: `examples/echo_per_core_event_loop.rs`, beside
//! `examples/echo_event_loop.rs`.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};
use support::examples::{Running, Server};

const NAME: &str = "echo_per_core_event_loop";

fn cores() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get())
}

fn round_trip(stream: &mut TcpStream, message: &[u8]) {
    stream.write_all(message).unwrap();
    let mut reply = vec![0; message.len()];
    stream.read_exact(&mut reply).unwrap();
    assert_eq!(reply, message);
}

/// The names of the server's threads, from /proc (Linux).
fn thread_names(pid: u32) -> Vec<String> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_string())
        .collect()
}

#[test]
fn runs_one_loop_thread_per_core() {
    let server = Server::start(NAME);
    let pid = server.process.child.id();
    let wanted: Vec<String> = (0..cores()).map(|core| format!("loop {core}")).collect();
    // The first line comes before the loops' threads start: wait for them,
    // boundedly.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let names = thread_names(pid);
        if wanted.iter().all(|name| names.contains(name)) {
            let loops = names.iter().filter(|n| n.starts_with("loop ")).count();
            assert_eq!(loops, cores(), "threads: {names:?}");
            break;
        }
        assert!(Instant::now() < deadline, "threads: {names:?}");
        thread::sleep(Duration::from_millis(10));
    }
}

/// How many sockets each epoll instance of process `pid` watches, from
/// /proc (Linux). Each event loop has one epoll instance, and registers a
/// connection's socket there when it first reads it.
fn sockets_per_epoll(pid: u32) -> Vec<usize> {
    let fd_dir = format!("/proc/{pid}/fd");
    let link = |fd: &str| std::fs::read_link(format!("{fd_dir}/{fd}")).ok();
    let mut counts: Vec<usize> = std::fs::read_dir(&fd_dir)
        .unwrap()
        .filter_map(|entry| {
            let fd = entry.ok()?.file_name().into_string().ok()?;
            if link(&fd)?.to_str()? != "anon_inode:[eventpoll]" {
                return None;
            }
            let info = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")).ok()?;
            let watched = info.lines().filter_map(|line| {
                let target = line.strip_prefix("tfd:")?.split_whitespace().next()?;
                link(target)
            });
            Some(
                watched
                    .filter(|l| l.to_string_lossy().starts_with("socket:"))
                    .count(),
            )
        })
        .collect();
    counts.sort();
    counts
}

#[test]
fn each_loop_serves_an_equal_share_of_the_connections() {
    const SHARE: usize = 4;
    let server = Server::start(NAME);
    let pid = server.process.child.id();
    // All connect at once, as a burst of clients does; one round trip
    // each makes every loop register the sockets it was given.
    let mut streams: Vec<TcpStream> = (0..SHARE * cores()).map(|_| server.connect()).collect();
    for stream in &mut streams {
        round_trip(stream, b"which loop am I on?");
    }
    assert_eq!(sockets_per_epoll(pid), vec![SHARE; cores()]);
}

#[test]
fn echoes_many_connections_at_once_in_any_order() {
    let server = Server::start(NAME);
    // More connections than loops, all open at once, so every loop holds
    // several; then each is used, last opened first.
    let mut streams: Vec<TcpStream> = (0..4 * cores() + 3).map(|_| server.connect()).collect();
    for round in 0..5u8 {
        for (i, stream) in streams.iter_mut().enumerate().rev() {
            let message: Vec<u8> = (0..64).map(|b| b ^ round ^ i as u8).collect();
            round_trip(stream, &message);
        }
    }
    // A silent connection holds up no other: the others were just served
    // while this one sent nothing, and it still works afterwards.
    let mut silent = server.connect();
    round_trip(&mut streams[0], b"while another waits");
    round_trip(&mut silent, b"late but served");
}

#[test]
fn a_reset_ends_only_its_own_connection() {
    let server = Server::start(NAME);
    let mut kept: Vec<TcpStream> = (0..2 * cores()).map(|_| server.connect()).collect();
    for _ in 0..2 * cores() {
        // Closing with unread bytes makes the kernel send a reset.
        let mut rude = server.connect();
        rude.write_all(b"echo me and then I'm gone").unwrap();
        let mut first = [0u8; 1];
        rude.read_exact(&mut first).unwrap(); // the echo has begun to arrive
        drop(rude);
    }
    for stream in &mut kept {
        round_trip(stream, b"still there?");
    }
    round_trip(&mut server.connect(), b"and new ones too");
}

#[test]
fn self_test_reports_and_exits() {
    let mut process = Running::start(
        NAME,
        &["--addr", "127.0.0.1:0", "--clients", "8", "--rounds", "50"],
    );
    let (status, output) = process.finish(Duration::from_secs(60));
    assert!(status.success(), "exited with {status}; output:\n{output}");
    let lines: Vec<&str> = output.lines().collect();
    assert_eq!(lines.len(), 2, "printed:\n{output}");
    assert!(lines[0].starts_with("listening on 127.0.0.1:"), "{output}");
    let report = lines[1]
        .strip_prefix("8 clients × 50 round trips: ")
        .unwrap_or_else(|| panic!("the report is {:?}", lines[1]));
    assert!(
        report.contains(" round trips/s, p50 ") && report.ends_with(" µs"),
        "{report:?}"
    );
}
