//! Echo server on every core: one event loop per core, each on a thread
//! of its own, all accepting from the same listening socket.
//!
//! One event loop runs on one thread, so it uses one core. To use them
//! all, run one loop per core: thread-per-core. Nothing in a loop changes:
//! `serve` and `echo` below are those of `echo_event_loop.rs`, line for
//! line, idle timeout included (diff the two files). What changes is
//! `main`: it binds one std listener and hands each loop a clone of it
//! (`try_clone`: a second descriptor for the same socket). When a
//! connection arrives, the kernel wakes the loops waiting on that socket;
//! the first to call `accept` takes the connection, and it stays on that
//! loop, in that thread, for its whole life. A busy loop gets to `accept`
//! later, so new connections tend to go to the idle ones. No task ever
//! moves between threads, so none needs `Send`, and the loops share
//! nothing but the socket.
//!
//! Why no blocking twin of this file: `echo_blocking.rs` already uses
//! every core. Its threads, one per connection, are the kernel's to place,
//! and it spreads them over the cores by itself.
//!
//! Run the server: `cargo run --release --example echo_per_core_event_loop`,
//! then talk to it with `nc 127.0.0.1 7000`. Run the self-test:
//! `cargo run --release --example echo_per_core_event_loop -- --clients 100`
//! starts the loops and 100 client threads (`src/tour/load.rs`, as for the
//! other echo servers), each making 1,000 round trips of 64 bytes, and
//! prints the rate and the latency. `--help` lists the flags.

#[path = "common/cli.rs"]
mod cli;
#[path = "../src/tour/load.rs"]
mod load;

use duet::event_loop::net::{TcpListener, TcpStream};
use duet::event_loop::{Runtime, sleep, spawn_named, timeout};
use std::io;
use std::thread;
use std::time::Duration;

const EXAMPLE: cli::Example = cli::Example {
    name: "echo_per_core_event_loop",
    about: "Echo server on duet::event_loop: one loop per core, a task per connection.",
    default_addr: "127.0.0.1:7000",
    self_test: true,
    idle_timeout: true,
};

fn main() -> io::Result<()> {
    let options = cli::parse(&EXAMPLE);
    let listener = std::net::TcpListener::bind(&options.addr)?;
    let addr = listener.local_addr()?;
    cli::announce(addr)?;
    let idle = options.idle_timeout;
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let mut loops = Vec::with_capacity(cores);
    for core in 0..cores {
        let listener = listener.try_clone()?;
        let event_loop = thread::Builder::new().name(format!("loop {core}")).spawn(
            move || -> io::Result<()> {
                let rt = Runtime::new()?;
                let listener = TcpListener::from_std(listener)?;
                rt.block_on(serve(listener, idle));
                Ok(())
            },
        )?;
        loops.push(event_loop);
    }
    let Some(clients) = options.clients else {
        // Serve forever: the loops never return, unless one fails to start.
        for event_loop in loops {
            event_loop.join().expect("a loop does not panic")?;
        }
        return Ok(());
    };
    // The self-test. This thread runs no loop, so it may simply block on
    // the clients; returning from main then ends the loops too.
    let report = load::start(addr, clients, options.rounds)?.finish()?;
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
