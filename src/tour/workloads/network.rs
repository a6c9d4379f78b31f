//! The network workload: a server that C clients each send R requests to,
//! one after another; every request takes the server S ms of *waiting*
//! (as if it asked a database) before the reply goes back.
//!
//! It answers the claim "blocking code can't serve many clients". It can:
//! with a thread per connection every client is served at once, at the
//! price of a thread (and its stack) each. What cannot serve many clients
//! is blocking code on *one* thread: it serves one connection to the end
//! before it accepts the next, so the last client waits for all the
//! others. The event loop serves every client at once on one thread.
//!
//! The server runs in the measured child process and serves exactly C
//! connections, then returns. The clients are `../load.rs`, run by the
//! parent process, so their threads and memory never count against the
//! server; they measure each request's latency, a round trip as a client
//! sees it. The server prints `listening on ADDR` first, as every server
//! in duet does, which is how the parent finds it.
//!
//! Read next: `../load.rs`, the clients that drive these servers.

use super::{Latencies, Params, RuntimeKind, joined};
use crate::tour::load::MESSAGE_LEN;
use std::io::{self, ErrorKind, Write};
use std::net::SocketAddr;
use std::time::Duration;

/// The measured run: serves `params.clients` connections on `runtime`,
/// telling the parent where it listens on stdout.
pub fn run(runtime: RuntimeKind, params: &Params) -> io::Result<Latencies> {
    let service = Duration::from_millis(params.service_ms);
    serve(runtime, params.clients, service, announce)?;
    Ok(Vec::new())
}

/// Listens on a free port of 127.0.0.1, calls `listening` with the
/// address, then serves `clients` connections on `runtime` and returns.
/// `listening` is [`announce`] in the measured child, and a channel to the
/// clients in the traced run (`../timeline.rs`).
pub fn serve(
    runtime: RuntimeKind,
    clients: usize,
    service: Duration,
    listening: impl FnOnce(SocketAddr) -> io::Result<()>,
) -> io::Result<()> {
    match runtime {
        RuntimeKind::OneThread => one_thread(clients, service, listening),
        RuntimeKind::ThreadPerTask => thread_per_task(clients, service, listening),
        RuntimeKind::EventLoop => event_loop(clients, service, listening),
        RuntimeKind::EventLoopPerCore => per_core(clients, service, listening),
    }
}

/// Straight-line code: serve one connection to its end, then the next.
fn one_thread(
    clients: usize,
    service: Duration,
    listening: impl FnOnce(SocketAddr) -> io::Result<()>,
) -> io::Result<()> {
    use duet::blocking::net::TcpListener;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    listening(listener.local_addr()?)?;
    for _ in 0..clients {
        let (stream, _) = listener.accept()?;
        answer_blocking(stream, service)?;
    }
    Ok(())
}

/// A thread per connection.
fn thread_per_task(
    clients: usize,
    service: Duration,
    listening: impl FnOnce(SocketAddr) -> io::Result<()>,
) -> io::Result<()> {
    use duet::blocking::{Runtime, net::TcpListener, spawn_named};
    let listener = TcpListener::bind("127.0.0.1:0")?;
    listening(listener.local_addr()?)?;
    Runtime::new().block_on(|| {
        let mut handles = Vec::with_capacity(clients);
        for client in 0..clients {
            let (stream, _) = listener.accept()?;
            // Named, so that traces and timelines say which connection.
            let name = format!("connection {client}");
            handles.push(spawn_named(name, move || answer_blocking(stream, service)));
        }
        for handle in handles {
            joined(handle.join())??;
        }
        Ok(())
    })
}

/// The event loop: a task per connection, all on one thread.
fn event_loop(
    clients: usize,
    service: Duration,
    listening: impl FnOnce(SocketAddr) -> io::Result<()>,
) -> io::Result<()> {
    use duet::event_loop::{Runtime, net::TcpListener, spawn_named};
    let rt = Runtime::new()?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    listening(listener.local_addr()?)?;
    rt.block_on(async {
        let mut handles = Vec::with_capacity(clients);
        for client in 0..clients {
            let (stream, _) = listener.accept().await?;
            let name = format!("connection {client}");
            handles.push(spawn_named(name, answer_event_loop(stream, service)));
        }
        for handle in handles {
            joined(handle.await)??;
        }
        Ok(())
    })
}

/// A loop per core: the event loop above on each core's thread, and this
/// thread accepting the connections and handing them to the loops in
/// turn (as `examples/echo_per_core_event_loop.rs` does), so each loop
/// serves an equal share. A connection stays on the loop it was handed
/// to. Once every client is handed out, dropping the loops' channels tells
/// each loop that it has its whole share.
fn per_core(
    clients: usize,
    service: Duration,
    listening: impl FnOnce(SocketAddr) -> io::Result<()>,
) -> io::Result<()> {
    use duet::event_loop::{Runtime, channel, net::TcpStream, spawn_named};
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listening(listener.local_addr()?)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|scope| {
        let mut inboxes = Vec::with_capacity(cores);
        let mut loops = Vec::with_capacity(cores);
        for _ in 0..cores {
            let (inbox, connections) = channel::unbounded::<(usize, std::net::TcpStream)>();
            inboxes.push(inbox);
            loops.push(scope.spawn(move || -> io::Result<()> {
                let rt = Runtime::new()?;
                rt.block_on(async {
                    let mut handles = Vec::new();
                    while let Some((client, stream)) = connections.recv().await {
                        let stream = TcpStream::from_std(stream)?;
                        let name = format!("connection {client}");
                        handles.push(spawn_named(name, answer_event_loop(stream, service)));
                    }
                    for handle in handles {
                        joined(handle.await)??;
                    }
                    Ok(())
                })
            }));
        }
        for client in 0..clients {
            let (stream, _) = listener.accept()?;
            let inbox = &inboxes[client % cores];
            if inbox.try_send((client, stream)).is_err() {
                break; // that loop failed: its error comes from `join` below
            }
        }
        drop(inboxes);
        loops
            .into_iter()
            .try_for_each(|event_loop| event_loop.join().expect("a loop does not panic"))
    })
}

/// One connection on a blocking thread: read a request, wait the service
/// time, send the reply, until the client hangs up.
fn answer_blocking(
    mut stream: duet::blocking::net::TcpStream,
    service: Duration,
) -> io::Result<()> {
    use duet::blocking::sleep;
    stream.set_nodelay(true)?;
    let mut request = [0u8; MESSAGE_LEN];
    loop {
        match stream.read_exact(&mut request) {
            Ok(()) => {}
            Err(error) if error.kind() == ErrorKind::UnexpectedEof => return Ok(()),
            Err(error) => return Err(error),
        }
        sleep(service);
        stream.write_all(&request)?;
    }
}

/// One connection as a task on the event loop: the same, with `.await`.
async fn answer_event_loop(
    mut stream: duet::event_loop::net::TcpStream,
    service: Duration,
) -> io::Result<()> {
    use duet::event_loop::sleep;
    stream.set_nodelay(true)?;
    let mut request = [0u8; MESSAGE_LEN];
    loop {
        match stream.read_exact(&mut request).await {
            Ok(()) => {}
            Err(error) if error.kind() == ErrorKind::UnexpectedEof => return Ok(()),
            Err(error) => return Err(error),
        }
        sleep(service).await;
        stream.write_all(&request).await?;
    }
}

/// The first line every duet server prints, flushed at once: the parent
/// is waiting for it to start the clients.
fn announce(addr: SocketAddr) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "listening on {addr}")?;
    stdout.flush()
}

/// The address in a `listening on ADDR` line, if it is one.
pub fn parse_announcement(line: &str) -> Option<SocketAddr> {
    line.strip_prefix("listening on ")?.trim().parse().ok()
}
