//! TCP on the blocking runtime: echo, refused connects, EOF and half-close.
//!
//! No test may hang: every socket gets read and write timeouts, so a bug
//! turns into an error instead of a thread asleep forever, and a test
//! whose own thread waits in `accept` runs under `within`.

mod support;
use support::within;

use duet::blocking::{self, net::TcpListener, net::TcpStream};
use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(5);

fn bounded(stream: &TcpStream) {
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.set_write_timeout(Some(PATIENCE)).unwrap();
}

/// A connected pair on 127.0.0.1. Connecting needs no `accept` first: the
/// kernel finishes the handshake into the listener's backlog.
fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, peer) = listener.accept().unwrap();
    assert_eq!(peer, client.local_addr().unwrap());
    assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
    assert_eq!(client.peer_addr().unwrap(), server.local_addr().unwrap());
    bounded(&client);
    bounded(&server);
    (client, server)
}

#[test]
fn echo_one_mebibyte_both_ways_with_split_streams() {
    const LEN: usize = 1 << 20;
    let data: Vec<u8> = (0..LEN).map(|i| (i % 251) as u8).collect();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();

    // The server echoes until EOF, then sends its own EOF.
    let server = blocking::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        bounded(&stream);
        let (mut rd, mut wr) = stream.into_split().unwrap();
        let mut buf = [0; 8192];
        loop {
            let n = rd.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            wr.write_all(&buf[..n]).unwrap();
        }
        wr.shutdown().unwrap();
    });

    let client = TcpStream::connect(addr).unwrap();
    bounded(&client);
    let (mut rd, mut wr) = client.into_split().unwrap();
    // Write and read at the same time, on two threads: writing 1 MiB
    // before reading would fill both sides' buffers and stall.
    let to_send = data.clone();
    let writer = blocking::spawn(move || {
        wr.write_all(&to_send).unwrap();
        wr.shutdown().unwrap();
    });
    let mut echoed = Vec::with_capacity(LEN);
    rd.read_to_end(&mut echoed).unwrap(); // via std::io::Read
    assert!(echoed == data, "echo differs ({} bytes back)", echoed.len());

    writer.join().unwrap();
    server.join().unwrap();
}

#[test]
fn connecting_to_a_closed_port_is_refused_promptly() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener); // now nothing listens there
    let start = Instant::now();
    let err = TcpStream::connect(addr).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[test]
fn eof_is_sticky() {
    let (mut client, server) = pair();
    drop(server); // closes the connection
    let mut buf = [0; 16];
    assert_eq!(client.read(&mut buf).unwrap(), 0);
    assert_eq!(client.read(&mut buf).unwrap(), 0);
}

#[test]
fn half_close_lets_the_peer_still_answer() {
    let (mut client, mut server) = pair();
    client.write_all(b"question").unwrap();
    client.shutdown(Shutdown::Write).unwrap();

    let mut got = Vec::new();
    server.read_to_end(&mut got).unwrap(); // ends at the client's EOF
    assert_eq!(got, b"question");
    let mut buf = [0; 4];
    assert_eq!(server.read(&mut buf).unwrap(), 0, "EOF again");

    server.write_all(b"answer").unwrap();
    let mut answer = [0; 6];
    client.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"answer");
}

#[test]
fn read_exact_fails_on_early_eof() {
    let (mut client, mut server) = pair();
    server.write_all(b"abc").unwrap();
    server.shutdown(Shutdown::Write).unwrap();
    let mut buf = [0; 10];
    let err = client.read_exact(&mut buf).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
}

#[test]
fn write_reports_0_lt_n_le_len() {
    let (mut client, mut server) = pair();
    client.set_nodelay(true).unwrap();
    let n = client.write(b"hello").unwrap();
    assert!(0 < n && n <= 5);
    let mut buf = [0; 5];
    server.read_exact(&mut buf[..n]).unwrap();
    assert_eq!(&buf[..n], &b"hello"[..n]);
    client.flush().unwrap();
}

#[test]
fn streams_work_through_the_std_io_traits() {
    fn ping(stream: &mut impl Write) {
        stream.write_all(b"ping").unwrap();
        stream.flush().unwrap();
    }
    fn pong(stream: &mut impl Read) -> [u8; 4] {
        let mut buf = [0; 4];
        stream.read_exact(&mut buf).unwrap();
        buf
    }
    let (mut client, mut server) = pair();
    ping(&mut client);
    assert_eq!(&pong(&mut server), b"ping");
    let (mut rd, mut wr) = server.into_split().unwrap();
    ping(&mut wr);
    assert_eq!(&pong(&mut client), b"ping");
    ping(&mut client);
    assert_eq!(&pong(&mut rd), b"ping");
}

#[test]
fn from_std_accepts_even_a_nonblocking_listener() {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let listener = TcpListener::from_std(std_listener).unwrap();
    let addr = listener.local_addr().unwrap();
    // The pause only makes it likely that `accept` is already waiting when
    // the client comes; a nonblocking accept would then fail WouldBlock.
    // (If the client wins the race, the test still passes, never flakes.)
    let client = blocking::spawn(move || {
        blocking::sleep(Duration::from_millis(20));
        TcpStream::connect(addr).unwrap()
    });
    let received = within(move || {
        let (mut server, _) = listener.accept().expect("accept must wait, not WouldBlock");
        bounded(&server);
        let mut client = client.join().unwrap();
        client.write_all(b"hi").unwrap();
        let mut buf = [0; 2];
        server.read_exact(&mut buf).unwrap();
        buf
    });
    assert_eq!(&received, b"hi");
}

#[test]
fn dropping_a_split_stream_closes_it_when_both_halves_go() {
    let (client, mut server) = pair();
    let (rd, mut wr) = client.into_split().unwrap();
    drop(rd);
    wr.write_all(b"x").unwrap(); // the write half keeps the socket open
    let mut buf = [0; 1];
    server.read_exact(&mut buf).unwrap();
    drop(wr);
    assert_eq!(server.read(&mut buf).unwrap(), 0);
}

#[test]
fn nodelay_is_set_on_the_socket() {
    let (client, _server) = pair();
    for on in [true, false, true] {
        client.set_nodelay(on).unwrap();
        assert_eq!(client.nodelay().unwrap(), on);
    }
}
