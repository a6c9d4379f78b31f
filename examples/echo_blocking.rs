//! Echo server on the blocking runtime: a thread per connection.
//!
//! Each connection gets an OS thread of its own (`duet::blocking::spawn`),
//! which sleeps in `read` until the client sends something and writes it
//! straight back. Diff it with `echo_event_loop.rs`: the same server with a
//! task per connection, all on one thread; the difference is `async`,
//! `.await` and the module path, plus how `run` waits for the self-test.
//!
//! Run the server: `cargo run --release --example echo_blocking`, then talk
//! to it with `nc 127.0.0.1 7000`. Run the self-test:
//! `cargo run --release --example echo_blocking -- --clients 100` starts the
//! server and 100 client threads (`src/tour/load.rs`, the same for both
//! twins), each making 1,000 round trips of 64 bytes, and prints the rate
//! and the latency. `--help` lists the flags.
//!
//! A connection that sends nothing, or reads nothing of what comes back,
//! for `--idle-timeout` seconds (10 by default) is closed: a silent
//! client must not hold a thread for ever. When the OS refuses to start
//! a thread (`ulimit -u`, a container's task limit), that one connection
//! is closed and the server goes on, and serves again once threads end.

#[path = "common/cli.rs"]
mod cli;
#[path = "../src/tour/load.rs"]
mod load;

use duet::blocking::net::{TcpListener, TcpStream};
use duet::blocking::{Runtime, sleep, try_spawn_named};
use std::io;
use std::time::Duration;

const EXAMPLE: cli::Example = cli::Example {
    name: "echo_blocking",
    about: "Echo server on duet::blocking: one OS thread per connection.",
    default_addr: "127.0.0.1:7000",
    self_test: true,
    idle_timeout: true,
};

fn main() -> io::Result<()> {
    let options = cli::parse(&EXAMPLE);
    let rt = Runtime::new();
    let listener = TcpListener::bind(&options.addr)?;
    cli::announce(listener.local_addr()?)?;
    rt.block_on(|| run(listener, options))
}

/// Serves forever, or, with `--clients`, until the self-test is done.
fn run(listener: TcpListener, options: cli::Options) -> io::Result<()> {
    let idle = options.idle_timeout;
    let Some(clients) = options.clients else {
        serve(listener, idle);
        return Ok(());
    };
    let addr = listener.local_addr()?;
    let _server = try_spawn_named("server", move || serve(listener, idle))?;
    let load = load::start(addr, clients, options.rounds)?;
    // This thread may simply wait for the client threads: every
    // connection has a thread of its own, so the server goes on serving.
    let report = load.finish()?;
    println!("{report}");
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
                let connection = try_spawn_named("connection", move || {
                    if let Err(error) = echo(stream, idle) {
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

/// Sends back every byte the client sends, until it closes or stays
/// silent (or stops reading) for `idle`.
fn echo(mut stream: TcpStream, idle: Duration) -> io::Result<()> {
    // Small replies should leave at once, not wait for an ACK (Nagle).
    stream.set_nodelay(true)?;
    // No read or write waits longer than `idle`.
    stream.set_read_timeout(Some(idle))?;
    stream.set_write_timeout(Some(idle))?;
    let mut buf = [0u8; 4096];
    loop {
        let n = match stream.read(&mut buf) {
            Err(error) if cli::timed_out(&error) => return Ok(()), // silent: close
            read => read?,
        };
        if n == 0 {
            return Ok(()); // the client closed its side
        }
        match stream.write_all(&buf[..n]) {
            Err(error) if cli::timed_out(&error) => return Ok(()), // not reading: close
            written => written?,
        }
    }
}
