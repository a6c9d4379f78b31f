//! docs/PITFALLS.md #8: edge-triggered readiness mishandled.
//!
//! duet registers every socket with epoll *edge-triggered*: the kernel
//! reports "became readable" once, not "is readable" on every poll. Two
//! rules follow, and each half of this file proves one:
//!
//! - readiness must survive a partial read: the edge for data already
//!   waiting has been delivered, and no new one will come for it;
//! - readiness must be cleared when a system call says `WouldBlock` (or
//!   when a short read proves the kernel's buffer empty, see
//!   `io_source.rs`), and not otherwise: then the task waits, and the
//!   next edge wakes it.
//!
//! A third test checks the tokens that carry those edges: an event for a
//! socket that is gone must never reach another socket's reader.
//!
//! Each loop runs on its own thread under a deadline: a readiness bug is
//! either a wait that never ends (caught by `timeout`) or a busy loop
//! inside one poll (caught by the deadline), never a hung test.

mod support;
use support::*;

use duet::event_loop::net::{TcpListener, TcpStream};
use duet::event_loop::{Runtime, sleep, spawn, timeout, yield_now};
use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// A std client with timeouts (it never reads here, but must never hang).
fn std_client(listener: &TcpListener) -> std::net::TcpStream {
    let stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.set_write_timeout(Some(PATIENCE)).unwrap();
    stream
}

/// Accepts a connection and uses up its first edge: a read that finds no
/// data registers the socket, gets `WouldBlock`, and is given up on.
async fn accept_and_wait_idle(listener: &TcpListener) -> TcpStream {
    let (mut server, _) = bounded_as("accept", listener.accept()).await.unwrap();
    let mut buf = [0; 16];
    let early = timeout(Duration::from_millis(20), server.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "nothing was sent yet, so the read must wait"
    );
    server
}

/// (a) 64 KiB wait in the socket; a reader with a 16-byte buffer must get
/// all of it, though no new data (so no new edge) arrives meanwhile.
#[test]
fn pitfall_08_a_partial_read_keeps_readiness_so_a_small_buffer_drains_everything_without_a_new_edge()
 {
    // Why: the kernel already sent this data's edge: lose readiness now and it waits forever.
    const LEN: usize = 64 * 1024;
    within_for(THREAD_PATIENCE, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let mut client = std_client(&listener);
            let mut server = accept_and_wait_idle(&listener).await;

            let data: Vec<u8> = (0..LEN).map(|i| (i % 251) as u8).collect();
            client.write_all(&data).unwrap();
            // Let the loop park and take every edge this data caused, so
            // none is left over to rescue a reader that lost readiness.
            sleep(Duration::from_millis(50)).await;

            let mut received = Vec::with_capacity(LEN);
            let mut reads = 0;
            let mut buf = [0; 16];
            while received.len() < LEN {
                let n = timeout(Duration::from_secs(1), server.read(&mut buf))
                    .await
                    .unwrap_or_else(|_| {
                        panic!(
                            "read number {} waited for a new edge with {} bytes still \
                             waiting: readiness was cleared by a partial read",
                            reads + 1,
                            LEN - received.len()
                        )
                    })
                    .unwrap();
                assert!(n > 0 && n <= buf.len(), "read gave {n}");
                received.extend_from_slice(&buf[..n]);
                reads += 1;
            }
            assert!(
                received == data,
                "the bytes arrived changed or out of order"
            );
            assert_eq!(reads, LEN / 16, "each read filled the 16-byte buffer");
        });
    });
}

/// (b) Once the socket is drained, a read waits (readiness was cleared on
/// `WouldBlock`), and new data wakes it.
#[test]
fn pitfall_08_readiness_is_cleared_only_on_would_block_so_a_drained_socket_waits_then_wakes() {
    // Why: never clearing readiness is a busy loop; clearing it wrongly loses a wake.
    within_for(THREAD_PATIENCE, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let mut client = std_client(&listener);
            let mut server = accept_and_wait_idle(&listener).await;

            client.write_all(b"first").unwrap();
            let mut buf = [0; 64];
            let n = bounded_as("first read", server.read(&mut buf))
                .await
                .unwrap();
            assert_eq!(&buf[..n], b"first");

            // Drained: the next read must wait, not return, not spin.
            let start = Instant::now();
            let drained = timeout(Duration::from_millis(100), server.read(&mut buf)).await;
            assert!(
                drained.is_err(),
                "a drained socket's read returned {drained:?} instead of waiting"
            );
            assert!(start.elapsed() >= Duration::from_millis(100));

            // A reader now waits for the next edge; new data must wake it.
            let reader = spawn(async move {
                let mut buf = [0; 64];
                let n = server.read(&mut buf).await.unwrap();
                buf[..n].to_vec()
            });
            yield_now().await;
            yield_now().await;
            assert!(!reader.is_finished(), "nothing new was sent yet");
            client.write_all(b"second").unwrap();
            let got = bounded_as("the waiting reader", reader).await.unwrap();
            assert_eq!(got, b"second");
        });
    });
}

/// (c) 1,000 connections opened and dropped one after another reuse the
/// reactor's slots, and events for the dead ones (data, FIN, resets) keep
/// arriving; a long-lived connection on the same loop keeps working, and
/// each of its reads returns exactly its own data.
#[test]
fn pitfall_08_events_for_dropped_sockets_never_reach_a_live_socket_reader() {
    // Why: reused slots must never route a dead socket's event to a live socket's reader.
    const ROUNDS: u64 = 1_000;
    within_for(THREAD_PATIENCE, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let mut long_client = bounded_as("connect", TcpStream::connect(addr))
                .await
                .unwrap();
            let (mut long_server, _) = bounded_as("accept", listener.accept()).await.unwrap();

            // The long-lived reader waits the whole time; it records every
            // read exactly as it returned.
            let reads: Rc<RefCell<Vec<Vec<u8>>>> = Rc::default();
            let reader = spawn({
                let reads = reads.clone();
                async move {
                    let mut buf = [0; 64];
                    loop {
                        let n = long_server.read(&mut buf).await.unwrap();
                        if n == 0 {
                            return;
                        }
                        reads.borrow_mut().push(buf[..n].to_vec());
                    }
                }
            });
            yield_now().await;
            let base = debug_count(&rt, "io_sources");

            for round in 0..ROUNDS {
                // A short-lived connection, dropped in a way that leaves
                // events in flight for its (soon reused) token.
                let mut client = bounded_as("connect", TcpStream::connect(addr))
                    .await
                    .unwrap();
                let (mut server, _) = bounded_as("accept", listener.accept()).await.unwrap();
                bounded_as("write", client.write_all(&round.to_le_bytes()))
                    .await
                    .unwrap();
                match round % 3 {
                    0 => {
                        // Read it, then both close: FINs in flight.
                        let mut got = [0; 8];
                        bounded_as("read", server.read_exact(&mut got))
                            .await
                            .unwrap();
                        assert_eq!(u64::from_le_bytes(got), round);
                        drop(client);
                        drop(server);
                    }
                    1 => {
                        // Server drops unread data: a reset for the client.
                        drop(server);
                        drop(client);
                    }
                    _ => {
                        // Client goes first, data still unread.
                        drop(client);
                        yield_now().await;
                        drop(server);
                    }
                }

                // The long-lived connection: one message, read as one.
                let message = format!("message {round:>8}");
                bounded_as("long write", long_client.write_all(message.as_bytes()))
                    .await
                    .unwrap();
                let expected_reads = round as usize + 1;
                bounded_as("the long-lived reader", async {
                    while reads.borrow().len() < expected_reads {
                        yield_now().await;
                    }
                })
                .await;
                let last = reads.borrow().last().cloned().unwrap();
                assert_eq!(
                    String::from_utf8_lossy(&last),
                    message,
                    "round {round}: the long-lived read returned something else"
                );
            }
            assert!(
                !reader.is_finished(),
                "the long-lived reader is still waiting"
            );
            assert_eq!(
                reads.borrow().len(),
                ROUNDS as usize,
                "one read per message"
            );
            assert_eq!(
                debug_count(&rt, "io_sources"),
                base,
                "every short-lived socket was deregistered"
            );
        });
    });
}
