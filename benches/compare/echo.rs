//! tcp_echo: C connections × R round trips of 64 bytes against an echo
//! server on each runtime, driven by one load generator that is the same
//! for all: a single thread on mio, in the same (fresh) process as the
//! server, so the server gets the other core and the generator is never
//! the bottleneck of one runtime only.
//!
//! The per-core rows run the servers that use every core: one duet event
//! loop per core (fed by an acceptor thread that hands the connections to
//! the loops in turn, as in `examples/echo_per_core_event_loop.rs`) and
//! tokio's multi-thread runtime with as many workers, beside duet's
//! single loop.

use super::child::{Metrics, thread_cpu};
use mio::net::TcpStream as MioStream;
use mio::{Events, Interest, Poll, Token};
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const MESSAGE: usize = 64;

/// One loop or worker per core.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// In the measuring child: `shape` is CONNECTIONSxROUNDS. Returns round
/// trips per second, p99 latency (µs) and the server's CPU per trip (µs),
/// or `None` if `runtime` has no echo server.
pub fn measure(runtime: &str, shape: &str) -> Option<Metrics> {
    let (connections, rounds) = shape.split_once('x')?;
    let (connections, rounds): (usize, usize) = (connections.parse().ok()?, rounds.parse().ok()?);
    let server: fn(std::net::TcpListener, Arc<AtomicBool>) -> Duration = match runtime {
        "duet" => event_loop_server,
        "tokio" => tokio_server,
        "smol" => super::smol::echo_server,
        "blocking" => blocking_server,
        "duet-per-core" => per_core_server,
        "tokio-mt" => tokio_mt_server,
        _ => return None,
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    // Named, so that `perf report --sort comm` tells the servers apart.
    let thread = std::thread::Builder::new()
        .name(format!("echo-{runtime}"))
        .spawn({
            let stop = stop.clone();
            move || server(listener, stop)
        })
        .unwrap();
    let result = generate_load(addr, connections, rounds);
    stop.store(true, Ordering::SeqCst);
    // Every server has one thread that accepts: knock, so that it wakes
    // and sees the stop.
    let wakers = std::net::TcpStream::connect(addr);
    let server_cpu = thread.join().unwrap();
    drop(wakers);
    let trips = (connections * rounds) as f64;
    Some(vec![
        ("per_s", result.0),
        ("p99_us", result.1),
        ("cpu_us", server_cpu.as_secs_f64() * 1e6 / trips),
    ])
}

/// Each server returns the CPU time its threads used.
fn event_loop_server(listener: std::net::TcpListener, stop: Arc<AtomicBool>) -> Duration {
    let rt = duet::event_loop::Runtime::new().unwrap();
    rt.block_on(event_loop_accept(listener, &stop))
}

/// duet's accept loop, one task per connection.
async fn event_loop_accept(listener: std::net::TcpListener, stop: &AtomicBool) -> Duration {
    use duet::event_loop::net::TcpListener;
    let listener = TcpListener::from_std(listener).unwrap();
    loop {
        let (stream, _) = listener.accept().await.unwrap();
        if stop.load(Ordering::SeqCst) {
            return thread_cpu();
        }
        duet::event_loop::spawn(event_loop_echo(stream));
    }
}

async fn event_loop_echo(mut stream: duet::event_loop::net::TcpStream) {
    stream.set_nodelay(true).unwrap();
    let mut buf = [0u8; 1024];
    while let Ok(n @ 1..) = stream.read(&mut buf).await {
        if stream.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
}

/// One duet event loop per core, each a thread of its own, and an
/// acceptor thread that hands each new connection to the next loop in
/// turn (loops that all accepted on one listener took connections
/// unevenly: 92/8, 100/0 and 76/24 of 100 in three runs).
fn per_core_server(listener: std::net::TcpListener, stop: Arc<AtomicBool>) -> Duration {
    use duet::event_loop::{channel, net::TcpStream};
    std::thread::scope(|scope| {
        let (inboxes, loops): (Vec<_>, Vec<_>) = (0..cores())
            .map(|_| {
                let (inbox, connections) = channel::unbounded::<std::net::TcpStream>();
                let event_loop = scope.spawn(move || {
                    let rt = duet::event_loop::Runtime::new().unwrap();
                    rt.block_on(async {
                        while let Some(stream) = connections.recv().await {
                            let stream = TcpStream::from_std(stream).unwrap();
                            duet::event_loop::spawn(event_loop_echo(stream));
                        }
                    });
                    thread_cpu()
                });
                (inbox, event_loop)
            })
            .unzip();
        for inbox in inboxes.iter().cycle() {
            let (stream, _) = listener.accept().unwrap();
            if stop.load(Ordering::SeqCst) {
                break;
            }
            inbox.try_send(stream).unwrap();
        }
        let acceptor = thread_cpu();
        drop(inboxes); // each loop's `recv` now ends, and so does its loop
        acceptor
            + loops
                .into_iter()
                .map(|l| l.join().unwrap())
                .sum::<Duration>()
    })
}

async fn tokio_accept(listener: std::net::TcpListener, stop: &AtomicBool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    listener.set_nonblocking(true).unwrap();
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    loop {
        let (mut stream, _) = listener.accept().await.unwrap();
        if stop.load(Ordering::SeqCst) {
            return;
        }
        stream.set_nodelay(true).unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            while let Ok(n @ 1..) = stream.read(&mut buf).await {
                if stream.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        });
    }
}

fn tokio_server(listener: std::net::TcpListener, stop: Arc<AtomicBool>) -> Duration {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(tokio_accept(listener, &stop));
    thread_cpu()
}

/// tokio's work-stealing runtime, one worker per core. The accept loop
/// is spawned, so it runs on a worker as the connections do; each worker
/// adds its CPU time up as it stops.
fn tokio_mt_server(listener: std::net::TcpListener, stop: Arc<AtomicBool>) -> Duration {
    let workers_cpu = Arc::new(AtomicU64::new(0));
    let on_stop = workers_cpu.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores())
        .enable_all()
        .on_thread_stop(move || {
            on_stop.fetch_add(thread_cpu().as_nanos() as u64, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    let accept = rt.spawn(async move { tokio_accept(listener, &stop).await });
    rt.block_on(accept).unwrap();
    drop(rt);
    Duration::from_nanos(workers_cpu.load(Ordering::SeqCst)) + thread_cpu()
}

fn blocking_server(listener: std::net::TcpListener, stop: Arc<AtomicBool>) -> Duration {
    let listener = duet::blocking::net::TcpListener::from_std(listener).unwrap();
    let mut connections = Vec::new();
    loop {
        let (mut stream, _) = listener.accept().unwrap();
        if stop.load(Ordering::SeqCst) {
            break;
        }
        stream.set_nodelay(true).unwrap();
        connections.push(duet::blocking::spawn(move || {
            let mut buf = [0u8; 1024];
            while let Ok(n @ 1..) = stream.read(&mut buf) {
                if stream.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            thread_cpu()
        }));
    }
    // The load generator has closed its connections, so every connection
    // thread is ending; add up what each used.
    let served: Duration = connections
        .into_iter()
        .map(|connection| connection.join().unwrap())
        .sum();
    served + thread_cpu()
}

/// One connection of the load generator.
struct Client {
    stream: MioStream,
    received: usize,
    rounds_left: usize,
    sent_at: Instant,
}

/// Opens `connections` connections and runs `rounds` round trips on each,
/// all at once, on one thread. Returns round trips per second and the
/// p99 latency in µs.
fn generate_load(addr: SocketAddr, connections: usize, rounds: usize) -> (f64, f64) {
    let mut poll = Poll::new().unwrap();
    let mut clients: Vec<Client> = (0..connections)
        .map(|i| {
            let std_stream = std::net::TcpStream::connect(addr).unwrap();
            std_stream.set_nodelay(true).unwrap();
            std_stream.set_nonblocking(true).unwrap();
            let mut stream = MioStream::from_std(std_stream);
            poll.registry()
                .register(&mut stream, Token(i), Interest::READABLE)
                .unwrap();
            Client {
                stream,
                received: 0,
                rounds_left: rounds,
                sent_at: Instant::now(),
            }
        })
        .collect();
    let message = [7u8; MESSAGE];
    let mut latencies = Vec::with_capacity(connections * rounds);
    let start = Instant::now();
    for client in &mut clients {
        client.sent_at = Instant::now();
        client.stream.write_all(&message).unwrap();
    }
    let mut events = Events::with_capacity(1024);
    let mut unfinished = connections;
    let mut buf = [0u8; 4096];
    while unfinished > 0 {
        poll.poll(&mut events, Some(Duration::from_secs(10)))
            .unwrap();
        assert!(!events.is_empty(), "the echo server stopped answering");
        for event in &events {
            let client = &mut clients[event.token().0];
            loop {
                match client.stream.read(&mut buf) {
                    Ok(0) => panic!("the echo server closed a connection"),
                    Ok(n) => client.received += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => panic!("load generator read failed: {e}"),
                }
            }
            while client.received >= MESSAGE && client.rounds_left > 0 {
                client.received -= MESSAGE;
                client.rounds_left -= 1;
                latencies.push(client.sent_at.elapsed());
                if client.rounds_left == 0 {
                    unfinished -= 1;
                } else {
                    client.sent_at = Instant::now();
                    // 64 bytes always fit in an idle socket's send buffer.
                    client.stream.write_all(&message).unwrap();
                }
            }
        }
    }
    let elapsed = start.elapsed();
    latencies.sort();
    (
        latencies.len() as f64 / elapsed.as_secs_f64(),
        latencies[latencies.len() * 99 / 100].as_secs_f64() * 1e6,
    )
}
