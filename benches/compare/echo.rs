//! tcp_echo: C connections × R round trips of 64 bytes against an echo
//! server on each runtime, driven by one load generator that is the same
//! for all three: a single thread on mio, so the server gets the other
//! core and the generator is never the bottleneck of one runtime only.

use super::table::Table;
use mio::net::TcpStream as MioStream;
use mio::{Events, Interest, Poll, Token};
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const MESSAGE: usize = 64;

pub fn run(table: &mut Table, quick: bool) {
    let shapes: &[(usize, usize)] = if quick {
        &[(100, 100), (1_000, 10)]
    } else {
        &[(100, 1_000), (1_000, 100)]
    };
    // The server's own code is a few percent of its time; the rest is the
    // kernel, whose scheduling varies from run to run. So each cell is the
    // median of several runs, taken in turns (duet, tokio, blocking, duet,
    // ...) so that a slow spell of the machine hits all three alike.
    let repeats = if quick { 1 } else { 5 };
    for &(connections, rounds) in shapes {
        let servers = [Server::EventLoop, Server::Tokio, Server::Blocking];
        let mut runs: [Vec<EchoResult>; 3] = Default::default();
        for _ in 0..repeats {
            for (i, &server) in servers.iter().enumerate() {
                runs[i].push(measure(server, connections, rounds));
            }
        }
        let results = runs.map(median_run);
        let name = format!("tcp_echo {connections} x {rounds}");
        table.add(
            &format!("{name}: round trips/s"),
            "/s",
            false,
            results.map(|r| Some(r.per_second)),
        );
        table.add(
            &format!("{name}: p99 latency"),
            "us",
            true,
            results.map(|r| Some(r.p99_us)),
        );
        table.add(
            &format!("{name}: server CPU/trip"),
            "us",
            true,
            results.map(|r| Some(r.server_cpu_us)),
        );
    }
}

#[derive(Clone, Copy)]
enum Server {
    EventLoop,
    Tokio,
    Blocking,
}

#[derive(Clone, Copy, Default)]
struct EchoResult {
    per_second: f64,
    p99_us: f64,
    /// CPU time the server's threads spent per round trip, in user space
    /// and in the kernel: the cost of serving, apart from the scheduling
    /// luck that moves throughput by a few percent from run to run.
    server_cpu_us: f64,
}

/// The run with the median throughput (its latency comes with it).
fn median_run(mut runs: Vec<EchoResult>) -> EchoResult {
    runs.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
    runs[runs.len() / 2]
}

fn measure(server: Server, connections: usize, rounds: usize) -> EchoResult {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    // Named, so that `perf report --sort comm` tells the servers apart.
    let name = match server {
        Server::EventLoop => "echo-event_loop",
        Server::Tokio => "echo-tokio",
        Server::Blocking => "echo-blocking",
    };
    let thread = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || match server {
            Server::EventLoop => event_loop_server(listener, stopped),
            Server::Tokio => tokio_server(listener, stopped),
            Server::Blocking => blocking_server(listener, stopped),
        })
        .unwrap();
    let mut result = generate_load(addr, connections, rounds);
    stop.send(()).unwrap();
    // Wake a server blocked in accept, so it sees the stop.
    drop(std::net::TcpStream::connect(addr));
    let server_cpu = thread.join().unwrap();
    result.server_cpu_us = server_cpu.as_secs_f64() * 1e6 / (connections * rounds) as f64;
    result
}

/// The CPU time the calling thread has used so far (the first field of
/// /proc/thread-self/schedstat, in nanoseconds).
fn thread_cpu() -> Duration {
    let schedstat = std::fs::read_to_string("/proc/thread-self/schedstat")
        .expect("/proc/thread-self/schedstat (Linux)");
    let nanos = schedstat
        .split_whitespace()
        .next()
        .and_then(|field| field.parse().ok())
        .expect("schedstat starts with the time on CPU");
    Duration::from_nanos(nanos)
}

/// Each server returns the CPU time its threads used.
fn event_loop_server(
    listener: std::net::TcpListener,
    stop: std::sync::mpsc::Receiver<()>,
) -> Duration {
    use duet::event_loop::net::TcpListener;
    let rt = duet::event_loop::Runtime::new().unwrap();
    let listener = TcpListener::from_std(listener).unwrap();
    rt.block_on(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            if stop.try_recv().is_ok() {
                return thread_cpu();
            }
            stream.set_nodelay(true).unwrap();
            duet::event_loop::spawn(async move {
                let mut buf = [0u8; 1024];
                while let Ok(n @ 1..) = stream.read(&mut buf).await {
                    if stream.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    })
}

fn tokio_server(listener: std::net::TcpListener, stop: std::sync::mpsc::Receiver<()>) -> Duration {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        listener.set_nonblocking(true).unwrap();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            if stop.try_recv().is_ok() {
                return thread_cpu();
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
    })
}

fn blocking_server(
    listener: std::net::TcpListener,
    stop: std::sync::mpsc::Receiver<()>,
) -> Duration {
    let listener = duet::blocking::net::TcpListener::from_std(listener).unwrap();
    let mut connections = Vec::new();
    loop {
        let (mut stream, _) = listener.accept().unwrap();
        if stop.try_recv().is_ok() {
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
/// all at once, on one thread. Returns throughput and p99 latency.
fn generate_load(addr: SocketAddr, connections: usize, rounds: usize) -> EchoResult {
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
    EchoResult {
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p99_us: latencies[latencies.len() * 99 / 100].as_secs_f64() * 1e6,
        server_cpu_us: 0.0, // filled in by `measure`, which knows the server
    }
}
