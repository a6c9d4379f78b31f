//! TCP, the reactor and `spawn_blocking` on the event loop.
//!
//! Each test is named for the rule it proves. No test may hang:
//!
//! - every `.await` that waits on the network is wrapped in `timeout`;
//! - every blocking socket has read and write timeouts;
//! - cross-thread waits use `recv_timeout`;
//! - and every event loop runs on its own thread, watched by the test
//!   thread with a deadline, so even a bug that spins inside one `poll`
//!   (where no timer can fire) fails the test instead of wedging CI.

mod support;
use support::*;

use duet::blocking::net as blocking_net;
use duet::event_loop::net::{Shutdown, TcpListener, TcpStream};
use duet::event_loop::{Runtime, sleep, spawn, spawn_blocking, timeout, yield_now};
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::future::{Future, pending, poll_fn};
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

const MIB: usize = 1 << 20;

// ---------------------------------------------------------------- helpers

/// Awaits `future`, calling `on_wait` each time it returns `Pending` to
/// really wait: without having woken itself during that poll. (A future
/// may also return `Pending` just to yield its turn, waking itself first;
/// that is not a wait for readiness, so it is not counted.)
async fn on_wait<F: Future>(future: F, mut on_wait: impl FnMut()) -> F::Output {
    /// Forwards wakes to the task's waker, noting that one happened.
    struct Noting {
        task: Waker,
        woken: AtomicBool,
    }
    impl Wake for Noting {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.woken.store(true, Ordering::SeqCst);
            self.task.wake_by_ref();
        }
    }
    let mut future = pin!(future);
    poll_fn(|cx| {
        let noting = Arc::new(Noting {
            task: cx.waker().clone(),
            woken: AtomicBool::new(false),
        });
        let waker = Waker::from(noting.clone());
        let poll = future.as_mut().poll(&mut Context::from_waker(&waker));
        if poll.is_pending() && !noting.woken.load(Ordering::SeqCst) {
            on_wait();
        }
        poll
    })
    .await
}

/// Awaits `future`, counting in `waits` every time it really waits.
async fn counting_waits<F: Future>(future: F, waits: &Cell<u32>) -> F::Output {
    on_wait(future, || waits.set(waits.get() + 1)).await
}

/// Waits (bounded) until `condition` holds, checking every millisecond.
async fn until(what: &str, condition: impl Fn() -> bool) {
    bounded_as(what, async {
        while !condition() {
            sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
}

/// Bytes that differ from one position to the next, so a lost, repeated or
/// reordered chunk shows up in a comparison.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// A std client with read and write timeouts, so it can never hang.
fn std_client(addr: SocketAddr) -> std::net::TcpStream {
    let stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.set_write_timeout(Some(PATIENCE)).unwrap();
    stream
}

/// A connected pair of event-loop streams: (client, server).
async fn event_loop_pair(listener: &TcpListener) -> (TcpStream, TcpStream) {
    let addr = listener.local_addr().unwrap();
    let client = bounded_as("connect", TcpStream::connect(addr))
        .await
        .unwrap();
    let (server, peer) = bounded_as("accept", listener.accept()).await.unwrap();
    assert_eq!(peer, client.local_addr().unwrap());
    (client, server)
}

/// Reads until EOF; returns everything read.
async fn read_to_end(stream: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0; 16 * 1024];
    loop {
        let n = bounded_as("read to EOF", stream.read(&mut buf))
            .await
            .unwrap();
        if n == 0 {
            return all;
        }
        all.extend_from_slice(&buf[..n]);
    }
}

/// Raises this process's soft limit on open files to at least `wanted` if
/// it is lower and the hard limit allows (with the `prlimit` command).
fn ensure_fd_limit(wanted: u64) {
    let soft = soft_fd_limit();
    if soft >= wanted {
        return;
    }
    let status = std::process::Command::new("prlimit")
        .arg("--pid")
        .arg(std::process::id().to_string())
        .arg(format!("--nofile={wanted}:"))
        .status();
    assert!(
        matches!(status, Ok(s) if s.success()) && soft_fd_limit() >= wanted,
        "this test needs {wanted} file descriptors but the soft limit is {soft} \
         and could not be raised (run `ulimit -n {wanted}` first)"
    );
}

fn soft_fd_limit() -> u64 {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .unwrap();
    let soft = line.split_whitespace().nth(3).unwrap();
    soft.parse().unwrap_or(u64::MAX) // "unlimited"
}

// ------------------------------------------------------- bulk transfers

/// A server that echoes in small chunks through `write` (not `write_all`)
/// must handle partial writes and wait for writability in between. The
/// client reads nothing until the server has had to wait, so the server's
/// send buffer really fills; every byte must come back intact.
///
/// Several MiB, not one: on Linux loopback a peer that does not read
/// absorbs up to the sender's maximum send buffer (`tcp_wmem`, 4 MiB by
/// default) before a writer has to wait, so 1 MiB would never exercise
/// the waiting path. We send twice that maximum.
#[test]
fn a_server_echoing_in_small_chunks_handles_partial_writes_and_waits_for_writability() {
    // Why: a short write ignored loses bytes; a write that cannot wait spins or stalls.
    let len = 2 * max_send_buffer().max(MIB);
    let data = pattern(len);
    let expected = data.clone();
    let (addr_tx, addr_rx) = mpsc::channel();
    // The client starts reading once the server has had to wait.
    let (server_says_start, start_reading_rx) = mpsc::channel::<()>();

    let server = thread::spawn(move || {
        within_for(THREAD_PATIENCE, move || {
            let rt = Runtime::new().unwrap();
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let (mut stream, _) = bounded_as("accept", listener.accept()).await.unwrap();
                let mut buf = [0; 8192];
                let (mut total, mut short_writes) = (0usize, 0u32);
                let write_waits = Cell::new(0);
                loop {
                    let n = bounded_as("server read", stream.read(&mut buf))
                        .await
                        .unwrap();
                    if n == 0 {
                        break;
                    }
                    let mut chunk = &buf[..n];
                    while !chunk.is_empty() {
                        // The moment a write has to wait, tell the client
                        // to start reading, or nothing would ever drain.
                        let write = on_wait(stream.write(chunk), || {
                            write_waits.set(write_waits.get() + 1);
                            let _ = server_says_start.send(());
                        });
                        let written = bounded_as("server write", write).await.unwrap();
                        assert!(
                            0 < written && written <= chunk.len(),
                            "write gave {written}"
                        );
                        if written < chunk.len() {
                            short_writes += 1;
                        }
                        chunk = &chunk[written..];
                    }
                    total += n;
                }
                stream.shutdown(Shutdown::Write).unwrap();
                (total, short_writes, write_waits.get())
            })
        })
    });

    let addr = addr_rx.recv_timeout(PATIENCE).unwrap();
    let client = blocking_net::TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(PATIENCE)).unwrap();
    client.set_write_timeout(Some(PATIENCE)).unwrap();
    let (mut rd, mut wr) = client.into_split().unwrap();
    let writer = thread::spawn(move || {
        wr.write_all(&data).unwrap();
        wr.shutdown().unwrap();
    });
    start_reading_rx
        .recv_timeout(PATIENCE)
        .expect("the server never had to wait for writability, though the client read nothing");
    let mut echoed = Vec::with_capacity(len);
    rd.read_to_end(&mut echoed).unwrap();
    assert!(
        echoed == expected,
        "echo differs ({} bytes back)",
        echoed.len()
    );
    writer.join().unwrap();
    let (total, short_writes, write_waits) = server.join().unwrap();
    assert_eq!(total, len);
    assert!(write_waits > 0);
    eprintln!("{write_waits} waits for writability, {short_writes} short writes");
}

/// The most a TCP send buffer may grow to (`tcp_wmem`'s third number).
fn max_send_buffer() -> usize {
    std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|text| text.split_whitespace().nth(2)?.parse().ok())
        .unwrap_or(4 * MIB)
}

/// An event-loop client writes 1 MiB with `write_all` while a second task
/// reads the echo from the other half of the same socket.
#[test]
fn one_mebibyte_from_a_split_event_loop_client_echoes_through_a_blocking_server() {
    // Why: write-all-then-read deadlocks once buffers fill; both halves must progress.
    let listener = blocking_net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        stream.set_write_timeout(Some(PATIENCE)).unwrap();
        let mut buf = [0; 8192];
        let mut total = 0;
        loop {
            let n = stream.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            stream.write_all(&buf[..n]).unwrap();
            total += n;
        }
        stream.shutdown(Shutdown::Write).unwrap();
        total
    });

    let echoed = within_for(THREAD_PATIENCE, move || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let stream = bounded_as("connect", TcpStream::connect(addr))
                .await
                .unwrap();
            let (mut rd, mut wr) = stream.into_split().unwrap();
            let reader = spawn(async move {
                let mut all = Vec::with_capacity(MIB);
                let mut buf = [0; 8192];
                loop {
                    let n = bounded_as("client read", rd.read(&mut buf)).await.unwrap();
                    if n == 0 {
                        return all;
                    }
                    all.extend_from_slice(&buf[..n]);
                }
            });
            bounded_as("write_all 1 MiB", wr.write_all(&pattern(MIB)))
                .await
                .unwrap();
            wr.shutdown().unwrap();
            bounded_as("the reader task", reader).await.unwrap()
        })
    });
    assert!(
        echoed == pattern(MIB),
        "echo differs ({} bytes back)",
        echoed.len()
    );
    assert_eq!(server.join().unwrap(), MIB);
}

// ------------------------------------------------------- many at once

/// One event-loop thread holds 1,000 open connections at once and answers
/// every one; no task ever runs on another thread.
#[test]
fn one_event_loop_thread_serves_a_thousand_concurrent_connections() {
    // Why: the point of an event loop: a waiting connection costs a task, not a thread.
    const CLIENT_THREADS: usize = 4;
    const PER_THREAD: usize = 250;
    const TOTAL: usize = CLIENT_THREADS * PER_THREAD;
    ensure_fd_limit(3 * TOTAL as u64);

    // std listens with a backlog of 128. A connection beyond it has its
    // handshake dropped and retried a second or more later, so clients
    // keep at most 64 connections waiting to be accepted.
    const MAX_UNACCEPTED: usize = 64;
    let accepted = Arc::new(AtomicUsize::new(0));
    let connected = Arc::new(AtomicUsize::new(0));

    let (addr_tx, addr_rx) = mpsc::channel();
    let (accepted_tx, accepted_rx) = mpsc::channel();
    let accepted_by_server = accepted.clone();
    let server = thread::spawn(move || {
        within_for(THREAD_PATIENCE, move || {
            let loop_thread = thread::current().id();
            let rt = Runtime::new().unwrap();
            rt.block_on(async {
                let seen: Rc<RefCell<HashSet<ThreadId>>> = Rc::default();
                let live = Rc::new(Cell::new(0usize));
                let max_live = Rc::new(Cell::new(0usize));
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let mut handles = Vec::with_capacity(TOTAL);
                for _ in 0..TOTAL {
                    let (mut stream, _) = bounded_as("accept", listener.accept()).await.unwrap();
                    accepted_by_server.fetch_add(1, Ordering::SeqCst);
                    seen.borrow_mut().insert(thread::current().id());
                    live.set(live.get() + 1);
                    max_live.set(max_live.get().max(live.get()));
                    let (seen, live) = (seen.clone(), live.clone());
                    handles.push(spawn(async move {
                        seen.borrow_mut().insert(thread::current().id());
                        let mut message = [0; 8];
                        bounded_as("server read", stream.read_exact(&mut message))
                            .await
                            .unwrap();
                        seen.borrow_mut().insert(thread::current().id());
                        bounded_as("server write", stream.write_all(&message))
                            .await
                            .unwrap();
                        seen.borrow_mut().insert(thread::current().id());
                        live.set(live.get() - 1);
                    }));
                }
                accepted_tx.send(()).unwrap();
                for handle in handles {
                    bounded_as("a connection task", handle).await.unwrap();
                }
                let seen = seen.borrow().clone();
                (
                    loop_thread,
                    seen,
                    max_live.get(),
                    debug_count(&rt, "io_sources"),
                )
            })
        })
    });

    let addr: SocketAddr = addr_rx.recv_timeout(PATIENCE).unwrap();
    let (connected_tx, connected_rx) = mpsc::channel();
    let (result_tx, result_rx) = mpsc::channel();
    let mut go_senders = Vec::new();
    let mut clients = Vec::new();
    for t in 0..CLIENT_THREADS {
        let (go_tx, go_rx) = mpsc::channel::<()>();
        go_senders.push(go_tx);
        let (connected_tx, result_tx) = (connected_tx.clone(), result_tx.clone());
        let (accepted, connected) = (accepted.clone(), connected.clone());
        clients.push(thread::spawn(move || {
            let deadline = Instant::now() + THREAD_PATIENCE;
            let mut streams = Vec::with_capacity(PER_THREAD);
            for id in t * PER_THREAD..(t + 1) * PER_THREAD {
                while connected.load(Ordering::SeqCst) - accepted.load(Ordering::SeqCst)
                    >= MAX_UNACCEPTED
                {
                    assert!(Instant::now() < deadline, "the server stopped accepting");
                    thread::sleep(Duration::from_micros(100));
                }
                // Counted before connecting, so never below `accepted`.
                connected.fetch_add(1, Ordering::SeqCst);
                streams.push((id as u64, std_client(addr)));
            }
            connected_tx.send(()).unwrap();
            // Nobody writes until every connection is open and accepted.
            go_rx.recv_timeout(THREAD_PATIENCE).unwrap();
            for (id, stream) in &mut streams {
                stream.write_all(&id.to_le_bytes()).unwrap();
            }
            let mut answered = 0;
            for (id, stream) in &mut streams {
                let mut echo = [0; 8];
                stream.read_exact(&mut echo).unwrap();
                assert_eq!(
                    u64::from_le_bytes(echo),
                    *id,
                    "a connection got another's echo"
                );
                answered += 1;
            }
            result_tx.send(answered).unwrap();
        }));
    }
    for _ in 0..CLIENT_THREADS {
        connected_rx
            .recv_timeout(THREAD_PATIENCE)
            .expect("a client thread did not finish connecting");
    }
    accepted_rx
        .recv_timeout(THREAD_PATIENCE)
        .expect("the server did not accept all connections");
    for go in &go_senders {
        go.send(()).unwrap();
    }
    let mut answered = 0;
    for _ in 0..CLIENT_THREADS {
        answered += result_rx
            .recv_timeout(THREAD_PATIENCE)
            .expect("a client thread did not get all its echoes");
    }
    for client in clients {
        client.join().unwrap();
    }
    let (loop_thread, seen, max_live, sources_left) = server.join().unwrap();
    assert_eq!(answered, TOTAL, "every connection gets its echo");
    assert_eq!(
        max_live, TOTAL,
        "all connections were open at the same time"
    );
    assert_eq!(
        seen,
        HashSet::from([loop_thread]),
        "every accept and every connection task ran on the one loop thread"
    );
    assert_eq!(sources_left, 1, "only the listener is still registered");
}

// ------------------------------------------------------- errors and EOF

/// A connect to a port where nothing listens fails at once with
/// `ConnectionRefused`, and leaves nothing registered.
#[test]
fn connect_to_a_closed_port_is_refused_promptly() {
    // Why: a refused connect must be an error, not a wait for an edge that never comes.
    within_for(THREAD_PATIENCE, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let port_owner = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = port_owner.local_addr().unwrap();
            drop(port_owner); // now nothing listens there
            let start = Instant::now();
            let error = bounded_as("connect to a closed port", TcpStream::connect(addr))
                .await
                .unwrap_err();
            assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
            assert!(
                start.elapsed() < Duration::from_secs(1),
                "took {:?}",
                start.elapsed()
            );
            assert_eq!(
                debug_count(&rt, "io_sources"),
                0,
                "the failed socket was deregistered"
            );
        });
    });
}

/// A connect whose handshake has not finished waits for it instead of
/// failing with `NotConnected`. On loopback the handshake is usually over
/// before the first poll, so the test slows it down: it fills the
/// listener's accept queue (std listens with a backlog of 128), the kernel
/// drops the connect's SYN, and the client sends it again about a second
/// later, by when the test has made room by accepting one connection.
#[test]
fn a_connect_still_handshaking_waits_for_the_handshake_to_finish() {
    within_for(THREAD_PATIENCE, || {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut queued = Vec::new();
        loop {
            match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
                Ok(stream) => queued.push(stream),
                Err(error) if error.kind() == ErrorKind::TimedOut => break,
                Err(error) => panic!("filling the accept queue: {error}"),
            }
            assert!(queued.len() <= 5000, "the accept queue never filled");
        }
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let connect = spawn(TcpStream::connect(addr));
            sleep(Duration::from_millis(200)).await;
            assert!(
                !connect.is_finished(),
                "the connect ended during its handshake: {:?}",
                connect.await
            );
            drop(listener.accept().unwrap()); // room for one more
            let stream = bounded_as("the handshake", connect).await.unwrap().unwrap();
            assert_eq!(stream.peer_addr().unwrap(), addr);
        });
    });
}

/// `set_nodelay` reaches the socket, both ways.
#[test]
fn nodelay_is_set_on_the_socket() {
    within(|| {
        Runtime::new().unwrap().block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let (client, _server) = event_loop_pair(&listener).await;
            for on in [true, false, true] {
                client.set_nodelay(on).unwrap();
                assert_eq!(client.nodelay().unwrap(), on);
            }
        });
    });
}

/// A read half's `read_exact` fills the buffer from what the peer sent,
/// and says `UnexpectedEof` when the peer closes first.
#[test]
fn a_read_half_reads_exactly_what_was_sent() {
    within(|| {
        Runtime::new().unwrap().block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let (mut client, server) = event_loop_pair(&listener).await;
            let (mut rd, _wr) = server.into_split().unwrap();
            bounded(client.write_all(b"exactly this")).await.unwrap();
            let mut buf = [0; 12];
            bounded(rd.read_exact(&mut buf)).await.unwrap();
            assert_eq!(&buf, b"exactly this");
            client.shutdown(Shutdown::Write).unwrap();
            let error = bounded(rd.read_exact(&mut buf)).await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::UnexpectedEof);
        });
    });
}

/// A listener's `Debug` names its address, a stream's both ends.
#[test]
fn listeners_and_streams_print_their_addresses() {
    within(|| {
        Runtime::new().unwrap().block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            assert_eq!(
                format!("{listener:?}"),
                format!("TcpListener {{ local_addr: Some({addr}) }}")
            );
            let (client, _server) = event_loop_pair(&listener).await;
            let here = client.local_addr().unwrap();
            assert_eq!(
                format!("{client:?}"),
                format!("TcpStream {{ local_addr: Some({here}), peer_addr: Some({addr}) }}")
            );
        });
    });
}

/// A client that sends half a message and disappears gives the server
/// `UnexpectedEof` from `read_exact`, or the data then EOF from `read`
/// (a reset is also acceptable) — never a read that waits forever.
#[test]
fn a_client_vanishing_mid_message_gives_the_server_eof_or_an_error_not_a_hang() {
    // Why: peers die; a task waiting on a dead peer must be told, or it leaks forever.
    within_for(THREAD_PATIENCE, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();

            // read_exact: half of 100 bytes, then the client is gone.
            let mut client = std_client(addr);
            let (mut server, _) = bounded_as("accept", listener.accept()).await.unwrap();
            let reader = spawn(async move {
                let mut message = [0; 100];
                timeout(PATIENCE, server.read_exact(&mut message)).await
            });
            yield_now().await; // the reader is now waiting for data
            assert!(!reader.is_finished());
            client.write_all(&[1; 50]).unwrap();
            sleep(Duration::from_millis(10)).await; // it reads 50, waits again
            assert!(
                !reader.is_finished(),
                "read_exact returned after half a message"
            );
            drop(client);
            let result = bounded_as("the read_exact task", reader).await.unwrap();
            let error = result
                .expect("read_exact still waiting 5 s after the peer vanished")
                .unwrap_err();
            assert!(
                matches!(
                    error.kind(),
                    ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset
                ),
                "read_exact gave {error:?}"
            );

            // read: the 50 bytes, then EOF (or a reset).
            let mut client = std_client(addr);
            let (mut server, _) = bounded_as("accept", listener.accept()).await.unwrap();
            let reader = spawn(async move {
                let mut got = 0;
                let mut buf = [0; 1024];
                loop {
                    match bounded_as("server read", server.read(&mut buf)).await {
                        Ok(0) => return (got, None),
                        Ok(n) => got += n,
                        Err(error) => return (got, Some(error.kind())),
                    }
                }
            });
            yield_now().await;
            client.write_all(&[2; 50]).unwrap();
            sleep(Duration::from_millis(10)).await;
            drop(client);
            let (got, error) = bounded_as("the read task", reader).await.unwrap();
            assert!(
                matches!(error, None | Some(ErrorKind::ConnectionReset)),
                "read ended with {error:?}"
            );
            if error.is_none() {
                assert_eq!(got, 50, "every byte sent before the close arrives");
            }
        });
    });
}

/// After the peer shuts down its writing side, the server reads EOF, yet
/// can still write, and the peer still receives that.
#[test]
fn after_the_peer_shuts_down_writing_the_server_reads_eof_and_can_still_reply() {
    // Why: half-close ends a request; EOF one way must not close the other way.
    within_for(THREAD_PATIENCE, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let (mut client, mut server) = event_loop_pair(&listener).await;
            let server_task = spawn(async move {
                let request = read_to_end(&mut server).await;
                bounded_as("reply", server.write_all(b"the reply"))
                    .await
                    .unwrap();
                request
            });
            bounded_as("request", client.write_all(b"the request"))
                .await
                .unwrap();
            client.shutdown(Shutdown::Write).unwrap();
            let reply = read_to_end(&mut client).await;
            let request = bounded_as("server task", server_task).await.unwrap();
            assert_eq!(request, b"the request");
            assert_eq!(reply, b"the reply");
        });
    });
}

/// Once `read` has returned `Ok(0)`, it keeps returning `Ok(0)`.
#[test]
fn eof_is_sticky() {
    // Why: loops that read until 0 may read again; EOF must not become an endless wait.
    within_for(THREAD_PATIENCE, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let (mut client, mut server) = event_loop_pair(&listener).await;
            bounded_as("write", client.write_all(b"last words"))
                .await
                .unwrap();
            drop(client);
            let mut buf = [0; 64];
            let n = bounded_as("read data", server.read(&mut buf))
                .await
                .unwrap();
            assert_eq!(&buf[..n], b"last words");
            for attempt in 1..=3 {
                let n = bounded_as("read at EOF", server.read(&mut buf))
                    .await
                    .unwrap();
                assert_eq!(n, 0, "read number {attempt} after EOF gave {n}");
            }
            let mut exact = [0; 1];
            let error = bounded_as("read_exact at EOF", server.read_exact(&mut exact))
                .await
                .unwrap_err();
            assert_eq!(error.kind(), ErrorKind::UnexpectedEof);
        });
    });
}

/// `write` returns how many bytes it took, `0 < n <= len`, and exactly
/// those bytes reach the peer.
#[test]
fn write_returns_between_one_and_len_bytes_and_the_peer_gets_exactly_those() {
    // Why: callers advance by the count; 0 or more than len would spin or skip data.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut received = Vec::new();
        stream.read_to_end(&mut received).unwrap();
        received
    });
    let sent = within_for(THREAD_PATIENCE, move || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let mut stream = bounded_as("connect", TcpStream::connect(addr))
                .await
                .unwrap();
            let mut sent = Vec::new();
            for len in [1, 7, 1000, 64 * 1024, 4 * MIB] {
                let buf = pattern(len);
                let n = bounded_as("write", stream.write(&buf)).await.unwrap();
                assert!(0 < n && n <= len, "write of {len} bytes returned {n}");
                sent.extend_from_slice(&buf[..n]);
            }
            stream.shutdown(Shutdown::Write).unwrap();
            sent
        })
    });
    let received = peer.join().unwrap();
    assert!(
        received == sent,
        "the peer got {} bytes, write reported {}",
        received.len(),
        sent.len()
    );
}

// ------------------------------------------------- dropping and aborting

/// A task that owns sockets and is aborted closes them (the peer reads
/// EOF), and the runtime forgets them (`io_sources: 0`).
#[test]
fn an_aborted_task_closes_the_sockets_it_owns_and_deregisters_them() {
    // Why: a socket that outlives its aborted task leaks a descriptor and a reactor slot.
    within_for(THREAD_PATIENCE, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            assert_eq!(debug_count(&rt, "io_sources"), 0);
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let mut client = std_client(listener.local_addr().unwrap());
            let (mut server, _) = bounded_as("accept", listener.accept()).await.unwrap();
            bounded_as("write", server.write_all(b"hi")).await.unwrap();
            assert_eq!(
                debug_count(&rt, "io_sources"),
                2,
                "listener and stream are registered"
            );
            let owner = spawn(async move {
                let _owned = (listener, server);
                pending::<()>().await;
            });
            yield_now().await; // the task runs and takes ownership
            assert!(!owner.is_finished());
            assert_eq!(debug_count(&rt, "io_sources"), 2);
            owner.abort();
            let error = bounded_as("the aborted task", owner).await.unwrap_err();
            assert!(error.is_cancelled());
            assert_eq!(
                debug_count(&rt, "io_sources"),
                0,
                "both sockets deregistered"
            );
            let mut buf = [0; 8];
            client.read_exact(&mut buf[..2]).unwrap();
            assert_eq!(&buf[..2], b"hi");
            assert_eq!(client.read(&mut buf).unwrap(), 0, "the peer sees EOF");
        });
    });
}

/// Dropping the runtime drops the tasks still in it, and their sockets
/// close: the peer reads EOF.
#[test]
fn dropping_the_runtime_closes_the_sockets_its_tasks_own() {
    // Why: shutting a runtime down must not leave its connections' peers waiting forever.
    within_for(THREAD_PATIENCE, || {
        let rt = Runtime::new().unwrap();
        let mut client = rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let client = std_client(listener.local_addr().unwrap());
            let (mut server, _) = bounded_as("accept", listener.accept()).await.unwrap();
            let detached = spawn(async move {
                let mut buf = [0; 8];
                let _ = server.read(&mut buf).await; // waits: the client never writes
            });
            yield_now().await;
            assert!(!detached.is_finished());
            drop(detached); // detach: the task lives on in the runtime
            client
        });
        drop(rt);
        let mut buf = [0; 8];
        assert_eq!(client.read(&mut buf).unwrap(), 0, "the peer sees EOF");
    });
}

/// A task aborted while waiting on a read leaves no registration behind,
/// and its socket closes; the loop goes on serving other connections.
#[test]
fn aborting_a_task_waiting_on_a_read_removes_its_registration_and_closes_the_socket() {
    // Why: an abort that left the read's registration behind would leak one per timeout.
    within_for(THREAD_PATIENCE, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let mut client = std_client(addr);
            let (mut server, _) = bounded_as("accept", listener.accept()).await.unwrap();
            let before = debug_count(&rt, "io_sources");
            let reader = spawn(async move {
                let mut buf = [0; 8];
                server.read(&mut buf).await
            });
            yield_now().await; // the reader registers and waits
            yield_now().await;
            assert!(!reader.is_finished(), "nobody wrote, so the read waits");
            assert_eq!(
                debug_count(&rt, "io_sources"),
                before + 1,
                "the waiting read registered"
            );
            reader.abort();
            let error = bounded_as("the aborted reader", reader).await.unwrap_err();
            assert!(error.is_cancelled());
            assert_eq!(
                debug_count(&rt, "io_sources"),
                before,
                "no registration is left behind"
            );
            let mut buf = [0; 8];
            assert_eq!(client.read(&mut buf).unwrap(), 0, "the peer sees EOF");
            // Events for the dead socket (the peer's FIN, a reset) must not
            // disturb the loop: a new connection still works.
            let _ = client.write_all(b"to nobody");
            drop(client);
            let (mut c2, mut s2) = event_loop_pair(&listener).await;
            bounded_as("write", c2.write_all(b"ping")).await.unwrap();
            let mut got = [0; 4];
            bounded_as("read", s2.read_exact(&mut got)).await.unwrap();
            assert_eq!(&got, b"ping");
        });
    });
}

// ------------------------------------------------- both directions at once

/// On one socket split in two, a writer blocked on a full send buffer and
/// a reader blocked on an empty receive buffer are both woken, each by its
/// own direction's readiness.
#[test]
fn a_reader_and_a_writer_waiting_on_one_socket_are_both_woken() {
    // Why: with one waiter slot per socket, the second waiter would evict the first.
    within_for(THREAD_PATIENCE, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let (mut peer, server) = event_loop_pair(&listener).await;
            let (mut rd, mut wr) = server.into_split().unwrap();
            let reader_waits = Rc::new(Cell::new(0));
            let writer_waits = Rc::new(Cell::new(0));
            let stop_writing = Rc::new(Cell::new(false));

            let reader = spawn({
                let waits = reader_waits.clone();
                async move {
                    let mut buf = [0; 64];
                    let n = counting_waits(rd.read(&mut buf), &waits).await.unwrap();
                    buf[..n].to_vec()
                }
            });
            let writer = spawn({
                let (waits, stop) = (writer_waits.clone(), stop_writing.clone());
                async move {
                    // Write until told to stop; with nobody reading, the
                    // send buffer fills and a write has to wait.
                    let chunk = vec![7u8; 64 * 1024];
                    let mut total = 0;
                    while !stop.get() {
                        let n = counting_waits(wr.write(&chunk), &waits).await.unwrap();
                        assert!(n > 0);
                        total += n;
                    }
                    wr.shutdown().unwrap();
                    total
                }
            });

            until("the reader and the writer both waiting", || {
                reader_waits.get() > 0 && writer_waits.get() > 0
            })
            .await;
            assert!(!reader.is_finished() && !writer.is_finished());

            // Data for the reader: it must wake though the writer waits too.
            bounded_as("peer write", peer.write_all(b"ping"))
                .await
                .unwrap();
            let got = bounded_as("the reader task", reader).await.unwrap();
            assert_eq!(got, b"ping");

            // Now drain: the writer must wake for the room this makes.
            stop_writing.set(true);
            let drained = read_to_end(&mut peer).await.len();
            let written = bounded_as("the writer task", writer).await.unwrap();
            assert_eq!(drained, written, "the peer got every byte written");
        });
    });
}

// ------------------------------------------------- wakes from other threads

/// A std thread wakes a task while the loop sleeps in `epoll_wait` with
/// nothing else to do; 200 times in a row, none is lost.
#[test]
fn a_wake_from_another_thread_reaches_a_parked_loop_every_time() {
    // Why: a wake that queues without knocking on epoll leaves the loop asleep.
    struct Slot {
        woken: AtomicBool,
        waker: Mutex<Option<Waker>>,
    }
    within_for(THREAD_PATIENCE, || {
        let (slot_tx, slot_rx) = mpsc::channel::<(Arc<Slot>, Duration)>();
        let waker_thread = thread::spawn(move || {
            while let Ok((slot, delay)) = slot_rx.recv_timeout(THREAD_PATIENCE) {
                thread::sleep(delay); // let the loop reach its park
                slot.woken.store(true, Ordering::Release);
                let waker = slot.waker.lock().unwrap().take();
                waker
                    .expect("the task stores its waker before asking")
                    .wake();
            }
        });
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            for round in 0..200u32 {
                let slot = Arc::new(Slot {
                    woken: AtomicBool::new(false),
                    waker: Mutex::new(None),
                });
                // Delays of 0, 1 and 2 ms: racing the park, and after it.
                let delay = Duration::from_millis(u64::from(round % 3));
                let mut asked = false;
                let wait = poll_fn(|cx| {
                    *slot.waker.lock().unwrap() = Some(cx.waker().clone());
                    if slot.woken.load(Ordering::Acquire) {
                        return Poll::Ready(());
                    }
                    if !asked {
                        asked = true;
                        slot_tx.send((slot.clone(), delay)).unwrap();
                    }
                    Poll::Pending
                });
                // A lost wake shows as a task that only runs again when
                // the timeout's timer fires, two seconds later.
                let start = Instant::now();
                let _ = timeout(Duration::from_secs(2), wait).await;
                let took = start.elapsed();
                assert!(
                    took < Duration::from_secs(1),
                    "round {round}: the wake from another thread was lost \
                     (the task ran again only after {took:?}, when a timer fired)"
                );
            }
        });
        drop(slot_tx);
        waker_thread.join().unwrap();
    });
}

// ------------------------------------------------- spawn_blocking

/// `spawn_blocking` runs its closure on another thread, named
/// `duet-blocking-…`, and its handle gives the closure's value.
#[test]
fn spawn_blocking_returns_its_value_from_another_thread() {
    // Why: blocking work must leave the loop thread, or every task stalls.
    within_for(THREAD_PATIENCE, || {
        let loop_thread = thread::current().id();
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let start = Instant::now();
            let handle = spawn_blocking(|| {
                let me = thread::current();
                (me.id(), me.name().map(str::to_owned), 6 * 7)
            });
            let (id, name, value) = bounded_as("spawn_blocking", handle).await.unwrap();
            assert_eq!(value, 42);
            // The loop was parked with nothing else to do; the helper
            // thread's wake must reach it at once, not at some later event.
            assert!(
                start.elapsed() < Duration::from_secs(1),
                "{:?}",
                start.elapsed()
            );
            assert_ne!(id, loop_thread, "the closure ran on the loop thread");
            let name = name.expect("the helper thread has a name");
            assert!(name.starts_with("duet-blocking"), "thread named {name:?}");
        });
    });
}

/// The loop keeps running tasks and timers while a `spawn_blocking`
/// closure blocks.
#[test]
fn spawn_blocking_does_not_block_the_loop() {
    // Why: that is its whole purpose.
    within_for(THREAD_PATIENCE, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (release_tx, release_rx) = mpsc::channel::<()>();
            let blocked = spawn_blocking(move || release_rx.recv_timeout(PATIENCE).is_ok());
            let start = Instant::now();
            bounded_as(
                "a sleep beside spawn_blocking",
                sleep(Duration::from_millis(20)),
            )
            .await;
            assert!(start.elapsed() < Duration::from_secs(1));
            assert!(!blocked.is_finished(), "the closure is still blocked");
            release_tx.send(()).unwrap();
            assert!(bounded_as("spawn_blocking", blocked).await.unwrap());
        });
    });
}

/// A panic in a `spawn_blocking` closure becomes `Err(is_panic)` on the
/// handle, with the original payload, and the loop goes on.
#[test]
fn a_panic_in_spawn_blocking_becomes_a_join_error_with_its_payload() {
    // Why: a helper thread's panic must reach its awaiter, not hang it or kill the loop.
    within_for(THREAD_PATIENCE, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let handle = spawn_blocking(|| -> u32 { panic!("boom in spawn_blocking") });
            let error = bounded_as("spawn_blocking", handle).await.unwrap_err();
            assert!(error.is_panic());
            let payload = error.into_panic();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .expect("the payload is the &str given to panic!");
            assert_eq!(message, "boom in spawn_blocking");
            // The loop is fine.
            assert_eq!(bounded_as("after", spawn_blocking(|| 1)).await.unwrap(), 1);
        });
    });
}

/// 100 `spawn_blocking` calls in flight at once all complete; they really
/// run concurrently (each waits until all 100 have started).
#[test]
fn a_hundred_concurrent_spawn_blocking_calls_all_complete() {
    // Why: blocking jobs that wait on each other must not deadlock for lack of threads.
    const N: usize = 100;
    within_for(THREAD_PATIENCE, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let arrived = Arc::new((Mutex::new(0usize), Condvar::new()));
            let handles: Vec<_> = (0..N)
                .map(|i| {
                    let arrived = arrived.clone();
                    spawn_blocking(move || {
                        let (count, all_here) = &*arrived;
                        let mut count = count.lock().unwrap();
                        *count += 1;
                        all_here.notify_all();
                        let (count, wait) = all_here
                            .wait_timeout_while(count, PATIENCE, |count| *count < N)
                            .unwrap();
                        (i, !wait.timed_out() && *count == N)
                    })
                })
                .collect();
            for (i, handle) in handles.into_iter().enumerate() {
                let (got, all_met) = bounded_as("spawn_blocking", handle).await.unwrap();
                assert_eq!(got, i);
                assert!(all_met, "call {i} never saw all {N} running at once");
            }
        });
    });
}

/// `spawn_blocking` outside a runtime panics with a message that says so.
#[test]
fn spawn_blocking_outside_a_runtime_panics_saying_so() {
    // Why: without a loop nothing could ever complete the handle: fail loudly instead.
    let ran = Arc::new(AtomicUsize::new(0));
    let counter = ran.clone();
    let payload = catch_unwind(AssertUnwindSafe(move || {
        let _handle = spawn_blocking(move || counter.fetch_add(1, Ordering::SeqCst));
    }))
    .expect_err("spawn_blocking outside block_on must panic");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .expect("a string payload");
    assert!(message.contains("outside"), "message: {message}");
    thread::sleep(Duration::from_millis(20));
    assert_eq!(ran.load(Ordering::SeqCst), 0, "the closure must not run");
}

// ------------------------------------------------- fairness with I/O

/// An echo round trip over TCP and a short timer both complete.
async fn echo_round_trip_and_a_timer() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = [0; 5];
        stream.read_exact(&mut buf).await.unwrap();
        stream.write_all(&buf).await.unwrap();
    });
    let mut client = bounded_as("connect", TcpStream::connect(addr))
        .await
        .unwrap();
    bounded_as("write", client.write_all(b"hello"))
        .await
        .unwrap();
    let mut echo = [0; 5];
    bounded_as("echo", client.read_exact(&mut echo))
        .await
        .unwrap();
    assert_eq!(&echo, b"hello");
    bounded_as("server task", server).await.unwrap();
    let start = Instant::now();
    bounded_as("a 10 ms sleep", sleep(Duration::from_millis(10))).await;
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
}

/// A task that loops on `yield_now` forever does not stop TCP or timers.
#[test]
fn a_task_spinning_on_yield_now_does_not_starve_tcp_or_timers() {
    // Why: the loop never parks beside a busy task, yet must still poll I/O and timers.
    within_for(THREAD_PATIENCE, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let spins = Rc::new(Cell::new(0u64));
            let spinner = spawn({
                let spins = spins.clone();
                async move {
                    loop {
                        spins.set(spins.get() + 1);
                        yield_now().await;
                    }
                }
            });
            yield_now().await;
            echo_round_trip_and_a_timer().await;
            assert!(spins.get() > 1, "the spinner really was spinning");
            spinner.abort();
            assert!(
                bounded_as("abort", spinner)
                    .await
                    .unwrap_err()
                    .is_cancelled()
            );
        });
    });
}

/// A future that wakes itself on every poll (without `yield_now`) does not
/// stop TCP or timers.
#[test]
fn a_future_that_wakes_itself_every_poll_does_not_starve_tcp_or_timers() {
    // Why: fairness must not depend on tasks politely using `yield_now`.
    within_for(THREAD_PATIENCE, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let polls = Rc::new(Cell::new(0u64));
            let spinner = spawn({
                let polls = polls.clone();
                poll_fn(move |cx| -> Poll<()> {
                    polls.set(polls.get() + 1);
                    cx.waker().wake_by_ref();
                    Poll::Pending
                })
            });
            yield_now().await;
            echo_round_trip_and_a_timer().await;
            assert!(polls.get() > 1, "the spinner really was spinning");
            spinner.abort();
            assert!(
                bounded_as("abort", spinner)
                    .await
                    .unwrap_err()
                    .is_cancelled()
            );
        });
    });
}
