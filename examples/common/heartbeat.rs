//! The runtime-free half of the `select_*` examples: what the heartbeat
//! client does with each thing it hears, and when it stops.
//!
//! The client waits for three sources at once: a line from a server on
//! 127.0.0.1, a message from a producer, and a periodic tick. Whichever
//! says "stop" ends it: the server or the producer by sending `stop`, the
//! tick by reaching its count. `--stop-by server|producer|tick` picks which
//! one will (the others never say stop).
//!
//! Included by `select_blocking.rs` and `select_event_loop.rs` with
//! `#[path = "common/heartbeat.rs"] mod heartbeat;`. Nothing here waits,
//! so both runtimes share it unchanged.

use std::time::Duration;

/// One of the three things the client waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The server, over TCP.
    Server,
    /// The producer, over a channel.
    Producer,
    /// The periodic timer.
    Tick,
}

/// Something one source said.
pub enum Event {
    /// A whole line from the server.
    Line(String),
    /// The server closed the connection: a stop too.
    Hangup,
    /// A message from the producer.
    Message(String),
    /// The tick came round.
    Tick,
}

const USAGE: &str = "usage: [--stop-by server|producer|tick] (default: server)\n\
    A heartbeat client waits at once for a line from a server, a message from a\n\
    producer and a tick; the source named stops it (the others never do).";

/// How the run goes: who stops it, and how often each source speaks.
pub struct Plan {
    pub stop_by: Source,
    pub server_every: Duration,
    pub producer_every: Duration,
    pub tick_every: Duration,
    /// How many times each source speaks before the chosen one says stop.
    pub count: usize,
}

impl Plan {
    /// From `--stop-by server|producer|tick` (default: server); exits with
    /// status 2 on anything else.
    pub fn from_args() -> Plan {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let stop_by = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            [] | ["--stop-by", "server"] => Source::Server,
            ["--stop-by", "producer"] => Source::Producer,
            ["--stop-by", "tick"] => Source::Tick,
            ["--help"] | ["-h"] => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => {
                eprintln!("{USAGE}");
                std::process::exit(2);
            }
        };
        Plan {
            stop_by,
            server_every: Duration::from_millis(40),
            producer_every: Duration::from_millis(55),
            tick_every: Duration::from_millis(25),
            count: 4,
        }
    }

    /// What the server sends, in order, one line each.
    pub fn server_lines(&self) -> Vec<String> {
        self.script(Source::Server, "status")
    }

    /// What the producer sends, in order.
    pub fn producer_messages(&self) -> Vec<String> {
        self.script(Source::Producer, "message")
    }

    fn script(&self, source: Source, word: &str) -> Vec<String> {
        let mut said: Vec<String> = (1..=self.count).map(|n| format!("{word} {n}")).collect();
        if self.stop_by == source {
            said.push("stop".to_string());
        }
        said
    }
}

/// What the client has heard so far.
pub struct Heartbeat {
    plan_stop_by: Source,
    count: usize,
    lines: usize,
    messages: usize,
    ticks: usize,
}

impl Heartbeat {
    pub fn new(plan: &Plan) -> Heartbeat {
        Heartbeat {
            plan_stop_by: plan.stop_by,
            count: plan.count,
            lines: 0,
            messages: 0,
            ticks: 0,
        }
    }

    /// Prints what happened; `Some(source)` if that source said stop.
    pub fn handle(&mut self, event: Event) -> Option<Source> {
        match event {
            Event::Line(line) if line == "stop" => return Some(Source::Server),
            Event::Hangup => {
                println!("server hung up");
                return Some(Source::Server);
            }
            Event::Line(line) => {
                self.lines += 1;
                println!("server says: {line}");
            }
            Event::Message(message) if message == "stop" => return Some(Source::Producer),
            Event::Message(message) => {
                self.messages += 1;
                println!("producer says: {message}");
            }
            Event::Tick => {
                self.ticks += 1;
                println!("tick {}", self.ticks);
                if self.plan_stop_by == Source::Tick && self.ticks == self.count {
                    return Some(Source::Tick);
                }
            }
        }
        None
    }

    /// The last line: who stopped it, and what was heard.
    pub fn summary(&self, stopped_by: Source) -> String {
        let who = format!("{stopped_by:?}").to_lowercase();
        format!(
            "stopped by {who}: {} server line(s), {} message(s), {} tick(s)",
            self.lines, self.messages, self.ticks
        )
    }
}

/// Cuts a byte stream into lines. A line longer than [`Lines::MAX`] is cut
/// there, so a server that never sends a newline cannot make us buffer
/// without end.
#[derive(Default)]
pub struct Lines {
    pending: Vec<u8>,
}

impl Lines {
    pub const MAX: usize = 1024;

    /// Adds `bytes`; returns every line they complete, without newlines.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        for &byte in bytes {
            if byte == b'\n' || self.pending.len() == Self::MAX {
                lines.push(String::from_utf8_lossy(&self.pending).into_owned());
                self.pending.clear();
            }
            if byte != b'\n' {
                self.pending.push(byte);
            }
        }
        lines
    }
}
