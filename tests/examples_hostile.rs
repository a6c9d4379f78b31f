//! The example servers against clients that push: floods, crowds,
//! clients that never read or never finish, bodies nobody asked for,
//! and an OS that runs out of threads.
//!
//! - Chat: ten talkers sending as fast as they can and ten readers
//!   reading as fast as they can: no one is disconnected, every line
//!   arrives in order. A thousand clients of ten lines each: everyone
//!   gets everyone else's lines. A client that never reads is
//!   disconnected, its socket closed, and the server's memory stays
//!   bounded meanwhile. Text: a character cut by a 4,096-byte read
//!   survives, control characters do not reach the others.
//! - HTTP: `Expect: 100-continue`, bodies read and thrown away, 413 for
//!   a body too large (2^64-1 bytes included).
//! - HTTP and echo: a silent connection, or a head sent a byte at a time,
//!   is closed after `--idle-timeout`.
//! - Blocking servers under a thread limit (run as `nobody` with a low
//!   `RLIMIT_NPROC`): they turn connections away, keep serving, and
//!   serve new connections again once threads end.
//!
//! The shared, runtime-free parts (`examples/common/chat.rs`,
//! `examples/common/http.rs`) are included and tested directly too.
//!
//! Every wait is bounded: socket timeouts, deadlines, and the guard that
//! kills a server child (`tests/support/examples.rs`).
//!
//! Read next: `examples/common/chat.rs`.

mod support;

#[path = "../examples/common/chat.rs"]
#[allow(dead_code)]
mod chat;
#[path = "../examples/common/http.rs"]
#[allow(dead_code)]
mod http;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};
use support::examples::{IO_TIMEOUT, Server, example};

const CHATS: [&str; 2] = ["chat_blocking", "chat_event_loop"];

/// Held by the tests that load the machine most (the flood, the thousand
/// clients), so that they take turns rather than share two cores.
static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn heavy() -> std::sync::MutexGuard<'static, ()> {
    HEAVY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One line without its line end; `None` at EOF. A timeout fails.
fn read_line(reader: &mut BufReader<TcpStream>) -> Option<String> {
    let mut line = String::new();
    match reader.read_line(&mut line) {
        Ok(0) => None,
        Ok(_) => Some(line.strip_suffix('\n').unwrap_or(&line).to_string()),
        Err(error) => panic!("no line within {IO_TIMEOUT:?}: {error}"),
    }
}

/// Connects to a chat server and reads the welcome; returns the client's
/// number.
fn join(server: &Server) -> (BufReader<TcpStream>, u64) {
    let mut reader = BufReader::new(server.connect());
    let welcome = read_line(&mut reader).expect("a welcome");
    let id = welcome
        .strip_prefix("* welcome! you are client ")
        .and_then(|rest| rest.split(';').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("not a welcome: {welcome:?}"));
    (reader, id)
}

/// `[client 3] hello` → `(3, "hello")`.
fn chat_line(line: &str) -> Option<(u64, &str)> {
    let (id, said) = line.strip_prefix("[client ")?.split_once("] ")?;
    Some((id.parse().ok()?, said))
}

/// The server is still running and printed no panic.
fn assert_alive(server: &mut Server) {
    let name = &server.process.name;
    let stderr = server.process.stderr();
    assert!(!stderr.contains("panicked"), "{name} panicked:\n{stderr}");
    let exited = server.process.child.try_wait().unwrap();
    assert!(exited.is_none(), "{name} exited: {exited:?}");
}

// ------------------------------------------- chat: a flood, fast readers

fn flood_with_fast_readers(name: &str) {
    const TALKERS: usize = 10;
    const READERS: usize = 10;
    const LINES: usize = 5_000;
    let _turn = heavy();
    let mut server = Server::start(name);
    let started = Instant::now();
    // Everyone joins before anyone talks: each connects after the one
    // before it read its welcome, so the hub has them all on its list.
    let readers: Vec<_> = (0..READERS).map(|_| join(&server)).collect();
    let talkers: Vec<_> = (0..TALKERS).map(|_| join(&server)).collect();
    let talker_ids: Vec<u64> = talkers.iter().map(|(_, id)| *id).collect();
    let line = |t: usize, seq: usize| format!("talker {t} line {seq:05} {}", "x".repeat(40));

    let mut threads = Vec::new();
    for (t, (reader, _)) in talkers.into_iter().enumerate() {
        let stream = reader.into_inner();
        let mut sink = stream.try_clone().unwrap();
        // Talkers read too (else they would be too slow themselves), but
        // throw it all away, until the server closes at the end.
        threads.push(thread::spawn(move || {
            let mut scratch = [0u8; 64 * 1024];
            while matches!(sink.read(&mut scratch), Ok(1..)) {}
        }));
        let mut stream = stream;
        threads.push(thread::spawn(move || {
            // As fast as the server takes it: 100 lines per write.
            for chunk in (0..LINES).collect::<Vec<_>>().chunks(100) {
                let mut bytes = String::new();
                for &seq in chunk {
                    bytes.push_str(&line(t, seq));
                    bytes.push('\n');
                }
                stream.write_all(bytes.as_bytes()).unwrap();
            }
        }));
    }
    let (done_tx, done) = mpsc::channel();
    for (mut reader, id) in readers {
        let (done_tx, talker_ids) = (done_tx.clone(), talker_ids.clone());
        thread::spawn(move || {
            let mut next = [0usize; TALKERS];
            let mut left = TALKERS * LINES;
            let outcome = loop {
                if left == 0 {
                    break Ok(());
                }
                let Some(text) = read_line(&mut reader) else {
                    break Err(format!("client {id}: EOF with {left} lines to go"));
                };
                if text.starts_with("* ") {
                    if text.contains("too slow") {
                        break Err(format!("client {id} got {text:?}"));
                    }
                    continue;
                }
                let (from, said) = chat_line(&text).expect("a chat line");
                let t = talker_ids
                    .iter()
                    .position(|&x| x == from)
                    .expect("a talker");
                if said != line(t, next[t]) {
                    break Err(format!(
                        "client {id}: from talker {t}, expected line {}, got {said:?}",
                        next[t]
                    ));
                }
                next[t] += 1;
                left -= 1;
            };
            let _ = done_tx.send(outcome);
        });
    }
    for _ in 0..READERS {
        let outcome = done
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("{name}: a reader is still short of lines after 60 s"));
        outcome.unwrap_or_else(|error| panic!("{name}: {error}"));
    }
    eprintln!(
        "{name}: {TALKERS} talkers x {LINES} lines to {READERS} readers in {:?}",
        started.elapsed()
    );
    let stderr = server.process.stderr();
    assert!(
        !stderr.contains("disconnected"),
        "{name} disconnected someone:\n{stderr}"
    );
    assert_alive(&mut server);
    drop(server); // the talkers' sinks see EOF
    for thread in threads {
        thread.join().unwrap();
    }
}

#[test]
fn chat_blocking_keeps_up_with_a_flood_and_fast_readers() {
    flood_with_fast_readers("chat_blocking");
}

#[test]
fn chat_event_loop_keeps_up_with_a_flood_and_fast_readers() {
    flood_with_fast_readers("chat_event_loop");
}

// ------------------------------------------- chat: a thousand clients

fn thousand_clients(name: &str) {
    const CLIENTS: usize = 1_000;
    const LINES: usize = 10;
    /// Clients that connect at once; the next batch waits for their
    /// welcomes, so the listen queue never overflows.
    const BATCH: usize = 100;
    let _turn = heavy();
    let server = Server::start(name);
    let port = server.port;
    let started = Instant::now();
    let (joined_tx, joined) = mpsc::channel();
    let (done_tx, done) = mpsc::channel();
    let mut go = Vec::new();
    for batch in 0..CLIENTS / BATCH {
        for _ in 0..BATCH {
            let (go_tx, go_rx) = mpsc::channel::<()>();
            go.push(go_tx);
            let (joined_tx, done_tx) = (joined_tx.clone(), done_tx.clone());
            thread::Builder::new()
                .stack_size(128 * 1024)
                .spawn(move || {
                    let outcome = thousand_client(port, &joined_tx, &go_rx);
                    let _ = done_tx.send(outcome);
                })
                .expect("a client thread");
        }
        for _ in 0..BATCH {
            let id = joined.recv_timeout(IO_TIMEOUT).expect("every client joins");
            assert!(
                (1..=CLIENTS as u64).contains(&id),
                "{name}: client number {id}"
            );
        }
        let _ = batch;
    }
    // Every client has its welcome: all are on the hub's list.
    let joined_in = started.elapsed();
    for go in go {
        go.send(()).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut streams = Vec::new();
    for i in 0..CLIENTS {
        let left = deadline.saturating_duration_since(Instant::now());
        let outcome = done.recv_timeout(left).unwrap_or_else(|_| {
            panic!(
                "{name}: {} clients still short of lines; CPU: server {:?}, test {:?}",
                CLIENTS - i,
                server.cpu_time(),
                support::examples::cpu_time("/proc/self/stat")
            )
        });
        streams.push(outcome.unwrap_or_else(|error| panic!("{name}: {error}")));
    }
    eprintln!(
        "{name}: {CLIENTS} clients joined in {joined_in:?}; all {} lines delivered to each after {:?}; \
         CPU: server {:?}, test process {:?}",
        (CLIENTS - 1) * LINES,
        started.elapsed(),
        server.cpu_time(),
        support::examples::cpu_time("/proc/self/stat"),
    );
    let stderr = server.process.stderr();
    assert!(
        !stderr.contains("disconnected"),
        "{name} disconnected someone:\n{stderr}"
    );
    drop(streams);

    /// One of the thousand: joins, says it has, waits for `go`, sends its
    /// ten lines, and reads until it has every other client's ten, in
    /// order. Ten million lines in all, so they are parsed by hand,
    /// without allocating.
    fn thousand_client(
        port: u16,
        joined: &mpsc::Sender<u64>,
        go: &mpsc::Receiver<()>,
    ) -> Result<TcpStream, String> {
        let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        let mut reader = BufReader::with_capacity(64 * 1024, stream);
        let mut text = Vec::new();
        reader
            .read_until(b'\n', &mut text)
            .map_err(|e| e.to_string())?;
        let id: u64 = std::str::from_utf8(&text)
            .ok()
            .and_then(|welcome| welcome.strip_prefix("* welcome! you are client "))
            .and_then(|rest| rest.split(';').next())
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| format!("not a welcome: {text:?}"))?;
        let _ = joined.send(id);
        go.recv_timeout(Duration::from_secs(60))
            .map_err(|_| "no go".to_string())?;
        let mut bytes = String::new();
        for j in 0..LINES {
            bytes.push_str(&format!("line {j}\n"));
        }
        reader
            .get_mut()
            .write_all(bytes.as_bytes())
            .map_err(|e| e.to_string())?;
        // From each client (by number), the next line expected. Ten
        // million lines in all, cut out of a large buffer by hand.
        let mut next = vec![0usize; CLIENTS + 1];
        let mut complete = 0;
        let mut buf = vec![0u8; 64 * 1024];
        // What the reader of the welcome has read ahead, first.
        let mut filled = reader.buffer().len();
        buf[..filled].copy_from_slice(reader.buffer());
        let mut stream = reader.into_inner();
        while complete < CLIENTS - 1 {
            match stream.read(&mut buf[filled..]) {
                Ok(0) => return Err(format!("client {id}: EOF, {complete} senders complete")),
                Ok(n) => filled += n,
                Err(error) => return Err(format!("client {id}: {error}")),
            }
            // Every byte here is ASCII. `str::find` looks for the line
            // ends with std's own (optimised) search, where a loop over
            // the bytes in this unoptimised test would be slow.
            let text = std::str::from_utf8(&buf[..filled]).map_err(|e| e.to_string())?;
            let mut start = 0;
            while let Some(length) = text[start..].find('\n') {
                let line = &text.as_bytes()[start..start + length];
                start += length + 1;
                if line.first() == Some(&b'*') && line.ends_with(b" joined") {
                    continue;
                }
                let parsed = parse_line(line).filter(|&(from, _)| from as u64 != id);
                match parsed.and_then(|(from, j)| Some((next.get_mut(from)?, j))) {
                    Some((expected, j)) if *expected == j => {
                        *expected += 1;
                        if *expected == LINES {
                            complete += 1;
                        }
                    }
                    _ => {
                        return Err(format!(
                            "client {id}: unexpected, out of order or its own: {:?}",
                            String::from_utf8_lossy(line)
                        ));
                    }
                }
            }
            buf.copy_within(start..filled, 0);
            filled -= start;
        }
        // Kept open until every client is done: a client that left would
        // be news to the others.
        Ok(stream)
    }

    /// `[client 12] line 3` → `(12, 3)`: the client's number has one to
    /// four digits, the line's one. Plain indexing, as few calls as can
    /// be: an unoptimised build pays for each.
    fn parse_line(text: &[u8]) -> Option<(usize, usize)> {
        let len = text.len();
        if !(17..=20).contains(&len)
            || text[..8] != *b"[client "
            || text[len - 8..len - 1] != *b"] line "
        {
            return None;
        }
        let mut from = 0;
        for &digit in &text[8..len - 8] {
            if !digit.is_ascii_digit() {
                return None;
            }
            from = from * 10 + usize::from(digit - b'0');
        }
        let line = text[len - 1];
        line.is_ascii_digit()
            .then(|| (from, usize::from(line - b'0')))
    }
}

#[test]
fn chat_blocking_serves_a_thousand_clients() {
    thousand_clients("chat_blocking");
}

#[test]
fn chat_event_loop_serves_a_thousand_clients() {
    thousand_clients("chat_event_loop");
}

// ------------------------------------- chat: a client that never reads

fn never_reads(name: &str) {
    let mut server = Server::start(name);
    let (mut reader, _) = join(&server);
    let mut quiet = server.connect();
    let quiet_id: u64 = read_line(&mut reader)
        .and_then(|line| {
            line.strip_prefix("* client ")?
                .strip_suffix(" joined")?
                .parse()
                .ok()
        })
        .expect("a join notice");
    let (talker, talker_id) = join(&server);
    let mut talker = talker.into_inner();
    assert_eq!(
        read_line(&mut reader).as_deref(),
        Some(&*format!("* client {talker_id} joined"))
    );
    let mut sink = talker.try_clone().unwrap();
    let sinker = thread::spawn(move || {
        let mut scratch = [0u8; 64 * 1024];
        while matches!(sink.read(&mut scratch), Ok(1..)) {}
    });
    let baseline = server.resident_bytes();
    let started = Instant::now();
    // The talker floods on a thread of its own: 64 MiB at most, in 1 KiB
    // lines, far more than the quiet client's socket buffers hold.
    let (stop_tx, stop) = mpsc::channel::<()>();
    let flooder = thread::spawn(move || {
        let line = format!("{}\n", "y".repeat(1023));
        let round = line.repeat(64);
        for _ in 0..1024 {
            if stop.try_recv().is_ok() || talker.write_all(round.as_bytes()).is_err() {
                return;
            }
        }
    });
    let mut most = baseline;
    let kicked_after = loop {
        let line = read_line(&mut reader).expect("the reader is not disconnected");
        most = most.max(server.resident_bytes());
        if line == format!("* client {quiet_id} was too slow to keep up and was disconnected") {
            break started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{name}: the client that never reads is still there"
        );
    };
    let _ = stop_tx.send(());
    flooder.join().unwrap();
    // Its socket is closed: after what the kernel held for it, EOF (or a
    // reset), within a bounded time.
    let closing = Instant::now();
    let mut scratch = vec![0u8; 1 << 16];
    let mut held = 0usize;
    loop {
        match quiet.read(&mut scratch) {
            Ok(0) => break,
            Ok(n) => held += n,
            Err(error) if error.kind() == ErrorKind::ConnectionReset => break,
            Err(error) => panic!("{name}: the quiet client's socket was not closed: {error}"),
        }
        assert!(
            closing.elapsed() < Duration::from_secs(10),
            "{name}: no EOF"
        );
    }
    eprintln!(
        "{name}: quiet client disconnected after {kicked_after:?}, {held} bytes were in flight to it; \
         memory {baseline} bytes before, at most {most} during"
    );
    // Its outbox holds at most 64 KiB and a line; everything else is the
    // kernel's. 16 MiB leaves room for allocator slack.
    assert!(
        most < baseline + 16 * 1024 * 1024,
        "{name}: memory grew from {baseline} to {most} bytes"
    );
    assert_alive(&mut server);
    drop(server);
    sinker.join().unwrap();
}

#[test]
fn chat_blocking_closes_a_client_that_never_reads() {
    never_reads("chat_blocking");
}

#[test]
fn chat_event_loop_closes_a_client_that_never_reads() {
    never_reads("chat_event_loop");
}

// ------------------------------------------------------ chat: text

#[test]
fn chat_text_survives_read_boundaries_and_loses_its_control_characters() {
    for name in CHATS {
        let server = Server::start(name);
        let (mut hears, _) = join(&server);
        let (speaks, id) = join(&server);
        let mut speaks = speaks.into_inner();
        assert_eq!(read_line(&mut hears), Some(format!("* client {id} joined")));
        // 4,094 bytes, then a 4-byte character across byte 4,096: the end
        // of the first read, and the longest piece of a line.
        let long = format!("{}😀tail\n", "a".repeat(4094));
        speaks.write_all(long.as_bytes()).unwrap();
        assert_eq!(
            read_line(&mut hears),
            Some(format!("[client {id}] {}", "a".repeat(4094)))
        );
        assert_eq!(read_line(&mut hears), Some(format!("[client {id}] 😀tail")));
        // Clear the screen, NUL, bell, a C1 CSI, a tab that stays.
        speaks
            .write_all("\x1b[2Jred\x00\x07\u{9b}31m\tend\n".as_bytes())
            .unwrap();
        let line = read_line(&mut hears).unwrap();
        assert_eq!(
            line,
            format!("[client {id}] \\u{{1b}}[2Jred\\u{{0}}\\u{{7}}\\u{{9b}}31m\tend"),
            "{name}"
        );
    }
}

#[test]
fn chat_lines_decode_utf8_across_any_reads() {
    let text = format!("{}é😀\x1b\n{}😀\n", "a".repeat(4093), "b".repeat(4095));
    let whole = {
        let mut lines = chat::Lines::default();
        lines.receive(text.as_bytes());
        std::iter::from_fn(|| lines.next_line(true)).collect::<Vec<_>>()
    };
    assert!(
        whole.iter().all(|line| !line.contains('\u{fffd}')),
        "{whole:?}"
    );
    assert_eq!(
        whole.concat(),
        text.replace('\n', "").replace('\x1b', "\\u{1b}")
    );
    for chunk in [1, 2, 3, 5, 4096, 4097] {
        let mut lines = chat::Lines::default();
        let mut got = Vec::new();
        for piece in text.as_bytes().chunks(chunk) {
            lines.receive(piece);
            got.extend(std::iter::from_fn(|| lines.next_line(false)));
        }
        got.extend(std::iter::from_fn(|| lines.next_line(true)));
        assert_eq!(got, whole, "reads of {chunk} bytes");
    }
    assert_eq!(chat::sanitize("a\tb\rc\u{7f}"), "a\tb\\u{d}c\\u{7f}");
}

// --------------------------------------------------------- HTTP bodies

/// Reads one response head and its `Content-Length` body; returns the
/// status line and the body. `None` at EOF or a reset.
fn response(reader: &mut BufReader<TcpStream>) -> Option<(String, Vec<u8>)> {
    let mut status = String::new();
    match reader.read_line(&mut status) {
        Ok(0) => return None,
        Ok(_) => {}
        Err(error) if error.kind() == ErrorKind::ConnectionReset => return None,
        Err(error) => panic!("no response: {error}"),
    }
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length: ") {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    Some((status.trim_end().to_string(), body))
}

/// Reads until EOF (or a reset), which must come within `patience`.
fn assert_closes(reader: &mut BufReader<TcpStream>, patience: Duration, what: &str) {
    let started = Instant::now();
    reader.get_ref().set_read_timeout(Some(patience)).unwrap();
    let mut scratch = [0u8; 4096];
    loop {
        match reader.read(&mut scratch) {
            Ok(0) => return,
            Ok(_) => {}
            Err(error) if error.kind() == ErrorKind::ConnectionReset => return,
            Err(error) => panic!("{what}: not closed within {patience:?}: {error}"),
        }
        assert!(started.elapsed() < patience, "{what}: still open");
    }
}

const GET: &str = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";

fn http_bodies(name: &str) {
    let server = Server::start(name);
    // Expect: 100-continue, the way curl sends a large body: the head,
    // then wait for 100 before the body.
    let mut client = BufReader::new(server.connect());
    let body = vec![b'z'; 256 * 1024];
    let head = format!(
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    );
    client.get_mut().write_all(head.as_bytes()).unwrap();
    let (status, _) = response(&mut client).expect("a response");
    assert_eq!(status, "HTTP/1.1 100 Continue", "{name}");
    client.get_mut().write_all(&body).unwrap();
    let (status, _) = response(&mut client).expect("a response");
    assert!(status.starts_with("HTTP/1.1 405"), "{name}: {status}");
    // The connection is not poisoned: the next request is one.
    client.get_mut().write_all(GET.as_bytes()).unwrap();
    let (status, _) = response(&mut client).expect("a response");
    assert!(status.starts_with("HTTP/1.1 200"), "{name}: {status}");

    // curl's `-X GET --data-binary @file URL URL`: a GET with a body the
    // handler never looks at, then a second GET on the same connection.
    let mut pair = format!(
        "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    pair.extend_from_slice(&body);
    pair.extend_from_slice(GET.as_bytes());
    client.get_mut().write_all(&pair).unwrap();
    for _ in 0..2 {
        let (status, page) = response(&mut client).expect("a response");
        assert!(status.starts_with("HTTP/1.1 200"), "{name}: {status}");
        assert_eq!(page, http::PAGE.as_bytes());
    }

    // Bodies over the limit, absurd ones included: 413, then closed.
    for length in [
        (http::MAX_BODY + 1).to_string(),
        u64::MAX.to_string(),
        "99999999999999999999999999".to_string(),
    ] {
        let mut client = BufReader::new(server.connect());
        let head = format!("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: {length}\r\n\r\n");
        client.get_mut().write_all(head.as_bytes()).unwrap();
        // Bytes that would be swallowed as body, were the body accepted.
        let _ = client.get_mut().write_all(GET.as_bytes());
        let (status, _) = response(&mut client).expect("a response");
        assert!(
            status.starts_with("HTTP/1.1 413"),
            "{name}, {length}: {status}"
        );
        assert_closes(&mut client, Duration::from_secs(5), name);
    }

    // An expectation the server cannot meet: 417, then closed.
    let mut client = BufReader::new(server.connect());
    let head = "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: teapot\r\n\r\n";
    client.get_mut().write_all(head.as_bytes()).unwrap();
    let (status, _) = response(&mut client).expect("a response");
    assert!(status.starts_with("HTTP/1.1 417"), "{name}: {status}");
    assert_closes(&mut client, Duration::from_secs(5), name);
}

#[test]
fn http_blocking_reads_bodies_and_refuses_huge_ones() {
    http_bodies("http_blocking");
}

#[test]
fn http_event_loop_reads_bodies_and_refuses_huge_ones() {
    http_bodies("http_event_loop");
}

#[test]
fn connection_holds_the_answer_until_the_body_is_in() {
    let mut connection = http::Connection::new();
    let mut out = Vec::new();
    connection.receive(
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\nbo",
    );
    assert_eq!(connection.respond(&mut out), http::After::KeepOpen);
    assert_eq!(out, http::CONTINUE, "only the 100 before the body is in");
    connection.receive(b"dy");
    out.clear();
    assert_eq!(connection.respond(&mut out), http::After::KeepOpen);
    assert!(out.starts_with(b"HTTP/1.1 405 "));
    // No Expect, no 100; a huge length is refused at once.
    let mut connection = http::Connection::new();
    out.clear();
    connection
        .receive(b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551615\r\n\r\n");
    assert_eq!(connection.respond(&mut out), http::After::Close);
    assert!(out.starts_with(b"HTTP/1.1 413 "));
}

// ------------------------------------------------------ idle timeouts

/// A connection that says nothing is closed after the idle timeout (1 s
/// here); so is one that sends its head a byte at a time, and a
/// keep-alive connection that goes quiet after a response.
fn idle_connections_close(name: &str, http: bool) {
    let server = Server::start_with_args(name, &["--idle-timeout", "1"]);
    let patience = Duration::from_secs(5);
    let started = Instant::now();
    let mut silent = BufReader::new(server.connect());
    assert_closes(&mut silent, patience, name);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900),
        "{name}: closed after only {waited:?}"
    );
    eprintln!("{name}: a silent connection was closed after {waited:?}");
    if !http {
        // Echo: a connection that talks stays open past the timeout.
        let mut talks = BufReader::new(server.connect());
        for _ in 0..4 {
            talks.get_mut().write_all(b"ping\n").unwrap();
            assert_eq!(read_line(&mut talks).as_deref(), Some("ping"));
            thread::sleep(Duration::from_millis(400));
        }
        return;
    }
    // A head sent a byte every 200 ms, which would take 5 s in all.
    let started = Instant::now();
    let mut slow = BufReader::new(server.connect());
    for &byte in GET.as_bytes() {
        if slow.get_mut().write_all(&[byte]).is_err() {
            break; // closed
        }
        thread::sleep(Duration::from_millis(200));
        if started.elapsed() > patience {
            panic!("{name}: a head sent a byte at a time was not cut off");
        }
    }
    assert_closes(&mut slow, patience, name);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{name}: after {:?}",
        started.elapsed()
    );
    // Keep-alive, then quiet.
    let mut quiet = BufReader::new(server.connect());
    quiet.get_mut().write_all(GET.as_bytes()).unwrap();
    assert!(
        response(&mut quiet)
            .expect("a response")
            .0
            .starts_with("HTTP/1.1 200")
    );
    let started = Instant::now();
    assert_closes(&mut quiet, patience, name);
    assert!(started.elapsed() >= Duration::from_millis(900), "{name}");
}

#[test]
fn http_blocking_closes_idle_connections() {
    idle_connections_close("http_blocking", true);
}

#[test]
fn http_event_loop_closes_idle_connections() {
    idle_connections_close("http_event_loop", true);
}

#[test]
fn echo_blocking_closes_idle_connections() {
    idle_connections_close("echo_blocking", false);
}

#[test]
fn echo_event_loop_closes_idle_connections() {
    idle_connections_close("echo_event_loop", false);
}

// ------------------------------------------------------ a thread limit

/// Starts a blocking server as user `nobody` with `RLIMIT_NPROC` at
/// `threads`: the kernel then refuses to start a thread once that user
/// has `threads` of them (its processes and threads all count), as it
/// would under `ulimit -u` or a service manager's task limit.
///
/// Why this and not a test hook: the refusal comes from the real
/// `clone`, through the real `std::thread::Builder::spawn` and
/// `duet::blocking::try_spawn`, with nothing in the library or the
/// example that exists only for tests. It needs root (to become
/// `nobody`; root itself is exempt from the limit) and `prlimit` and
/// `setpriv` (util-linux); without them the test says so and passes
/// without checking anything.
fn under_thread_limit(name: &str, threads: u32) -> Option<Server> {
    let root = std::fs::metadata("/proc/self")
        .map(|meta| std::os::unix::fs::MetadataExt::uid(&meta) == 0)
        .unwrap_or(false);
    let tools = ["prlimit", "setpriv"].iter().all(|tool| {
        Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|out| out.status.success())
    });
    if !root || !tools {
        eprintln!("SKIPPED {name} under a thread limit: needs root, prlimit and setpriv");
        return None;
    }
    let mut command = Command::new("prlimit");
    command
        .arg(format!("--nproc={threads}:{threads}"))
        .args([
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
        ])
        .arg(example(name))
        .args(["--addr", "127.0.0.1:0"]);
    Some(Server::start_command(name, command))
}

/// Whether a new connection is served: `probe` says so, or sees EOF or a
/// reset (turned away).
fn thread_limit(name: &str, threads: u32, probe: fn(&mut BufReader<TcpStream>) -> Option<()>) {
    // The limit counts every thread of `nobody`: two such servers at once
    // would share it.
    static NOBODY: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = NOBODY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let Some(mut server) = under_thread_limit(name, threads) else {
        return;
    };
    let mut served = Vec::new();
    let mut refused = 0;
    for _ in 0..3 * threads {
        let mut client = BufReader::new(server.connect());
        match probe(&mut client) {
            Some(()) => served.push(client),
            None => refused += 1,
        }
    }
    eprintln!(
        "{name}: {} connections served, {refused} turned away",
        served.len()
    );
    assert!(!served.is_empty(), "{name} served nobody");
    assert!(refused > 0, "{name} was never refused a thread");
    assert_alive(&mut server);
    server
        .process
        .wait_for_stderr("turning connections away", Duration::from_secs(5));
    let stderr = server.process.stderr();
    assert_eq!(
        stderr.matches("turning connections away").count(),
        1,
        "{name} logs once:\n{stderr}"
    );
    // Those served go; their threads end; new connections are served.
    drop(served);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut client = BufReader::new(server.connect());
        if probe(&mut client).is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "{name} never served again");
        thread::sleep(Duration::from_millis(50));
    }
    server
        .process
        .wait_for_stderr("serving connections again", Duration::from_secs(5));
    assert_alive(&mut server);
}

/// One `GET /`: a 200 is served, EOF or a reset is turned away.
fn http_probe(client: &mut BufReader<TcpStream>) -> Option<()> {
    client.get_mut().write_all(GET.as_bytes()).ok()?;
    let (status, _) = response(client)?;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    Some(())
}

/// One echo; EOF or a reset is turned away.
fn echo_probe(client: &mut BufReader<TcpStream>) -> Option<()> {
    client.get_mut().write_all(b"ping\n").ok()?;
    let mut line = String::new();
    match client.read_line(&mut line) {
        Ok(5) => Some(()),
        Ok(_) => None,
        Err(error) if error.kind() == ErrorKind::ConnectionReset => None,
        Err(error) => panic!("no echo: {error}"),
    }
}

/// A welcome; EOF or a reset is turned away.
fn chat_probe(client: &mut BufReader<TcpStream>) -> Option<()> {
    let mut line = String::new();
    match client.read_line(&mut line) {
        Ok(0) => None,
        Ok(_) => {
            assert!(line.starts_with("* welcome!"), "{line:?}");
            Some(())
        }
        Err(error) if error.kind() == ErrorKind::ConnectionReset => None,
        Err(error) => panic!("no welcome: {error}"),
    }
}

#[test]
fn http_blocking_survives_a_thread_limit() {
    thread_limit("http_blocking", 8, http_probe);
}

#[test]
fn echo_blocking_survives_a_thread_limit() {
    thread_limit("echo_blocking", 8, echo_probe);
}

#[test]
fn chat_blocking_survives_a_thread_limit() {
    thread_limit("chat_blocking", 8, chat_probe);
}
