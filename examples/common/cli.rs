//! Command-line flags of the network examples, parsed by hand: there are
//! four, and a parser this small is easier to read than a dependency.
//!
//! Shared by the server examples (`echo_*`, `http_*` and `chat_*`), which
//! include it with
//! `#[path = "common/cli.rs"] mod cli;`. (Cargo does not build files in a
//! subdirectory of `examples/` as examples of their own unless the
//! directory has a `main.rs`.) Nothing here depends on a runtime, so there
//! is no twin to diff it with.
//!
//! Also here: [`announce`], which prints the line every server starts with.

use std::io::{self, Write};
use std::net::SocketAddr;

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
}

/// Round trips per client when `--rounds` is not given.
const DEFAULT_ROUNDS: usize = 1_000;

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

fn usage(example: &Example) -> String {
    let Example {
        name,
        about,
        default_addr,
        self_test,
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
