//! Just enough HTTP/1.1 for a keep-alive server, as pure functions over
//! bytes: no sockets and no runtime, so both HTTP examples share it.
//!
//! `http_blocking.rs` and `http_event_loop.rs` include this file with
//! `#[path = "common/http.rs"] mod http;` and differ only in how they move
//! bytes: each reads from its socket, hands the bytes to
//! [`Connection::receive`], asks [`Connection::respond`] for the replies,
//! and writes them. Run either one with
//! `cargo run --release --example http_event_loop` and
//! `curl -v http://127.0.0.1:8080/`. There is no twin to diff it with;
//! diff the two examples instead.
//!
//! What it does:
//!
//! - `GET /` (or `HEAD /`) gets a small fixed HTML page, with
//!   `Content-Length`. Another path gets `404`, another method `405`.
//! - Keep-alive: HTTP/1.1 keeps the connection open unless the request says
//!   `Connection: close`; HTTP/1.0 closes unless it says
//!   `Connection: keep-alive`. Every response says which it is.
//! - Pipelining: several requests in one read are all answered, in order.
//! - A request body announced by `Content-Length` is read and thrown away
//!   *before* the response is sent, so the next request starts in the
//!   right place and a client never sees an answer while it still owes a
//!   body. A body over [`MAX_BODY`] gets `413 Content Too Large` and a
//!   close instead: reading it all would cost time, and skipping it
//!   unread would leave the connection swallowing bytes (a
//!   `Content-Length` of 2^64-1 would swallow them forever).
//! - `Expect: 100-continue`, which a client such as curl sends before a
//!   large body, gets `100 Continue` (then the body is read and the final
//!   response sent); any other expectation gets `417 Expectation Failed`
//!   and a close.
//! - `400 Bad Request`, then the connection closes, for: a malformed
//!   request line or header, a head over [`MAX_HEAD`] bytes, a head that
//!   is not UTF-8, an HTTP/1.1 request without exactly one `Host`, and any
//!   `Transfer-Encoding` (a chunked body would need a chunk parser, which
//!   this example leaves out; real servers send `501` for codings they
//!   do not know). After a `400` we cannot tell where the next request
//!   would start, so closing is the only safe thing.
//!
//! Left out to stay short: the `Date` header (RFC 9110 asks servers with a
//! clock to send it; clients do fine without), and header values that are
//! not UTF-8.

use std::io::Write;

/// The longest request head (request line, headers and the empty line
/// that ends them) we accept. Without a limit a client could make us
/// buffer without end; 8 KiB is what many servers allow.
pub const MAX_HEAD: usize = 8 * 1024;

/// The largest request body the server reads (and throws away) to keep
/// the connection open. The example's pages take no body at all; 1 MiB
/// leaves room for a client that sends a small form anyway.
pub const MAX_BODY: u64 = 1024 * 1024;

/// The page `GET /` returns.
pub const PAGE: &str = "<!doctype html>\n\
<html><head><title>duet</title></head>\n\
<body><h1>Hello from duet</h1><p>Served over HTTP/1.1 with keep-alive.</p></body></html>\n";

/// The parts of a request the server looks at.
#[derive(Debug, PartialEq, Eq)]
pub struct Request<'a> {
    /// `GET`, `HEAD`, … (case matters: `get` is not `GET`).
    pub method: &'a str,
    /// What the request line asks for, such as `/` or `/index.html?x=1`.
    pub target: &'a str,
    /// Whether the connection stays open after the response.
    pub keep_alive: bool,
    /// How many body bytes follow the head (0 if there is no body). A
    /// number too large for a `u64` reads as `u64::MAX`: too large either
    /// way.
    pub content_length: u64,
    /// What the `Expect` header asks for.
    pub expect: Expect,
}

/// The `Expect` header of a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Expect {
    /// No `Expect` header.
    Nothing,
    /// `Expect: 100-continue`: the client waits for `100 Continue` (or a
    /// while) before it sends the body.
    Continue,
    /// Something this server does not know: RFC 9110 says `417`.
    Other,
}

/// Why a request got `400 Bad Request`; the reason goes in the body.
#[derive(Debug, PartialEq, Eq)]
pub struct BadRequest(pub &'static str);

/// Whether a buffer holds a whole request head yet.
#[derive(Debug, PartialEq, Eq)]
pub enum Head {
    /// The head is the first `n` bytes, ending with its empty line.
    Complete(usize),
    /// No empty line yet: read more.
    Partial,
    /// No empty line in the first [`MAX_HEAD`] bytes, nor will there be.
    TooLarge,
}

/// Finds the empty line that ends a request head. Lines end in CRLF; a
/// bare LF is accepted too, as RFC 9112 allows.
pub fn find_head(buf: &[u8]) -> Head {
    let searched = &buf[..buf.len().min(MAX_HEAD)];
    let mut line_start = 0;
    for (i, &byte) in searched.iter().enumerate() {
        if byte == b'\n' {
            let line = &searched[line_start..i];
            if line.is_empty() || line == b"\r" {
                return Head::Complete(i + 1);
            }
            line_start = i + 1;
        }
    }
    if buf.len() >= MAX_HEAD {
        Head::TooLarge
    } else {
        Head::Partial
    }
}

/// Parses a complete head (as delimited by [`find_head`]): the request
/// line, then the headers the server needs.
pub fn parse_head(head: &[u8]) -> Result<Request<'_>, BadRequest> {
    let text = std::str::from_utf8(head).map_err(|_| BadRequest("the head is not UTF-8"))?;
    let mut lines = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line));

    // The request line: METHOD SP TARGET SP HTTP/1.x, single spaces.
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(BadRequest("the request line is not METHOD TARGET VERSION"));
    };
    if !is_token(method) {
        return Err(BadRequest("the method is not a token"));
    }
    if target.is_empty() || target.bytes().any(|b| b.is_ascii_control()) {
        return Err(BadRequest(
            "the request target is empty or has control characters",
        ));
    }
    let http11 = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        _ => return Err(BadRequest("the version is not HTTP/1.0 or HTTP/1.1")),
    };

    // Headers, up to the empty line.
    let mut close = false;
    let mut keep_alive = false;
    let mut content_length = None;
    let mut hosts = 0;
    let mut expect = Expect::Nothing;
    for line in lines.take_while(|line| !line.is_empty()) {
        if line.starts_with([' ', '\t']) {
            // Obsolete line folding: RFC 9112 lets a server reject it.
            return Err(BadRequest("a header line starts with whitespace"));
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(BadRequest("a header line has no colon"));
        };
        // No space is allowed before the colon (request smuggling lives there).
        if !is_token(name) {
            return Err(BadRequest("a header name is not a token"));
        }
        let value = value.trim_matches([' ', '\t']);
        if value.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
            return Err(BadRequest("a header value has control characters"));
        }
        if name.eq_ignore_ascii_case("content-length") {
            let length = parse_length(value)?;
            // Two different lengths: which body is real? Refuse to guess.
            if content_length.is_some_and(|old| old != length) {
                return Err(BadRequest("conflicting Content-Length headers"));
            }
            content_length = Some(length);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(BadRequest(
                "request bodies with Transfer-Encoding are not supported",
            ));
        } else if name.eq_ignore_ascii_case("connection") {
            for option in value.split(',').map(|o| o.trim_matches([' ', '\t'])) {
                close |= option.eq_ignore_ascii_case("close");
                keep_alive |= option.eq_ignore_ascii_case("keep-alive");
            }
        } else if name.eq_ignore_ascii_case("host") {
            hosts += 1;
        } else if name.eq_ignore_ascii_case("expect") {
            expect = if value.eq_ignore_ascii_case("100-continue") {
                Expect::Continue
            } else {
                Expect::Other
            };
        }
    }
    if http11 && hosts != 1 {
        return Err(BadRequest(
            "an HTTP/1.1 request needs exactly one Host header",
        ));
    }
    Ok(Request {
        method,
        target,
        // 1.1 keeps connections open by default, 1.0 closes by default.
        keep_alive: !close && (http11 || keep_alive),
        content_length: content_length.unwrap_or(0),
        expect,
    })
}

/// A header's `Content-Length`: digits only (no sign, no spaces, no list).
/// More digits than a `u64` holds read as `u64::MAX`, which is over
/// [`MAX_BODY`] like any other huge number.
fn parse_length(value: &str) -> Result<u64, BadRequest> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(BadRequest("Content-Length is not a number"));
    }
    Ok(value.parse().unwrap_or(u64::MAX))
}

/// RFC 9110's `token`: what methods and header names are made of.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Appends the response to `request` to `out`.
pub fn respond(request: &Request<'_>, out: &mut Vec<u8>) {
    // The query string does not change which page this is.
    let path = request.target.split('?').next().unwrap_or("");
    let (status, body, allow) = match (request.method, path) {
        ("GET" | "HEAD", "/") => ("200 OK", PAGE, ""),
        ("GET" | "HEAD", _) => ("404 Not Found", "<h1>404 Not Found</h1>\n", ""),
        // 405 must say which methods would work.
        _ => (
            "405 Method Not Allowed",
            "<h1>405 Method Not Allowed</h1>\n",
            "Allow: GET, HEAD\r\n",
        ),
    };
    // HEAD gets the headers GET would get, without the body.
    let send_body = request.method != "HEAD";
    write_response(out, status, allow, body, send_body, request.keep_alive);
}

/// Appends a `400 Bad Request` (which always closes the connection).
pub fn bad_request(reason: BadRequest, out: &mut Vec<u8>) {
    let body = format!("<h1>400 Bad Request</h1>\n<p>{}</p>\n", reason.0);
    write_response(out, "400 Bad Request", "", &body, true, false);
}

/// Appends a response that refuses the request and closes the connection,
/// such as `413 Content Too Large`.
pub fn refuse(status: &str, out: &mut Vec<u8>) {
    let body = format!("<h1>{status}</h1>\n");
    write_response(out, status, "", &body, true, false);
}

/// What a client that sent `Expect: 100-continue` waits for before it
/// sends the body: an interim response, with no headers.
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

fn write_response(
    out: &mut Vec<u8>,
    status: &str,
    extra_headers: &str,
    body: &str,
    send_body: bool,
    keep_alive: bool,
) {
    let connection = if keep_alive { "keep-alive" } else { "close" };
    write!(
        out,
        "HTTP/1.1 {status}\r\n\
         Content-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\n\
         Connection: {connection}\r\n\
         {extra_headers}\r\n",
        body.len()
    )
    .expect("writing to a Vec cannot fail");
    if send_body {
        out.extend_from_slice(body.as_bytes());
    }
}

/// What to do with the connection once the responses are written.
#[derive(Debug, PartialEq, Eq)]
pub enum After {
    /// Read the next request.
    KeepOpen,
    /// Close: the client asked to, or sent something we could not parse.
    Close,
}

/// One connection's side of the protocol: the bytes received but not yet
/// answered. The examples own the socket; this owns the parsing.
#[derive(Debug, Default)]
pub struct Connection {
    /// Received bytes not yet consumed: the start of the next request(s).
    input: Vec<u8>,
    /// The request whose body is on its way, if one is.
    waiting: Option<Waiting>,
}

/// A request answered, but its answer held back until its body is in.
#[derive(Debug)]
struct Waiting {
    /// Body bytes still to arrive and be thrown away.
    body_left: u64,
    /// The response, sent once the body is in.
    response: Vec<u8>,
    /// Whether the connection stays open after it.
    keep_alive: bool,
}

impl Connection {
    /// A connection that has received nothing yet.
    pub fn new() -> Connection {
        Connection::default()
    }

    /// Adds bytes read from the socket.
    pub fn receive(&mut self, bytes: &[u8]) {
        self.input.extend_from_slice(bytes);
    }

    /// Appends to `out` a response to every request received so far whose
    /// body (if it has one) is all in, in order, and says whether to close
    /// once `out` is written. A `100 Continue` is appended as soon as the
    /// head of a request that asks for it is in.
    /// After `Close` the connection is done: do not call this again.
    pub fn respond(&mut self, out: &mut Vec<u8>) -> After {
        let mut consumed = 0;
        let after = loop {
            let rest = &self.input[consumed..];
            if let Some(waiting) = &mut self.waiting {
                // Skip the request's body, or as much as is here. (At most
                // MAX_BODY is left, so it fits a usize.)
                let skipped = rest.len().min(waiting.body_left as usize);
                consumed += skipped;
                waiting.body_left -= skipped as u64;
                if waiting.body_left > 0 {
                    break After::KeepOpen;
                }
                // The whole body is in: now the answer.
                out.append(&mut waiting.response);
                let keep_alive = waiting.keep_alive;
                self.waiting = None;
                if !keep_alive {
                    break After::Close;
                }
                continue;
            }
            // RFC 9112 asks servers to ignore empty lines before a request
            // (some clients send an extra CRLF after a body).
            if let Some(after_newline) = rest
                .strip_prefix(b"\r\n")
                .or_else(|| rest.strip_prefix(b"\n"))
            {
                consumed += rest.len() - after_newline.len();
                continue;
            }
            match find_head(rest) {
                Head::Partial => break After::KeepOpen,
                Head::TooLarge => {
                    bad_request(BadRequest("the request head is over 8 KiB"), out);
                    break After::Close;
                }
                Head::Complete(head_len) => match parse_head(&rest[..head_len]) {
                    Err(reason) => {
                        bad_request(reason, out);
                        break After::Close;
                    }
                    Ok(request) => {
                        consumed += head_len;
                        if request.expect == Expect::Other {
                            refuse("417 Expectation Failed", out);
                            break After::Close;
                        }
                        // The body would take too long to read, and the
                        // next request starts after it: refuse, and close.
                        if request.content_length > MAX_BODY {
                            refuse("413 Content Too Large", out);
                            break After::Close;
                        }
                        if request.expect == Expect::Continue && request.content_length > 0 {
                            out.extend_from_slice(CONTINUE);
                        }
                        let mut response = Vec::new();
                        respond(&request, &mut response);
                        // Answered at the top of the loop, once the body
                        // (perhaps empty) has been read.
                        self.waiting = Some(Waiting {
                            body_left: request.content_length,
                            response,
                            keep_alive: request.keep_alive,
                        });
                    }
                },
            }
        };
        self.input.drain(..consumed);
        after
    }
}
