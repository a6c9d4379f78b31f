//! Echo server on the event loop: a task per connection, one thread.
//!
//! Each connection gets a task of its own (`duet::event_loop::spawn`),
//! which awaits `read` until the client sends something and writes it
//! straight back; while it waits, the loop runs the other tasks. Diff it
//! with `echo_blocking.rs`: the same server with a thread per connection;
//! the difference is `async`, `.await` and the module path, plus how `run`
//! waits for the self-test.
//!
//! Run the server: `cargo run --release --example echo_event_loop`, then
//! talk to it with `nc 127.0.0.1 7000`. Run the self-test:
//! `cargo run --release --example echo_event_loop -- --clients 100` starts
//! the server and 100 client threads (`src/tour/load.rs`, the same for both
//! twins), each making 1,000 round trips of 64 bytes, and prints the rate
//! and the latency. `--help` lists the flags.
//!
//! A connection that sends nothing, or reads nothing of what comes back,
//! for `--idle-timeout` seconds (10 by default) is closed: a silent
//! client must not hold a task for ever.

#[path = "common/cli.rs"]
mod cli;
#[path = "../src/tour/load.rs"]
mod load;

use duet::event_loop::net::{TcpListener, TcpStream};
use duet::event_loop::{Runtime, sleep, spawn_blocking, spawn_named, timeout};
use std::io;
use std::time::Duration;

const EXAMPLE: cli::Example = cli::Example {
    name: "echo_event_loop",
    about: "Echo server on duet::event_loop: one task per connection, one thread.",
    default_addr: "127.0.0.1:7000",
    self_test: true,
    idle_timeout: true,
};

fn main() -> io::Result<()> {
    let options = cli::parse(&EXAMPLE);
    let rt = Runtime::new()?;
    let listener = TcpListener::bind(&options.addr)?;
    cli::announce(listener.local_addr()?)?;
    rt.block_on(run(listener, options))
}

/// Serves forever, or, with `--clients`, until the self-test is done.
async fn run(listener: TcpListener, options: cli::Options) -> io::Result<()> {
    let idle = options.idle_timeout;
    let Some(clients) = options.clients else {
        serve(listener, idle).await;
        return Ok(());
    };
    let addr = listener.local_addr()?;
    let _server = spawn_named("server", serve(listener, idle));
    let load = load::start(addr, clients, options.rounds)?;
    // Waiting for the client threads here would block the loop thread,
    // and every connection's task with it: wait on a helper thread.
    let report = spawn_blocking(move || load.finish())
        .await
        .expect("finish does not panic")?;
    println!("{report}");
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
                let _connection = spawn_named("connection", async move {
                    if let Err(error) = echo(stream, idle).await {
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

/// Sends back every byte the client sends, until it closes or stays
/// silent (or stops reading) for `idle`.
async fn echo(mut stream: TcpStream, idle: Duration) -> io::Result<()> {
    // Small replies should leave at once, not wait for an ACK (Nagle).
    stream.set_nodelay(true)?;
    // No read or write waits longer than `idle`: each races a timer below.
    let mut buf = [0u8; 4096];
    loop {
        let n = match timeout(idle, stream.read(&mut buf)).await {
            Err(_elapsed) => return Ok(()), // silent: close
            Ok(read) => read?,
        };
        if n == 0 {
            return Ok(()); // the client closed its side
        }
        match timeout(idle, stream.write_all(&buf[..n])).await {
            Err(_elapsed) => return Ok(()), // not reading: close
            Ok(written) => written?,
        }
    }
}
