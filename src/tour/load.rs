//! The load generator: N client threads, each making R round trips of 64
//! bytes, timed one by one.
//!
//! It is plain `std`: std threads and std's blocking sockets, and no duet
//! at all, so when two servers' numbers differ, the server is the only
//! thing that differs. The tour's network workload drives its servers with
//! it from the parent process (so the clients' threads and memory never
//! count against the server being measured), and the echo examples include
//! this same file for their `--clients N` self-test
//! (`#[path = "../src/tour/load.rs"] mod load;`). There is no twin to diff
//! it with.
//!
//! The clients connect first and then wait for each other at a barrier,
//! so that the timed part measures round trips, not connection set-up.
//! Each client checks that every reply is exactly what it sent.
//!
//! Read next: `measure.rs`, which runs the workloads and measures them.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Bytes per message.
pub const MESSAGE_LEN: usize = 64;

/// Longer than any reply should take, short enough that a server that has
/// stopped answering fails the run instead of hanging it.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// The client threads, running.
pub struct Load {
    clients: Vec<JoinHandle<io::Result<Client>>>,
    rounds: usize,
}

/// What one client measured.
struct Client {
    latencies: Vec<Duration>,
    started: Instant,
    finished: Instant,
}

/// The result of a whole run; its `Display` is the line the examples print.
pub struct Report {
    clients: usize,
    rounds: usize,
    /// From the first client's first request to the last client's last reply.
    pub elapsed: Duration,
    /// The median round trip.
    pub p50: Duration,
    /// The round trip that 99% of round trips are no slower than.
    pub p99: Duration,
}

/// Starts `clients` threads that each connect to `addr` and make `rounds`
/// round trips. Returns at once; [`Load::finish`] waits for the results.
pub fn start(addr: SocketAddr, clients: usize, rounds: usize) -> io::Result<Load> {
    let barrier = Arc::new(Barrier::new(clients));
    let clients = (0..clients)
        .map(|id| {
            let barrier = barrier.clone();
            thread::Builder::new()
                .name(format!("load-client-{id}"))
                .spawn(move || client(addr, id, rounds, &barrier))
        })
        .collect::<io::Result<_>>()?;
    Ok(Load { clients, rounds })
}

impl Load {
    /// Waits for every client and sums up. Fails if any client failed (a
    /// refused connection, a reset, a wrong reply, a timeout).
    pub fn finish(self) -> io::Result<Report> {
        let count = self.clients.len();
        let mut results = Vec::with_capacity(count);
        for handle in self.clients {
            let result = handle
                .join()
                .map_err(|_| io::Error::other("a client thread panicked"))?;
            results.push(result?);
        }
        let started = results.iter().map(|c| c.started).min();
        let finished = results.iter().map(|c| c.finished).max();
        let elapsed = match (started, finished) {
            (Some(started), Some(finished)) => finished - started,
            _ => Duration::ZERO,
        };
        let mut latencies: Vec<Duration> = results.into_iter().flat_map(|c| c.latencies).collect();
        latencies.sort_unstable();
        Ok(Report {
            clients: count,
            rounds: self.rounds,
            elapsed,
            p50: percentile(&latencies, 50),
            p99: percentile(&latencies, 99),
        })
    }
}

/// One client: connect, wait for the others, then time each round trip.
fn client(addr: SocketAddr, id: usize, rounds: usize, barrier: &Barrier) -> io::Result<Client> {
    let connected = TcpStream::connect(addr);
    // Wait even if the connect failed, or the other clients would wait
    // for this one forever.
    barrier.wait();
    let mut stream = connected?;
    // Without this, Nagle's algorithm may hold a small write back for an
    // ACK, and every round trip would measure that instead of the server.
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(REPLY_TIMEOUT))?;
    stream.set_write_timeout(Some(REPLY_TIMEOUT))?;

    let mut message = [0u8; MESSAGE_LEN];
    let mut reply = [0u8; MESSAGE_LEN];
    let mut latencies = Vec::with_capacity(rounds);
    let started = Instant::now();
    for round in 0..rounds {
        // Different bytes every time, so a reply from the wrong client or
        // an old round cannot pass the check.
        for (i, byte) in message.iter_mut().enumerate() {
            *byte = (id * 31 + round * 7 + i) as u8;
        }
        let sent = Instant::now();
        stream.write_all(&message)?;
        stream.read_exact(&mut reply)?;
        latencies.push(sent.elapsed());
        if reply != message {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("client {id}, round {round}: the echo differs from what was sent"),
            ));
        }
    }
    Ok(Client {
        latencies,
        started,
        finished: Instant::now(),
    })
}

/// The nearest-rank percentile of sorted `values`: the smallest value that
/// at least `p`% of the values are no larger than.
pub fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted[rank - 1]
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} clients × {} round trips: {:.0} round trips/s, p50 {} µs, p99 {} µs",
            self.clients,
            self.rounds,
            (self.clients * self.rounds) as f64 / self.elapsed.as_secs_f64().max(1e-9),
            self.p50.as_micros(),
            self.p99.as_micros(),
        )
    }
}
