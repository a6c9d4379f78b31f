//! HTTP/1.1 server on the event loop: a task per connection, one thread.
//!
//! Each connection gets a task of its own (`duet::event_loop::spawn`),
//! which reads requests, answers `GET /` with a small page, and keeps the
//! connection open for the next request (keep-alive) until the client
//! closes it or asks to. The HTTP itself, parsing and responses, is in
//! `common/http.rs`, shared with the twin; this file only moves bytes.
//! Diff it with `http_blocking.rs`: the same server with a thread per
//! connection; the difference is `async`, `.await` and the module path,
//! plus how waits are bounded (a timer here, socket timeouts there).
//!
//! Run: `cargo run --release --example http_event_loop`, then
//! `curl -v http://127.0.0.1:8080/`, or load it with
//! `wrk -t2 -c100 -d3s http://127.0.0.1:8080/`. `--help` lists the flags.
//!
//! A connection must send its next whole request (head and body) within
//! `--idle-timeout` seconds (10 by default) of connecting or of the last
//! response, and read what we send within as long; else it is closed. So
//! neither an idle keep-alive connection nor a head sent a byte at a time
//! holds a task for ever.

#[path = "common/cli.rs"]
mod cli;
#[path = "common/http.rs"]
mod http;

use duet::event_loop::net::{TcpListener, TcpStream};
use duet::event_loop::{Runtime, sleep, spawn, timeout};
use std::io;
use std::net::Shutdown;
use std::time::{Duration, Instant};

const EXAMPLE: cli::Example = cli::Example {
    name: "http_event_loop",
    about: "HTTP/1.1 server on duet::event_loop: one task per connection, one thread.",
    default_addr: "127.0.0.1:8080",
    self_test: false,
    idle_timeout: true,
};

/// How long a closing connection waits for the client to finish sending.
const LINGER: Duration = Duration::from_secs(1);

fn main() -> io::Result<()> {
    let options = cli::parse(&EXAMPLE);
    let rt = Runtime::new()?;
    let listener = TcpListener::bind(&options.addr)?;
    cli::announce(listener.local_addr()?)?;
    rt.block_on(serve(listener, options.idle_timeout));
    Ok(())
}

/// Accepts connections forever, each in a new task.
async fn serve(listener: TcpListener, idle: Duration) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                // Detached: it runs until its client goes away. An error
                // ends this connection only, never the server. (A task
                // needs no thread: nothing is refused here.)
                let _connection = spawn(async move {
                    if let Err(error) = answer(stream, idle).await {
                        cli::report(peer, error);
                    }
                });
            }
            Err(error) => {
                // Say, out of file descriptors. Not the end of the server,
                // but retrying at once would only fail again at once.
                eprintln!("accept: {error}");
                sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Answers requests until the client closes the connection, asks us to,
/// sends something we cannot parse, or is too slow (`idle`).
async fn answer(mut stream: TcpStream, idle: Duration) -> io::Result<()> {
    // Each batch of responses is one write; send it at once rather than
    // let Nagle's algorithm hold it back waiting for an ACK.
    stream.set_nodelay(true)?;
    // No read or write waits longer than `idle`: each races a timer below.
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
        let n = match timeout(left, stream.read(&mut buf)).await {
            Err(_elapsed) => return Ok(()), // too slow: close
            Ok(read) => read?,
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
        match timeout(idle, stream.write_all(&out)).await {
            Err(_elapsed) => return Ok(()), // not reading: close
            Ok(written) => written?,
        }
        if after == http::After::Close {
            linger(stream).await;
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
/// giving up after `LINGER`.
async fn linger(mut stream: TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let mut scratch = [0u8; 4096];
    // A task bounds the whole wait by racing it against a timer.
    let drain = async { while let Ok(1..) = stream.read(&mut scratch).await {} };
    let _ = timeout(LINGER, drain).await;
}
