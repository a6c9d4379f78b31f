//! HTTP/1.1 server on the blocking runtime: a thread per connection.
//!
//! Each connection gets an OS thread of its own (`duet::blocking::spawn`),
//! which reads requests, answers `GET /` with a small page, and keeps the
//! connection open for the next request (keep-alive) until the client
//! closes it or asks to. The HTTP itself, parsing and responses, is in
//! `common/http.rs`, shared with the twin; this file only moves bytes.
//! Diff it with `http_event_loop.rs`: the same server with a task per
//! connection, all on one thread; the difference is `async`, `.await` and
//! the module path, plus how waits are bounded (socket timeouts here, a
//! timer there) and what happens when the OS has no thread to spare.
//!
//! Run: `cargo run --release --example http_blocking`, then
//! `curl -v http://127.0.0.1:8080/`, or load it with
//! `wrk -t2 -c100 -d3s http://127.0.0.1:8080/`. `--help` lists the flags.
//!
//! A connection must send its next whole request (head and body) within
//! `--idle-timeout` seconds (10 by default) of connecting or of the last
//! response, and read what we send within as long; else it is closed. So
//! neither an idle keep-alive connection nor a head sent a byte at a time
//! holds a thread for ever.
//!
//! When the OS refuses to start a thread (`ulimit -u`, a container's task
//! limit), that one connection is closed and the server goes on, and
//! serves again once threads end.

#[path = "common/cli.rs"]
mod cli;
#[path = "common/http.rs"]
mod http;

use duet::blocking::net::{TcpListener, TcpStream};
use duet::blocking::{Runtime, sleep, try_spawn};
use std::io;
use std::net::Shutdown;
use std::time::{Duration, Instant};

const EXAMPLE: cli::Example = cli::Example {
    name: "http_blocking",
    about: "HTTP/1.1 server on duet::blocking: one OS thread per connection.",
    default_addr: "127.0.0.1:8080",
    self_test: false,
    idle_timeout: true,
};

/// How long a closing connection waits for the client to finish sending.
const LINGER: Duration = Duration::from_secs(1);

fn main() -> io::Result<()> {
    let options = cli::parse(&EXAMPLE);
    let rt = Runtime::new();
    let listener = TcpListener::bind(&options.addr)?;
    cli::announce(listener.local_addr()?)?;
    rt.block_on(|| serve(listener, options.idle_timeout));
    Ok(())
}

/// Accepts connections forever, each on a new thread.
fn serve(listener: TcpListener, idle: Duration) {
    let mut refusals = cli::Refusals::default();
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                // Detached: it runs until its client goes away. An error
                // ends this connection only, never the server.
                let connection = try_spawn(move || {
                    if let Err(error) = answer(stream, idle) {
                        cli::report(peer, error);
                    }
                });
                // No thread to spare: the closure, and the stream in it,
                // were dropped, which closes this connection; the server
                // goes on. The first refusal is logged.
                refusals.note(connection.map(drop));
            }
            Err(error) => {
                // Say, out of file descriptors. Not the end of the server,
                // but retrying at once would only fail again at once.
                eprintln!("accept: {error}");
                sleep(Duration::from_millis(50));
            }
        }
    }
}

/// Answers requests until the client closes the connection, asks us to,
/// sends something we cannot parse, or is too slow (`idle`).
fn answer(mut stream: TcpStream, idle: Duration) -> io::Result<()> {
    // Each batch of responses is one write; send it at once rather than
    // let Nagle's algorithm hold it back waiting for an ACK.
    stream.set_nodelay(true)?;
    // No write waits longer than `idle`.
    stream.set_write_timeout(Some(idle))?;
    let mut connection = http::Connection::new();
    let mut buf = [0u8; 4096];
    let mut out = Vec::new();
    // The next request must be in by then.
    let mut deadline = Instant::now() + idle;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(()); // too slow: close
        }
        // This read waits no longer than what is left.
        stream.set_read_timeout(Some(left))?;
        let n = match stream.read(&mut buf) {
            Err(error) if cli::timed_out(&error) => return Ok(()), // too slow: close
            read => read?,
        };
        if n == 0 {
            return Ok(()); // the client closed its side
        }
        connection.receive(&buf[..n]);
        // One read may hold several requests (pipelining), or part of one.
        out.clear();
        let after = connection.respond(&mut out);
        if !out.is_empty() {
            deadline = Instant::now() + idle; // a request was answered
        }
        match stream.write_all(&out) {
            Err(error) if cli::timed_out(&error) => return Ok(()), // not reading: close
            written => written?,
        }
        if after == http::After::Close {
            linger(stream);
            return Ok(());
        }
    }
}

/// Closes so that the client gets to read our last response.
///
/// Closing a socket that still has unread bytes (the rest of a head over
/// 8 KiB, a request after `Connection: close`) makes the kernel send a
/// reset, and a reset can throw away the response before the client reads
/// it. So: send EOF, then read and discard until the client closes too,
/// giving up after about `LINGER`.
fn linger(mut stream: TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let mut scratch = [0u8; 4096];
    let deadline = Instant::now() + LINGER;
    // A thread bounds each read with a socket option, and the whole
    // wait with the deadline check.
    let _ = stream.set_read_timeout(Some(LINGER));
    while Instant::now() < deadline && matches!(stream.read(&mut scratch), Ok(1..)) {}
}
