//! The network examples, run as the programs they are.
//!
//! Each test starts a built example (`echo_*`, `http_*`) as a child process
//! with `--addr 127.0.0.1:0`, reads the port from its first line,
//! `listening on 127.0.0.1:PORT`, and talks to it over plain std sockets.
//! Every wait is bounded (a deadline for the first line, socket timeouts,
//! `try_wait` polling), and a guard kills the child even when a test
//! fails, so a broken example fails the test instead of hanging it; those
//! helpers are in `tests/support/examples.rs`, shared with
//! `tests/examples_chat.rs`.
//!
//! The pure HTTP parser the two HTTP examples share
//! (`examples/common/http.rs`) is included here too and tested directly
//! at the end.
//!
//! Read next: the examples themselves, in pairs: `diff
//! examples/echo_blocking.rs examples/echo_event_loop.rs`.

#[path = "../examples/common/http.rs"]
mod http;

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::Duration;
use support::examples::{Running, Server};

// ---------------------------------------------------------------- echo

fn echo_round_trips(name: &str) {
    let server = Server::start(name);
    let mut stream = server.connect();
    for round in 0..10u8 {
        let message: Vec<u8> = (0..64)
            .map(|i| round.wrapping_mul(17).wrapping_add(i))
            .collect();
        stream.write_all(&message).unwrap();
        let mut reply = vec![0; message.len()];
        stream.read_exact(&mut reply).unwrap();
        assert_eq!(reply, message, "{name}: round {round}");
    }

    // A client that resets its connection ends that connection only.
    // Closing with unread bytes makes the kernel send a reset.
    let mut rude = server.connect();
    rude.write_all(b"echo me and then I'm gone").unwrap();
    thread::sleep(Duration::from_millis(50)); // let the echo arrive, unread
    drop(rude);

    // The server still serves: the old connection and a new one.
    stream.write_all(b"still there?").unwrap();
    let mut reply = [0; 12];
    stream.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"still there?");
    let mut fresh = server.connect();
    fresh.write_all(b"hello").unwrap();
    let mut reply = [0; 5];
    fresh.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"hello");

    // EOF from the client closes the connection: the server answers EOF.
    fresh.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(fresh.read(&mut reply).unwrap(), 0, "{name}: EOF after EOF");
}

#[test]
fn echo_blocking_echoes_and_survives_a_reset() {
    echo_round_trips("echo_blocking");
}

#[test]
fn echo_event_loop_echoes_and_survives_a_reset() {
    echo_round_trips("echo_event_loop");
}

/// `--clients 4 --rounds 50`: the self-test runs and exits 0 with its report.
fn echo_self_test(name: &str) {
    let mut process = Running::start(
        name,
        &["--addr", "127.0.0.1:0", "--clients", "4", "--rounds", "50"],
    );
    let (status, output) = process.finish(Duration::from_secs(60));
    assert!(
        status.success(),
        "{name} exited with {status}; output:\n{output}"
    );
    let lines: Vec<&str> = output.lines().collect();
    assert_eq!(lines.len(), 2, "{name} printed:\n{output}");
    assert!(lines[0].starts_with("listening on 127.0.0.1:"), "{output}");
    let report = lines[1]
        .strip_prefix("4 clients × 50 round trips: ")
        .unwrap_or_else(|| panic!("{name}'s report is {:?}", lines[1]));
    // X round trips/s, p50 N µs, p99 N µs
    let numbers: Vec<&str> = report
        .split([' ', ','])
        .filter(|word| word.parse::<f64>().is_ok())
        .collect();
    assert_eq!(numbers.len(), 3, "{name}'s report is {report:?}");
    assert!(
        report.contains(" round trips/s, p50 ") && report.ends_with(" µs"),
        "{report:?}"
    );
    let p99_pos = report.find("p99").unwrap();
    assert!(p99_pos > report.find("p50").unwrap(), "{report:?}");
}

#[test]
fn echo_blocking_self_test_reports() {
    echo_self_test("echo_blocking");
}

#[test]
fn echo_event_loop_self_test_reports() {
    echo_self_test("echo_event_loop");
}

// ---------------------------------------------------------------- http

/// One parsed response.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A raw HTTP client: writes bytes as given, reads responses one by one.
struct Client {
    reader: BufReader<TcpStream>,
}

impl Client {
    fn new(server: &Server) -> Client {
        Client {
            reader: BufReader::new(server.connect()),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).unwrap();
    }

    /// Reads one response, with its `Content-Length` body (no body for HEAD).
    fn response(&mut self, head_request: bool) -> Response {
        let mut status_line = String::new();
        self.reader.read_line(&mut status_line).unwrap();
        let status = status_line
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).unwrap();
            let line = line.strip_suffix("\r\n").expect("headers end in CRLF");
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(": ").expect("Name: value");
            headers.push((name.to_string(), value.to_string()));
        }
        let mut response = Response {
            status,
            headers,
            body: Vec::new(),
        };
        if !head_request {
            let length: usize = response
                .header("Content-Length")
                .expect("every response has a Content-Length")
                .parse()
                .unwrap();
            response.body = vec![0; length];
            self.reader.read_exact(&mut response.body).unwrap();
        }
        response
    }

    fn get(&mut self, request: &str) -> Response {
        self.send(request.as_bytes());
        self.response(request.starts_with("HEAD "))
    }

    /// Asserts the server closed the connection: EOF, not a timeout.
    fn assert_closed(&mut self) {
        let mut rest = Vec::new();
        match self.reader.read_to_end(&mut rest) {
            Ok(_) => assert!(rest.is_empty(), "bytes after the last response: {rest:?}"),
            Err(error) => panic!("expected EOF, got {error}"),
        }
    }
}

const GET: &str = "GET / HTTP/1.1\r\nHost: test\r\n\r\n";

fn http_behaves(name: &str) {
    let server = Server::start(name);

    // Keep-alive: two requests on one connection.
    let mut client = Client::new(&server);
    for _ in 0..2 {
        let response = client.get(GET);
        assert_eq!(response.status, 200, "{name}");
        assert_eq!(response.header("Connection"), Some("keep-alive"));
        assert_eq!(response.body, http::PAGE.as_bytes());
    }
    // Other paths, other methods; HEAD has no body; all on the same connection.
    assert_eq!(
        client
            .get("GET /nope HTTP/1.1\r\nHost: test\r\n\r\n")
            .status,
        404
    );
    let response = client.get("DELETE / HTTP/1.1\r\nHost: test\r\n\r\n");
    assert_eq!(response.status, 405);
    assert_eq!(response.header("Allow"), Some("GET, HEAD"));
    let response = client.get("HEAD / HTTP/1.1\r\nHost: test\r\n\r\n");
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("Content-Length"),
        Some(&*http::PAGE.len().to_string())
    );
    // A body announced by Content-Length is skipped, not taken for a request.
    assert_eq!(
        client
            .get("POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 9\r\n\r\nGET / HTT")
            .status,
        405
    );
    assert_eq!(client.get(GET).status, 200);

    // Pipelining: two requests in one write, two responses in order.
    client.send(format!("{GET}GET /nope HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes());
    assert_eq!(client.response(false).status, 200);
    assert_eq!(client.response(false).status, 404);

    // `Connection: close` is honoured.
    let response = client.get("GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    assert_eq!(response.status, 200);
    assert_eq!(response.header("Connection"), Some("close"));
    client.assert_closed();

    // HTTP/1.0 closes by default, and stays open when asked.
    let mut client = Client::new(&server);
    assert_eq!(client.get("GET / HTTP/1.0\r\n\r\n").status, 200);
    client.assert_closed();
    let mut client = Client::new(&server);
    let response = client.get("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(response.header("Connection"), Some("keep-alive"));
    assert_eq!(client.get("GET / HTTP/1.0\r\n\r\n").status, 200);
    client.assert_closed();

    // A malformed request: 400, then EOF.
    let mut client = Client::new(&server);
    assert_eq!(client.get("this is not http\r\n\r\n").status, 400);
    client.assert_closed();

    // A head over 8 KiB: 400, then EOF (and the response arrives even
    // though the server stopped reading before the end of the head).
    let mut client = Client::new(&server);
    let big = format!(
        "GET / HTTP/1.1\r\nHost: test\r\nX-Big: {}\r\n\r\n",
        "a".repeat(9 * 1024)
    );
    assert_eq!(client.get(&big).status, 400);
    client.assert_closed();

    // Chunked request bodies are refused, not misread.
    let mut client = Client::new(&server);
    let chunked = "POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    assert_eq!(client.get(chunked).status, 400);
    client.assert_closed();

    // A client that vanishes mid-request leaves the server serving.
    let mut rude = Client::new(&server);
    rude.send(b"GET / HTTP/1.1\r\nHo");
    drop(rude);
    assert_eq!(Client::new(&server).get(GET).status, 200);
}

#[test]
fn http_blocking_speaks_http() {
    http_behaves("http_blocking");
}

#[test]
fn http_event_loop_speaks_http() {
    http_behaves("http_event_loop");
}

// ------------------------------------------------- the shared parser itself

#[test]
fn parser_decides_keep_alive() {
    let keep_alive = |head: &str| http::parse_head(head.as_bytes()).map(|r| r.keep_alive);
    assert_eq!(keep_alive("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), Ok(true));
    assert_eq!(
        keep_alive("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n"),
        Ok(false)
    );
    assert_eq!(keep_alive("GET / HTTP/1.0\r\n\r\n"), Ok(false));
    assert_eq!(
        keep_alive("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
        Ok(true)
    );
    // Bare LF line ends are accepted.
    assert_eq!(keep_alive("GET / HTTP/1.1\nHost: a\n\n"), Ok(true));
}

#[test]
fn parser_rejects_what_it_cannot_frame() {
    for head in [
        "GET / HTTP/1.1\r\n\r\n",                                  // no Host
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",            // two Hosts
        "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",                      // double space
        "GET / HTTP/2.0\r\nHost: a\r\n\r\n",                       // version
        "GET / HTTP/1.1\r\nHost : a\r\n\r\n",                      // space before colon
        "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",            // obs-fold
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", // sign
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
    ] {
        assert!(
            http::parse_head(head.as_bytes()).is_err(),
            "accepted {head:?}"
        );
    }
}

#[test]
fn head_limit_is_exactly_max_head() {
    let fill = |len: usize| {
        let mut head = b"GET / HTTP/1.1\r\nHost: a\r\nX: ".to_vec();
        head.resize(len - 4, b'a');
        head.extend_from_slice(b"\r\n\r\n");
        head
    };
    assert_eq!(
        http::find_head(&fill(http::MAX_HEAD)),
        http::Head::Complete(http::MAX_HEAD)
    );
    assert_eq!(
        http::find_head(&fill(http::MAX_HEAD + 1)),
        http::Head::TooLarge
    );
    assert_eq!(http::find_head(b"GET / HTTP/1.1\r\n"), http::Head::Partial);
}

/// However the bytes are split into reads, the responses are the same.
#[test]
fn connection_answers_the_same_whatever_the_reads() {
    let stream = b"\r\nGET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz\
                   POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody\
                   GET /nope HTTP/1.1\r\nHost: a\r\n\r\n\
                   HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n\
                   GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    let answer = |chunk: usize| {
        let mut connection = http::Connection::new();
        let mut out = Vec::new();
        for piece in stream.chunks(chunk) {
            connection.receive(piece);
            if connection.respond(&mut out) == http::After::Close {
                return (out, true);
            }
        }
        (out, false)
    };
    let (whole, closed) = answer(stream.len());
    assert!(closed, "Connection: close ends it");
    let text = String::from_utf8(whole.clone()).unwrap();
    let statuses: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("HTTP/1.1 "))
        .map(|status| &status[..3])
        .collect();
    assert_eq!(statuses, ["200", "405", "404", "200"], "{text}");
    for chunk in [1, 2, 3, 7, 64] {
        assert_eq!(
            answer(chunk),
            (whole.clone(), true),
            "reads of {chunk} bytes"
        );
    }
}

/// A head that never ends is refused once it passes 8 KiB, whatever the reads.
#[test]
fn connection_refuses_an_endless_head() {
    let mut connection = http::Connection::new();
    let mut out = Vec::new();
    connection.receive(b"GET / HTTP/1.1\r\nX: ");
    assert_eq!(connection.respond(&mut out), http::After::KeepOpen);
    let mut after = http::After::KeepOpen;
    for _ in 0..3 {
        connection.receive(&[b'a'; 4096]);
        after = connection.respond(&mut out);
        if after == http::After::Close {
            break;
        }
    }
    assert_eq!(after, http::After::Close);
    assert!(
        out.starts_with(b"HTTP/1.1 400 "),
        "{}",
        String::from_utf8_lossy(&out)
    );
}
