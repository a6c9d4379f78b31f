//! Echo server on every core: one event loop per core, each on a thread
//! of its own, and one thread that accepts and shares the connections out.
//!
//! One event loop runs on one thread, so it uses one core. To use them
//! all, run one loop per core: thread-per-core. Nothing in a connection's
//! life changes: `echo` below is that of `echo_event_loop.rs`, line for
//! line, idle timeout included (diff the two files). What changes is how
//! a connection reaches a loop. An `acceptor` thread waits in a plain
//! blocking `accept` (it has nothing else to do) and hands each new
//! connection to the next loop in turn, over that loop's channel. The
//! loop spawns a task, which wraps it (`TcpStream::from_std`); from then
//! on the connection stays on that loop, in that thread, for its whole
//! life. No task ever moves between threads, so none needs `Send`.
//!
//! Why not let every loop `accept` on a clone of the listener? The kernel
//! wakes all of them when connections arrive, and the first loop to run
//! takes most of the connections waiting, often all. Counted in `cargo bench`'s copy of
//! this server, 100 clients connecting at once were split 92/8, 100/0 and
//! 76/24 between two loops in three runs. Taking turns splits them
//! evenly, 50/50 (`tests/examples_per_core.rs` checks it).
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

use duet::event_loop::net::TcpStream;
use duet::event_loop::{Runtime, channel, spawn_named, timeout};
use std::io;
use std::net::SocketAddr;
use std::thread;
use std::time::Duration;

/// A connection on its way from the acceptor to a loop.
type NewConnection = (std::net::TcpStream, SocketAddr);

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
    let mut inboxes = Vec::with_capacity(cores);
    for core in 0..cores {
        let (inbox, connections) = channel::unbounded();
        inboxes.push(inbox);
        thread::Builder::new()
            .name(format!("loop {core}"))
            .spawn(move || match Runtime::new() {
                Ok(rt) => rt.block_on(serve(connections, idle)),
                // Its channel closes with it: the acceptor skips it.
                Err(error) => eprintln!("loop {core} could not start: {error}"),
            })?;
    }
    let acceptor = thread::Builder::new()
        .name("acceptor".to_string())
        .spawn(move || share_out(listener, inboxes))?;
    let Some(clients) = options.clients else {
        // Serve forever: the acceptor returns only once every loop has
        // stopped.
        acceptor.join().expect("the acceptor does not panic");
        return Err(io::Error::other("no event loop is running"));
    };
    // The self-test. This thread runs no loop, so it may simply block on
    // the clients; returning from main then ends the loops too.
    let report = load::start(addr, clients, options.rounds)?.finish()?;
    println!("{report}");
    Ok(())
}

/// Waits for connections (blocking: this thread has nothing else to do)
/// and hands each to the next loop in turn, so the loops share them
/// evenly. Returns once it finds that every loop has stopped.
fn share_out(listener: std::net::TcpListener, mut loops: Vec<channel::Sender<NewConnection>>) {
    let mut turn = 0;
    loop {
        let connection = match listener.accept() {
            Ok(connection) => connection,
            Err(error) => {
                // Say, out of file descriptors. Not the end of the server,
                // but retrying at once would only fail again at once.
                eprintln!("accept: {error}");
                thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        // Unbounded: `try_send` never waits, and a plain thread may call
        // it. It fails only if that loop has stopped: that loop leaves the
        // round, and the next one takes the connection.
        let mut unsent = Some(connection);
        while let Some(connection) = unsent.take() {
            if loops.is_empty() {
                return;
            }
            turn %= loops.len();
            match loops[turn].try_send(connection) {
                Ok(()) => turn += 1,
                Err(stopped) => {
                    loops.remove(turn);
                    unsent = Some(stopped.into_inner());
                }
            }
        }
    }
}

/// Serves the connections the acceptor hands this loop, each in a new
/// task.
async fn serve(connections: channel::Receiver<NewConnection>, idle: Duration) {
    while let Some((stream, peer)) = connections.recv().await {
        // Detached: it runs until its client goes away. An error ends
        // this connection only, never the server.
        let _connection = spawn_named("connection", async move {
            let echoed = match TcpStream::from_std(stream) {
                Ok(stream) => echo(stream, idle).await,
                Err(error) => Err(error),
            };
            if let Err(error) = echoed {
                cli::report(peer, error);
            }
        });
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
