//! Command-line flags of the network examples, parsed by hand: there are
//! five, and a parser this small is easier to read than a dependency.
//!
//! Shared by the server examples (`echo_*`, `http_*` and `chat_*`), which
//! include it with
//! `#[path = "common/cli.rs"] mod cli;`. (Cargo does not build files in a
//! subdirectory of `examples/` as examples of their own unless the
//! directory has a `main.rs`.) Nothing here depends on a runtime, so there
//! is no twin to diff it with.
//!
//! Also here: [`announce`], which prints the line every server starts
//! with, and two helpers of the blocking twins: [`timed_out`], and
//! [`Refusals`], which logs connections turned away for want of a thread.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::Duration;

/// What the command line asked for.
pub struct Options {
    /// Where to listen, as given (`--addr`).
    pub addr: String,
    /// `--clients N`: run the self-test with N client threads, then exit.
    // The HTTP examples have no self-test and never read these two.
    #[allow(dead_code)]
    pub clients: Option<usize>,
    /// `--rounds R`: round trips per self-test client.
    #[allow(dead_code)]
    pub rounds: usize,
    /// `--idle-timeout SECS`: close a connection that sends nothing (or
    /// reads nothing we send) for this long. Only the echo and HTTP
    /// servers have it; a chat client may sit quiet for hours.
    #[allow(dead_code)]
    pub idle_timeout: Duration,
}

/// How to describe one example in `--help`.
pub struct Example {
    /// The example's name, for `cargo run --example NAME`.
    pub name: &'static str,
    /// One line saying what it is.
    pub about: &'static str,
    /// The `--addr` used when none is given.
    pub default_addr: &'static str,
    /// Whether it has the `--clients`/`--rounds` self-test.
    pub self_test: bool,
    /// Whether it has `--idle-timeout`.
    pub idle_timeout: bool,
}

/// Round trips per client when `--rounds` is not given.
const DEFAULT_ROUNDS: usize = 1_000;

/// `--idle-timeout` when not given: long enough for a person typing into
/// `nc`, short enough that silent connections do not pile up. (nginx's
/// `client_header_timeout` defaults to 60 s; a teaching server can be
/// stricter.)
const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// Parses the process's arguments. On `--help` prints the usage and exits
/// with status 0; on a bad argument prints what is wrong and exits with 2.
pub fn parse(example: &Example) -> Options {
    match parse_args(example, std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{}", usage(example));
            std::process::exit(0);
        }
        Err(error) => {
            eprintln!("{}: {error}\n\n{}", example.name, usage(example));
            std::process::exit(2);
        }
    }
}

/// The parser proper; `Ok(None)` means `--help`.
fn parse_args(
    example: &Example,
    args: impl IntoIterator<Item = String>,
) -> Result<Option<Options>, String> {
    let mut args = args.into_iter();
    let mut options = Options {
        addr: example.default_addr.to_string(),
        clients: None,
        rounds: DEFAULT_ROUNDS,
        idle_timeout: DEFAULT_IDLE_TIMEOUT,
    };
    while let Some(arg) = args.next() {
        // `--clients=5` and `--clients 5` both work.
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_string(), Some(value.to_string()))
            }
            _ => (arg, None),
        };
        let value = || {
            inline
                .or_else(|| args.next())
                .ok_or(format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--addr" => options.addr = value()?,
            "--clients" if example.self_test => options.clients = Some(positive(&flag, value()?)?),
            "--rounds" if example.self_test => options.rounds = positive(&flag, value()?)?,
            "--idle-timeout" if example.idle_timeout => {
                options.idle_timeout = seconds(&flag, value()?)?;
            }
            _ => return Err(format!("unknown argument '{flag}'")),
        }
    }
    Ok(Some(options))
}

/// A count of at least 1.
fn positive(flag: &str, value: String) -> Result<usize, String> {
    match value.parse() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "{flag} wants a whole number of at least 1, not '{value}'"
        )),
    }
}

/// A duration in seconds, more than 0 and at most a day (`1.5` is fine).
fn seconds(flag: &str, value: String) -> Result<Duration, String> {
    match value.parse::<f64>() {
        Ok(secs) if secs > 0.0 && secs <= 86_400.0 => Ok(Duration::from_secs_f64(secs)),
        _ => Err(format!(
            "{flag} wants a number of seconds above 0 and at most 86400, not '{value}'"
        )),
    }
}

fn usage(example: &Example) -> String {
    let Example {
        name,
        about,
        default_addr,
        self_test,
        idle_timeout,
    } = example;
    let mut text = format!(
        "{about}\n\n\
         Usage: cargo run --release --example {name} [-- FLAGS]\n\n\
         Flags:\n  \
         --addr HOST:PORT  where to listen (default {default_addr}); port 0 picks a free port\n"
    );
    if *self_test {
        text.push_str(
            "  --clients N       self-test: start the server, then N client threads that\n                    \
             each make R round trips of 64 bytes; print the rate and the\n                    \
             latency percentiles, and exit\n  \
             --rounds R        round trips per client (default 1000)\n",
        );
    }
    if *idle_timeout {
        text.push_str(
            "  --idle-timeout S  close a connection that sends nothing, or reads nothing we\n                    \
             send, for S seconds (HTTP: whose next request is not all in\n                    \
             S seconds after the last response); default 10\n",
        );
    }
    text.push_str(
        "  -h, --help        print this help and exit\n\n\
         The first line printed is 'listening on HOST:PORT', with the real port.\n",
    );
    text
}

/// Prints `listening on ADDR` and flushes it at once. It is the first line
/// every server prints: scripts and tests that started it with port 0 read
/// the real port from it.
pub fn announce(addr: SocketAddr) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "listening on {addr}")?;
    stdout.flush()
}

/// Prints why a connection ended with an error, unless the client merely
/// went away: a reset or a broken pipe is routine (load generators such as
/// `wrk` reset their connections when they stop), and a line for each
/// would bury the errors worth reading.
pub fn report(peer: SocketAddr, error: io::Error) {
    use io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset};
    if !matches!(
        error.kind(),
        ConnectionReset | ConnectionAborted | BrokenPipe
    ) {
        eprintln!("{peer}: {error}");
    }
}

/// Whether an error is a socket timeout running out: `set_read_timeout`
/// and `set_write_timeout` make a blocking call fail with `WouldBlock` on
/// Unix and `TimedOut` on Windows.
// Only the blocking twins set socket timeouts.
#[allow(dead_code)]
pub fn timed_out(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Connections a blocking server turned away because the OS would not
/// start a thread for them (`duet::blocking::try_spawn` failed).
///
/// Logs once when refusals start, and once when a connection is served
/// again, with the count: under a thread limit a server may refuse
/// thousands of connections a second, and a line for each would flood the
/// log. (The event-loop twins need no thread per connection.)
#[allow(dead_code)]
#[derive(Default)]
pub struct Refusals {
    /// Connections refused since the last one served.
    refused: u64,
}

#[allow(dead_code)]
impl Refusals {
    /// Records how starting a connection went. Its socket is closed
    /// already if it failed: it was dropped with the closure that
    /// should have run it.
    pub fn note(&mut self, started: io::Result<()>) {
        match started {
            Err(error) => {
                if self.refused == 0 {
                    eprintln!(
                        "cannot start a connection ({error}; most likely no thread \
                         to spare): turning connections away until one starts"
                    );
                }
                self.refused += 1;
            }
            Ok(()) if self.refused > 0 => {
                eprintln!("serving connections again ({} turned away)", self.refused);
                self.refused = 0;
            }
            Ok(()) => {}
        }
    }
}
