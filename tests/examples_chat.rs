//! The chat and pipeline examples, run as the programs they are.
//!
//! The chat servers (`chat_blocking`, `chat_event_loop`) are started as
//! child processes on a free port and talked to over plain std sockets:
//!
//! - fifty clients, one of which never reads: every line of every reading
//!   client reaches every other reading client, in order, and never its
//!   sender;
//! - clients that reset, or send half a line and close, are removed, and
//!   the others are told;
//! - a client that never reads while another floods the chat is
//!   disconnected as too slow, and the flood still reaches the reader
//!   that keeps up.
//!
//! The pipelines (`pipeline_blocking`, `pipeline_event_loop`) run to the
//! end with small sizes: same checksum on both runtimes, backpressure seen
//! in the trace, a timeline written.
//!
//! Every wait is bounded: socket timeouts, deadlines, and a guard that
//! kills the child (`tests/support/examples.rs`). The tests synchronise
//! by reading what the server sends, never by sleeping.
//!
//! Read next: the examples themselves, in pairs: `diff
//! examples/chat_blocking.rs examples/chat_event_loop.rs`.

mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::examples::{IO_TIMEOUT, Running, Server};

/// How long any one test may take from its first write to its last read.
const DEADLINE: Duration = Duration::from_secs(15);

/// One chat connection that reads, and its number on the server.
struct Chatter {
    reader: BufReader<TcpStream>,
    id: u64,
    /// How many others the welcome said were there.
    others: usize,
}

impl Chatter {
    /// Connects and reads the welcome, the first line the server sends.
    fn join(server: &Server) -> Chatter {
        let mut reader = BufReader::new(server.connect());
        let welcome = read_line(&mut reader);
        // * welcome! you are client 3; 2 other(s) here
        let (id, others) = welcome
            .strip_prefix("* welcome! you are client ")
            .and_then(|rest| rest.strip_suffix(" other(s) here"))
            .and_then(|rest| rest.split_once("; "))
            .and_then(|(id, others)| Some((id.parse().ok()?, others.parse().ok()?)))
            .unwrap_or_else(|| panic!("the first line is not a welcome: {welcome:?}"));
        Chatter { reader, id, others }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).unwrap();
    }

    fn line(&mut self) -> String {
        read_line(&mut self.reader)
    }

    /// Reads lines until one is `expected`; every line before it must be a
    /// notice that `allowed` accepts.
    fn expect(&mut self, expected: &str, allowed: impl Fn(&str) -> bool) {
        loop {
            let line = self.line();
            if line == expected {
                return;
            }
            assert!(
                allowed(&line),
                "client {} waited for {expected:?} and got {line:?}",
                self.id
            );
        }
    }
}

/// One line without its line end; EOF or a timeout fails the test.
fn read_line(reader: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    match reader.read_line(&mut line) {
        Ok(0) => panic!("the server closed the connection"),
        Ok(_) => line
            .strip_suffix('\n')
            .unwrap_or_else(|| panic!("a line without a line end: {line:?}"))
            .to_string(),
        Err(error) => panic!("no line from the server within {IO_TIMEOUT:?}: {error}"),
    }
}

/// The number in a notice such as `* client 7 joined`.
fn notice_about(line: &str, what: &str) -> Option<u64> {
    line.strip_prefix("* client ")?
        .strip_suffix(what)?
        .parse()
        .ok()
}

const JOINED: &str = " joined";
const TOO_SLOW: &str = " was too slow to keep up and was disconnected";

/// The server lived through the test: it is still running, and printed no
/// panic.
fn assert_healthy(server: &mut Server) {
    let name = &server.process.name;
    let stderr = server.process.stderr();
    assert!(!stderr.contains("panicked"), "{name} panicked:\n{stderr}");
    let exited = server.process.child.try_wait().unwrap();
    assert!(exited.is_none(), "{name} exited: {exited:?}");
}

// ------------------------------------------------------- fifty clients

fn fifty_clients(name: &str) {
    const READERS: usize = 49;
    const LINES: usize = 4;
    let mut server = Server::start(name);
    // It joins first, so every later join and every line is for it too; it
    // reads none of them. The lines are few and short, so its socket
    // buffers hold them and it is probably never found too slow; the test
    // holds either way.
    let quiet = server.connect();
    let mut chatters: Vec<Chatter> = Vec::new();
    for i in 0..READERS {
        let chatter = Chatter::join(&server);
        assert!(
            chatters.iter().all(|earlier| earlier.id != chatter.id),
            "{name}: two clients got number {}",
            chatter.id
        );
        // Each reader connects after the one before it read its welcome,
        // so the hub counted every earlier reader, and perhaps the quiet
        // client (whose join may still be on its way).
        assert!(
            (i..=i + 1).contains(&chatter.others),
            "{name}: reader {i} was told {} others are here",
            chatter.others
        );
        chatters.push(chatter);
    }
    // Every reader has its welcome: the hub has handled all 49 joins, so
    // each reader is on the list before anyone speaks.
    let ids: Vec<u64> = chatters.iter().map(|chatter| chatter.id).collect();
    let text = |i: usize, j: usize| format!("line {j} from reader {i}");
    for (i, chatter) in chatters.iter_mut().enumerate() {
        let mut bytes = String::new();
        for j in 0..LINES {
            bytes.push_str(&text(i, j));
            bytes.push('\n');
        }
        // Two writes that split a line in the middle: the server must put
        // it back together.
        let (first, second) = bytes.as_bytes().split_at(bytes.len() / 2 + 3);
        chatter.send(first);
        chatter.send(second);
    }

    let deadline = Instant::now() + DEADLINE;
    // A notice a reader may see: someone joined, or the quiet client was
    // found too slow. Nobody leaves.
    let notice_ok = |line: &str| {
        notice_about(line, JOINED).is_some()
            || notice_about(line, TOO_SLOW).is_some_and(|id| !ids.contains(&id))
    };
    for (i, chatter) in chatters.iter_mut().enumerate() {
        // From each sender, the next line expected.
        let mut next: HashMap<u64, usize> = ids
            .iter()
            .filter(|&&id| id != chatter.id)
            .map(|&id| (id, 0))
            .collect();
        while next.values().any(|&j| j < LINES) {
            assert!(
                Instant::now() < deadline,
                "{name}: reader {i} is still short of lines"
            );
            let line = chatter.line();
            if notice_ok(&line) {
                continue;
            }
            let (from, said) =
                parse_chat_line(&line).unwrap_or_else(|| panic!("{name}: reader {i} got {line:?}"));
            let sender = ids.iter().position(|&id| id == from);
            let expected = next.get_mut(&from).unwrap_or_else(|| {
                panic!(
                    "{name}: reader {i} (client {}) got its own line {line:?}",
                    chatter.id
                )
            });
            assert!(
                *expected < LINES,
                "{name}: reader {i}: one line too many: {line:?}"
            );
            assert_eq!(
                said,
                text(sender.expect("a reader"), *expected),
                "{name}: reader {i}: lines from client {from} out of order or garbled"
            );
            *expected += 1;
        }
    }

    // Own lines must never come back. Any that did would be queued before
    // what follows, since every line above was handled before anyone got
    // it: so each reader says "over", and each reads until it has every
    // other reader's "over" (in whatever order the hub got them), finding
    // nothing else on the way.
    for chatter in chatters.iter_mut() {
        chatter.send(b"over\n");
    }
    for chatter in chatters.iter_mut() {
        let own = chatter.id;
        let mut waiting_for: Vec<u64> = ids.iter().copied().filter(|&id| id != own).collect();
        while !waiting_for.is_empty() {
            assert!(
                Instant::now() < deadline,
                "{name}: client {own} still waits for \"over\" from {waiting_for:?}"
            );
            let line = chatter.line();
            if notice_ok(&line) {
                continue;
            }
            let from = match parse_chat_line(&line) {
                Some((from, "over")) => from,
                _ => panic!("{name}: client {own} got {line:?} among the \"over\"s"),
            };
            let place = waiting_for.iter().position(|&id| id == from);
            let place = place.unwrap_or_else(|| {
                panic!("{name}: client {own} got {line:?}: its own, or a second one")
            });
            waiting_for.swap_remove(place);
        }
    }
    assert_healthy(&mut server);
    drop(quiet);
}

/// `[client 3] hello` → `(3, "hello")`.
fn parse_chat_line(line: &str) -> Option<(u64, &str)> {
    let (id, said) = line.strip_prefix("[client ")?.split_once("] ")?;
    Some((id.parse().ok()?, said))
}

#[test]
fn chat_blocking_fifty_clients_hear_each_other_but_not_themselves() {
    fifty_clients("chat_blocking");
}

#[test]
fn chat_event_loop_fifty_clients_hear_each_other_but_not_themselves() {
    fifty_clients("chat_event_loop");
}

// ------------------------------------------------------ clients leaving

fn clients_leave(name: &str) {
    let mut server = Server::start(name);
    let mut a = Chatter::join(&server);
    let mut b = Chatter::join(&server);
    a.expect(&format!("* client {} joined", b.id), |_| false);
    let no_notice = |_: &str| false;

    // A client that resets: it closes with bytes it never read (its
    // welcome), so the kernel sends a reset instead of a FIN.
    let rude = server.connect();
    let mut peeked = [0u8; 1];
    assert_eq!(rude.peek(&mut peeked).unwrap(), 1, "the welcome arrives");
    let rude_id = expect_join(&mut a, &mut b);
    drop(rude);
    for chatter in [&mut a, &mut b] {
        chatter.expect(&format!("* client {rude_id} left"), no_notice);
    }

    // A client that sends half a line and closes its sending side: the
    // half line is still a line, and the server closes back.
    let mut half = Chatter::join(&server);
    assert_eq!(expect_join(&mut a, &mut b), half.id);
    half.send(b"no line end");
    half.reader
        .get_ref()
        .shutdown(std::net::Shutdown::Write)
        .unwrap();
    for chatter in [&mut a, &mut b] {
        chatter.expect(&format!("[client {}] no line end", half.id), no_notice);
        chatter.expect(&format!("* client {} left", half.id), no_notice);
    }
    let mut rest = String::new();
    half.reader.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "", "{name}: after its welcome, only EOF");

    // The two that stayed still talk.
    b.send(b"still here\r\n");
    a.expect(&format!("[client {}] still here", b.id), no_notice);
    assert_healthy(&mut server);
}

/// Reads the same `joined` notice on `a` and on `b`; returns the number.
fn expect_join(a: &mut Chatter, b: &mut Chatter) -> u64 {
    let id = notice_about(&a.line(), JOINED).expect("a join notice");
    b.expect(&format!("* client {id} joined"), |_| false);
    id
}

#[test]
fn chat_blocking_removes_clients_that_leave_or_reset() {
    clients_leave("chat_blocking");
}

#[test]
fn chat_event_loop_removes_clients_that_leave_or_reset() {
    clients_leave("chat_event_loop");
}

// ------------------------------------------------ a client too slow

/// Lines per round of the flood, and their length: a round is 64 KiB.
const ROUND_LINES: usize = 64;
const LINE_BYTES: usize = 1024;
/// Far more than any socket buffers and the outbox hold together.
const MOST_ROUNDS: usize = 1024;

fn too_slow(name: &str) {
    let mut server = Server::start(name);
    let mut keeps_up = Chatter::join(&server);
    // Never reads a byte (its welcome included) until the end.
    let mut quiet = server.connect();
    let quiet_id = notice_about(&keeps_up.line(), JOINED).expect("a join notice");
    let mut talker = Chatter::join(&server);
    keeps_up.expect(&format!("* client {} joined", talker.id), |_| false);

    // The talker floods the chat in rounds of 64 KiB; before the next
    // round, the reader that keeps up reads the whole round. So that
    // reader is never more than a round behind, while the quiet client
    // falls further behind every round until the server gives up on it.
    let flood_line = |seq: usize| {
        let head = format!("flood {seq:06} ");
        format!("{head}{}", "x".repeat(LINE_BYTES - 1 - head.len()))
    };
    let deadline = Instant::now() + DEADLINE;
    let mut seq = 0;
    let mut kicked_in_round = None;
    let mut round = 0;
    // After the kick, a few more rounds: the flood goes on for the rest.
    while kicked_in_round.is_none_or(|kicked| round < kicked + 4) {
        assert!(
            round < MOST_ROUNDS,
            "{name}: {MOST_ROUNDS} rounds of 64 KiB, and the client that never reads is still there"
        );
        assert!(Instant::now() < deadline, "{name}: the flood is too slow");
        let mut bytes = String::with_capacity(ROUND_LINES * LINE_BYTES);
        for i in 0..ROUND_LINES {
            bytes.push_str(&flood_line(seq + i));
            bytes.push('\n');
        }
        talker.send(bytes.as_bytes());
        for _ in 0..ROUND_LINES {
            let line = loop {
                let line = keeps_up.line();
                if notice_about(&line, TOO_SLOW) == Some(quiet_id) && kicked_in_round.is_none() {
                    kicked_in_round = Some(round);
                    continue;
                }
                break line;
            };
            assert_eq!(
                line,
                format!("[client {}] {}", talker.id, flood_line(seq)),
                "{name}: the reader that keeps up lost or reordered the flood"
            );
            seq += 1;
        }
        round += 1;
    }
    server
        .process
        .wait_for_stderr(&format!("client {quiet_id} fell "), Duration::from_secs(5));

    // The quiet client now reads: what was queued for it, then EOF. It got
    // a start of the flood, in order, with the end cut off.
    let mut received = Vec::new();
    quiet
        .read_to_end(&mut received)
        .unwrap_or_else(|error| panic!("{name}: the quiet client got no EOF: {error}"));
    let received = String::from_utf8(received).unwrap();
    let mut lines = received.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("* welcome! you are client ")
    );
    let mut flood_seen = 0;
    for line in lines {
        if line.starts_with("* ") {
            continue; // notices: the talker joined
        }
        assert_eq!(
            line,
            format!("[client {}] {}", talker.id, flood_line(flood_seen)),
            "{name}: the quiet client's share of the flood has a gap"
        );
        flood_seen += 1;
    }
    assert!(
        flood_seen < seq,
        "{name}: the quiet client was sent the whole flood ({seq} lines)"
    );
    assert_healthy(&mut server);
}

#[test]
fn chat_blocking_disconnects_a_client_too_slow_to_keep_up() {
    too_slow("chat_blocking");
}

#[test]
fn chat_event_loop_disconnects_a_client_too_slow_to_keep_up() {
    too_slow("chat_event_loop");
}

// ------------------------------------------------------------ pipeline

/// Runs a pipeline example with small sizes; returns its checksum and how
/// often it says the producer waited.
fn pipeline(name: &str) -> (u64, usize) {
    let svg = std::env::temp_dir().join(format!("duet-{name}-{}.svg", std::process::id()));
    let svg_arg = svg.to_str().expect("a UTF-8 temp path");
    let args = [
        "--items",
        "24",
        "--workers",
        "2",
        "--capacity",
        "2",
        "--work-ms",
        "10",
        "--svg",
        svg_arg,
    ];
    let mut process = Running::start(name, &args);
    let (status, output) = process.finish(Duration::from_secs(30));
    assert!(status.success(), "{name} exited with {status}:\n{output}");
    let value = |label: &str| -> u64 {
        output
            .lines()
            .find_map(|line| line.strip_prefix(label))
            .and_then(|rest| rest.split(' ').next())
            .and_then(|number| number.parse().ok())
            .unwrap_or_else(|| panic!("{name} printed no {label:?} line:\n{output}"))
    };
    let checksum = value("checksum: ");
    let waits = value("producer waited on a full channel: ") as usize;
    let timeline = format!("timeline: {}", svg.display());
    assert!(output.contains(&timeline), "{name}:\n{output}");
    let picture = std::fs::read_to_string(&svg).expect("the timeline was written");
    let _ = std::fs::remove_file(&svg);
    assert!(picture.starts_with("<svg"), "{name} wrote {picture:.80}");
    assert!(
        picture.contains("producer"),
        "{name}: the producer has a lane"
    );
    (checksum, waits)
}

#[test]
fn pipelines_agree_and_show_backpressure() {
    // The sum of i² for i = 1..=24.
    let expected = 24 * 25 * 49 / 6;
    for name in ["pipeline_blocking", "pipeline_event_loop"] {
        let (checksum, waits) = pipeline(name);
        assert_eq!(checksum, expected, "{name}");
        // 24 items, 2 workers of 10 ms each, 2 slots: a producer that never
        // found the channel full would have had to be slower than the
        // workers for the whole run.
        assert!(waits >= 1, "{name}: the producer never waited");
    }
}

#[test]
fn pipeline_refuses_a_channel_of_capacity_zero() {
    for name in ["pipeline_blocking", "pipeline_event_loop"] {
        let mut process = Running::start(name, &["--capacity", "0"]);
        let (status, output) = process.finish(Duration::from_secs(30));
        // 2: a usage error, caught by the parser; a panic would be 101.
        assert_eq!(status.code(), Some(2), "{name}:\n{output}");
    }
}
