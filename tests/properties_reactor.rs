//! TCP through both runtimes, checked on random transfers: whatever the
//! chunk sizes and the pacing, every byte arrives once, in order.
//!
//! proptest generates a *transfer*: seeded random bytes, the sizes of the
//! chunks a writer hands to `write`, the buffer sizes of a reader's first
//! reads, and after each write or read a pause (none, a few `yield_now`s,
//! or a short sleep). The bytes go through a real TCP connection on
//! 127.0.0.1. On `duet::event_loop` the writer and the reader are two
//! tasks on one loop, so every wait for the socket is the reactor's work:
//! edge-triggered readiness, partial writes into a full send buffer,
//! reads of whatever has arrived (docs/PITFALLS.md #8). On `duet::blocking`
//! they are two threads using `std::io::Read` and `Write`. The rules:
//!
//! - no byte is lost, reordered or duplicated (the data is random, so a
//!   reordering shows);
//! - every `write` accepts `0 < n <= len` bytes, and they add up;
//! - after the last byte the reader sees EOF, `Ok(0)`, and again `Ok(0)`;
//! - with a half-close (`shutdown(Write)` after the data) the reader
//!   still sees every byte and then EOF, and can still answer: the other
//!   direction stays open;
//! - on the event loop, nothing stays registered with the reactor.
//!
//! Every wait is bounded: each case runs on a watchdog'd thread
//! (`within_for`), the event loop's transfer runs under `timeout`, and
//! blocking sockets get read and write timeouts.
//!
//! Read next: `tests/event_loop_net.rs` and `tests/pitfall_08_edge_triggered.rs`,
//! which show the reactor's rules one hand-picked case at a time.

mod support;
use support::*;

use duet::blocking;
use duet::event_loop::net::{Shutdown, TcpListener, TcpStream};
use duet::event_loop::{sleep, spawn, yield_now};
use proptest::prelude::*;
use std::fmt;
use std::io::{self, Read, Write};
use std::time::Duration;

/// The reader's buffer once its planned reads are done: it then reads in
/// this size until EOF.
const DRAIN: usize = 64 * 1024;

const MIB: usize = 1024 * 1024;

/// The most data one transfer sends. Twice what Linux loopback takes in
/// before a writer must wait for a reader that is not reading (about
/// 4 MiB, the largest send buffer `tcp_wmem` allows by default).
const MAX_LEN: usize = 8 * MIB;

/// What the writer or the reader does after one write or read.
#[derive(Clone, Copy)]
enum Pace {
    Straight,
    Yield(u8),
    Sleep(u8),
}

impl fmt::Debug for Pace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pace::Straight => Ok(()),
            Pace::Yield(n) => write!(f, " yield_now() x{n};"),
            Pace::Sleep(ms) => write!(f, " sleep({ms}ms);"),
        }
    }
}

/// One transfer: the data is `chunks` bytes of seeded random noise.
#[derive(Clone)]
struct Transfer {
    seed: u64,
    /// (bytes handed to `write` until all are taken, then the pause).
    chunks: Vec<(usize, Pace)>,
    /// (buffer size of one read, then the pause); then `DRAIN`-byte
    /// reads until EOF.
    reads: Vec<(usize, Pace)>,
}

impl Transfer {
    fn len(&self) -> usize {
        self.chunks.iter().map(|&(size, _)| size).sum()
    }

    /// Random bytes from `seed` (xorshift64): no 8-byte word repeats
    /// within a transfer, so a lost, repeated or swapped piece cannot go
    /// unseen.
    fn data(&self) -> Vec<u8> {
        let mut state = self.seed | 1; // xorshift must not start at 0
        let mut data = vec![0; self.len().next_multiple_of(8)];
        for word in data.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            word.copy_from_slice(&state.to_le_bytes());
        }
        data.truncate(self.len());
        data
    }
}

/// Prints the transfer as the two sides' code.
impl fmt::Debug for Transfer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "let data = random_bytes(seed = {:#x}, len = {});",
            self.seed,
            self.len()
        )?;
        write!(f, "writer:")?;
        for (size, pace) in &self.chunks {
            write!(f, " write_chunk({size});{pace:?}")?;
        }
        writeln!(f, " then close or shutdown(Write)")?;
        write!(f, "reader:")?;
        for (size, pace) in &self.reads {
            write!(f, " read(buf {size});{pace:?}")?;
        }
        write!(f, " then read(buf {DRAIN}) until Ok(0)")
    }
}

fn pace() -> impl Strategy<Value = Pace> {
    prop_oneof![
        3 => Just(Pace::Straight),
        2 => (1u8..=3).prop_map(Pace::Yield),
        1 => (0u8..=2).prop_map(Pace::Sleep),
    ]
}

fn transfer() -> impl Strategy<Value = Transfer> {
    // Tiny chunks, middling ones, and some larger than the socket takes in
    // at once. On the event loop the reader cannot drain while the writer
    // runs (one thread), so a large chunk, or a run of chunks with no
    // pause between them, ends in a partial write and a wait for
    // writability.
    let chunk = prop_oneof![
        3 => 1usize..=64,
        3 => 65usize..=8192,
        2 => 8193usize..=262_144,
        1 => 262_145usize..=5 * MIB,
    ];
    let read = prop_oneof![1usize..=16, 17usize..=4096, 4097usize..=DRAIN];
    (
        any::<u64>(),
        prop::collection::vec((chunk, pace()), 0..=12),
        prop::collection::vec((read, pace()), 0..=12),
    )
        .prop_map(|(seed, mut chunks, reads)| {
            // Keep the chunks that fit in MAX_LEN.
            let mut len = 0;
            chunks.retain(|&(size, _)| {
                len += size;
                len <= MAX_LEN
            });
            Transfer {
                seed,
                chunks,
                reads,
            }
        })
}

/// How the writer ends.
#[derive(Clone, Copy, PartialEq, Debug)]
enum End {
    /// Drops its stream.
    Close,
    /// `shutdown(Write)`, then reads the reader's answer (the count and a
    /// hash of what it received) on the same connection, then EOF.
    HalfClose,
}

/// What one run saw.
#[derive(Debug, Default)]
struct Seen {
    /// Every `write`: (bytes offered, bytes it took).
    writes: Vec<(usize, usize)>,
    received: Vec<u8>,
    /// What a read returned after the reader had seen EOF once.
    read_after_eof: usize,
    /// `HalfClose`: the reader's answer, as the writer read it, and what
    /// the writer's read after it returned.
    answer: Option<[u8; 16]>,
    writer_read_after_answer: Option<usize>,
    /// Event loop: sources still registered with the reactor at the end.
    io_sources_left: Option<usize>,
}

/// What the reader answers after a half-close: how many bytes it got and
/// their FNV-1a hash.
fn answer_for(received: &[u8]) -> [u8; 16] {
    let hash = received.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    });
    let mut answer = [0; 16];
    answer[..8].copy_from_slice(&(received.len() as u64).to_le_bytes());
    answer[8..].copy_from_slice(&hash.to_le_bytes());
    answer
}

// -------------------------------------------------------- event loop side

async fn pause(pace: Pace) {
    match pace {
        Pace::Straight => {}
        Pace::Yield(n) => {
            for _ in 0..n {
                yield_now().await;
            }
        }
        Pace::Sleep(ms) => sleep(Duration::from_millis(ms.into())).await,
    }
}

/// Writes each chunk with as many `write`s as it takes, pausing after it.
async fn write_side(
    mut stream: TcpStream,
    chunks: Vec<(usize, Pace)>,
    data: Vec<u8>,
    end: End,
) -> io::Result<Seen> {
    let mut seen = Seen::default();
    let mut at = 0;
    for (size, pace) in chunks {
        let chunk = &data[at..at + size];
        let mut sent = 0;
        while sent < size {
            let n = stream.write(&chunk[sent..]).await?;
            seen.writes.push((size - sent, n));
            if n == 0 {
                return Ok(seen); // would loop forever; the check reports it
            }
            sent += n;
        }
        at += size;
        pause(pace).await;
    }
    if end == End::HalfClose {
        stream.shutdown(Shutdown::Write)?;
        let mut answer = [0; 16];
        stream.read_exact(&mut answer).await?;
        seen.answer = Some(answer);
        seen.writer_read_after_answer = Some(stream.read(&mut [0; 16]).await?);
    }
    Ok(seen)
}

/// Reads with the planned buffer sizes, then in `DRAIN`-byte reads, until
/// EOF; reads once more; after a half-close, answers.
async fn read_side(mut stream: TcpStream, reads: Vec<(usize, Pace)>, end: End) -> io::Result<Seen> {
    let mut seen = Seen::default();
    let mut buf = vec![0; DRAIN];
    let mut plan = reads
        .into_iter()
        .chain(std::iter::repeat((DRAIN, Pace::Straight)));
    loop {
        let (size, pace) = plan.next().expect("the plan never runs out");
        let n = stream.read(&mut buf[..size]).await?;
        if n == 0 {
            break;
        }
        seen.received.extend_from_slice(&buf[..n]);
        pause(pace).await;
    }
    seen.read_after_eof = stream.read(&mut buf).await?;
    if end == End::HalfClose {
        stream.write_all(&answer_for(&seen.received)).await?;
    }
    Ok(seen)
}

fn on_event_loop(transfer: &Transfer, data: &[u8], end: End) -> Seen {
    let (transfer, data) = (transfer.clone(), data.to_vec());
    within_for(THREAD_PATIENCE, move || {
        let rt = runtime();
        let (written, read) = rt.block_on(bounded_as("the transfer", async move {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = listener.local_addr().expect("local_addr");
            let connecting = spawn(TcpStream::connect(addr));
            let (server, _) = listener.accept().await.expect("accept");
            let client = connecting.await.expect("no panic").expect("connect");
            drop(listener);
            let writer = spawn(write_side(client, transfer.chunks, data, end));
            let reader = spawn(read_side(server, transfer.reads, end));
            let written = writer.await.expect("the writer does not panic");
            let read = reader.await.expect("the reader does not panic");
            (written, read)
        }));
        let (written, read) = (written.expect("writer I/O"), read.expect("reader I/O"));
        Seen {
            writes: written.writes,
            answer: written.answer,
            writer_read_after_answer: written.writer_read_after_answer,
            received: read.received,
            read_after_eof: read.read_after_eof,
            io_sources_left: Some(debug_count(&rt, "io_sources")),
        }
    })
}

// ---------------------------------------------------------- blocking side

fn pause_blocking(pace: Pace) {
    match pace {
        Pace::Straight => {}
        Pace::Yield(n) => (0..n).for_each(|_| blocking::yield_now()),
        Pace::Sleep(ms) => blocking::sleep(Duration::from_millis(ms.into())),
    }
}

/// `write_side`, on a thread, through `std::io::Write`.
fn write_side_blocking(
    mut stream: blocking::net::TcpStream,
    chunks: Vec<(usize, Pace)>,
    data: Vec<u8>,
    end: End,
) -> io::Result<Seen> {
    let mut seen = Seen::default();
    let mut at = 0;
    for (size, pace) in chunks {
        let chunk = &data[at..at + size];
        let mut sent = 0;
        while sent < size {
            let n = Write::write(&mut stream, &chunk[sent..])?;
            seen.writes.push((size - sent, n));
            if n == 0 {
                return Ok(seen);
            }
            sent += n;
        }
        at += size;
        pause_blocking(pace);
    }
    if end == End::HalfClose {
        stream.shutdown(blocking::net::Shutdown::Write)?;
        let mut answer = [0; 16];
        Read::read_exact(&mut stream, &mut answer)?;
        seen.answer = Some(answer);
        seen.writer_read_after_answer = Some(Read::read(&mut stream, &mut [0; 16])?);
    }
    Ok(seen)
}

/// `read_side`, on a thread, through `std::io::Read`.
fn read_side_blocking(
    mut stream: blocking::net::TcpStream,
    reads: Vec<(usize, Pace)>,
    end: End,
) -> io::Result<Seen> {
    let mut seen = Seen::default();
    let mut buf = vec![0; DRAIN];
    let mut plan = reads
        .into_iter()
        .chain(std::iter::repeat((DRAIN, Pace::Straight)));
    loop {
        let (size, pace) = plan.next().expect("the plan never runs out");
        let n = Read::read(&mut stream, &mut buf[..size])?;
        if n == 0 {
            break;
        }
        seen.received.extend_from_slice(&buf[..n]);
        pause_blocking(pace);
    }
    seen.read_after_eof = Read::read(&mut stream, &mut buf)?;
    if end == End::HalfClose {
        Write::write_all(&mut stream, &answer_for(&seen.received))?;
    }
    Ok(seen)
}

fn on_blocking(transfer: &Transfer, data: &[u8], end: End) -> Seen {
    let (transfer, data) = (transfer.clone(), data.to_vec());
    within_for(THREAD_PATIENCE, move || {
        blocking::Runtime::new().block_on(move || {
            let listener = blocking::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let client = blocking::net::TcpStream::connect(listener.local_addr().expect("addr"))
                .expect("connect");
            let (server, _) = listener.accept().expect("accept");
            // A bug makes a read or write fail after this long, not hang.
            for stream in [&client, &server] {
                stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
                stream.set_write_timeout(Some(PATIENCE)).expect("timeout");
            }
            let (chunks, reads) = (transfer.chunks, transfer.reads);
            let writer = blocking::spawn(move || write_side_blocking(client, chunks, data, end));
            let reader = blocking::spawn(move || read_side_blocking(server, reads, end));
            let written = writer.join().expect("the writer does not panic");
            let read = reader.join().expect("the reader does not panic");
            let (written, read) = (written.expect("writer I/O"), read.expect("reader I/O"));
            Seen {
                writes: written.writes,
                answer: written.answer,
                writer_read_after_answer: written.writer_read_after_answer,
                received: read.received,
                read_after_eof: read.read_after_eof,
                io_sources_left: None,
            }
        })
    })
}

// --------------------------------------------------------------- checks

/// The rules every run keeps, whichever runtime moved the bytes.
fn check(data: &[u8], end: End, seen: &Seen) -> Result<(), TestCaseError> {
    for &(offered, took) in &seen.writes {
        prop_assert!(
            0 < took && took <= offered,
            "a write of {} bytes took {}",
            offered,
            took
        );
    }
    let written: usize = seen.writes.iter().map(|&(_, took)| took).sum();
    prop_assert_eq!(
        written,
        data.len(),
        "the writes took more or less than the data"
    );
    if seen.received == data {
        // The one outcome that passes; the search below says how it failed.
    } else if let Some(at) =
        (0..data.len().min(seen.received.len())).find(|&i| seen.received[i] != data[i])
    {
        prop_assert!(
            false,
            "byte {} differs: sent {:02x?}, received {:02x?} (a byte lost, reordered or duplicated)",
            at,
            &data[at..data.len().min(at + 8)],
            &seen.received[at..seen.received.len().min(at + 8)]
        );
    }
    prop_assert_eq!(
        seen.received.len(),
        data.len(),
        "received {} bytes of {}",
        seen.received.len(),
        data.len()
    );
    prop_assert_eq!(seen.read_after_eof, 0, "a read after EOF returned data");
    if end == End::HalfClose {
        prop_assert_eq!(
            seen.answer,
            Some(answer_for(data)),
            "the reader's answer after the half-close"
        );
        prop_assert_eq!(
            seen.writer_read_after_answer,
            Some(0),
            "the writer did not see EOF after the answer"
        );
    }
    if let Some(left) = seen.io_sources_left {
        prop_assert_eq!(left, 0, "sockets left registered with the reactor");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 32,
        // A hanging case costs seconds: shrink for a bounded time.
        max_shrink_time: 60_000,
        ..ProptestConfig::default()
    })]

    /// On the event loop, every byte arrives once and in order, then EOF,
    /// whatever the chunking and pacing: a reactor that misses an edge
    /// hangs, one that clears readiness too eagerly stalls, and one that
    /// mishandles a partial write loses or repeats bytes.
    #[test]
    fn event_loop_tcp_never_loses_reorders_or_duplicates_a_byte(transfer in transfer()) {
        let data = transfer.data();
        check(&data, End::Close, &on_event_loop(&transfer, &data, End::Close))?;
    }

    /// After the writer's `shutdown(Write)` the reader on the event loop
    /// sees every byte, then EOF, and can still answer: a half-close is how
    /// a client says "that was my whole request" and still gets a reply.
    #[test]
    fn event_loop_half_close_delivers_everything_then_eof(transfer in transfer()) {
        let data = transfer.data();
        check(&data, End::HalfClose, &on_event_loop(&transfer, &data, End::HalfClose))?;
    }

    /// The same transfers on threads with std's blocking `Read` and
    /// `Write`: the reference the event loop must agree with.
    #[test]
    fn blocking_tcp_never_loses_reorders_or_duplicates_a_byte(transfer in transfer()) {
        let data = transfer.data();
        check(&data, End::Close, &on_blocking(&transfer, &data, End::Close))?;
    }

    /// The half-close on threads: every byte, then EOF, then the answer
    /// comes back on the direction that is still open.
    #[test]
    fn blocking_half_close_delivers_everything_then_eof(transfer in transfer()) {
        let data = transfer.data();
        check(&data, End::HalfClose, &on_blocking(&transfer, &data, End::HalfClose))?;
    }
}
