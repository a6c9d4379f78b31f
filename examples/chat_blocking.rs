//! Chat server on the blocking runtime: a hub thread, and two threads per
//! client, joined by channels.
//!
//! Every line a client sends goes to every *other* client, as
//! `[client 3] hello`. The work is split three ways:
//!
//! ```text
//! client 1 ─► reader 1 ─┐                      ┌─► outbox 1 ─► writer 1 ─► client 1
//! client 2 ─► reader 2 ─┼─► inbox ─► hub ──────┼─► outbox 2 ─► writer 2 ─► client 2
//! client 3 ─► reader 3 ─┘   join,    (owns the └─► outbox 3 ─► writer 3 ─► client 3
//!                           line,    client list)
//!                           leave
//! ```
//!
//! - A **reader** per client cuts what the client sends into lines and
//!   sends each to the hub.
//! - The **hub** alone knows who is connected. Joins, lines and leaves
//!   reach it on one channel, one at a time and in order, so the client
//!   list needs no lock and no one else ever sees it.
//! - A **writer** per client takes lines from that client's **outbox**, a
//!   bounded channel, and writes them to its socket.
//!
//! Why this shape: **a slow client never stalls the others.** The hub
//! must never wait for any one client, so it never touches a socket and
//! never calls a `send` that could wait: it hands each line to each outbox
//! with `try_send`. A client that stops reading first fills the kernel's
//! socket buffers, then its writer stalls in `write`, then its outbox
//! fills up. The next `try_send` to it fails with `Full`, and the hub
//! disconnects it: drops its outbox and tells the others, rather than
//! wait for it (stalling everyone) or skip lines it can never get back.
//! The writer holds the socket, not the hub; once the client reads again
//! (or goes), the writer gets out of `write`, finds the outbox closed and
//! shuts the socket down for writing, so the client reads EOF.
//!
//! The other direction waits on purpose: a reader's `send` into the
//! bounded inbox waits while the hub is behind, the reader stops reading
//! meanwhile, and TCP slows down a client that talks faster than the hub
//! can pass its lines on (backpressure, as in `pipeline_blocking.rs`).
//!
//! Diff it with `chat_event_loop.rs`: the same server with a task where
//! this one has a thread, all on one thread; the difference is `async`,
//! `.await` and the module path.
//!
//! Run: `cargo run --example chat_blocking`, then, in two or more other
//! terminals, `nc 127.0.0.1 7070` and type. `--help` lists the flags.
//!
//! Left out to stay short: nicknames, and a limit on how long a writer may
//! sit in `write` for a client that was disconnected but never reads
//! again (it waits there until the client closes the connection).
//!
//! Read next: `tests/examples_chat.rs`, which runs this server with fifty
//! clients, one of which never reads.

#[path = "common/cli.rs"]
mod cli;

use duet::blocking::channel::{Receiver, Sender, TrySendError, bounded};
use duet::blocking::net::{ReadHalf, TcpListener, TcpStream, WriteHalf};
use duet::blocking::{Runtime, sleep, spawn_named};
use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;
use std::time::Duration;

const EXAMPLE: cli::Example = cli::Example {
    name: "chat_blocking",
    about: "Chat server on duet::blocking: a hub thread, and two threads per client.",
    default_addr: "127.0.0.1:7070",
    self_test: false,
};

/// How many lines a client's outbox holds: how far a client may fall
/// behind, on top of what the kernel's socket buffers hold, before the
/// hub gives up on it. Roomy, so that a client that reads is never taken
/// for a slow one just because its writer was not scheduled for a moment.
const OUTBOX: usize = 1024;

/// How many messages may wait for the hub before readers wait too.
const INBOX: usize = 256;

/// The longest line, in bytes. A longer one is passed on in pieces of this
/// size, so a client that never sends a line end cannot make us buffer
/// without end.
const MAX_LINE: usize = 4096;

/// What a client's reader tells the hub.
enum Message {
    /// A new client, and the sending end of its outbox.
    Join { id: u64, outbox: Sender<Arc<str>> },
    /// A line the client sent, without its line end.
    Line { id: u64, text: String },
    /// The client closed its connection, or the connection broke.
    Leave { id: u64 },
}

fn main() -> io::Result<()> {
    let options = cli::parse(&EXAMPLE);
    let rt = Runtime::new();
    let listener = TcpListener::bind(&options.addr)?;
    cli::announce(listener.local_addr()?)?;
    rt.block_on(|| serve(listener));
    Ok(())
}

/// Starts the hub, then accepts clients forever, each on a new thread.
fn serve(listener: TcpListener) {
    let (inbox, messages) = bounded(INBOX);
    let _hub = spawn_named("hub", move || hub(messages));
    let mut next_id = 1;
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                let (id, inbox) = (next_id, inbox.clone());
                next_id += 1;
                // Detached: it runs until its client goes away. An error
                // ends this client only, never the server.
                let _reader = spawn_named(format!("reader {id}"), move || {
                    if let Err(error) = client(id, stream, inbox) {
                        cli::report(peer, error);
                    }
                });
            }
            Err(error) => {
                // Say, out of file descriptors. Not the end of the server,
                // but retrying at once would only fail again at once.
                eprintln!("accept: {error}");
                sleep(Duration::from_millis(50));
            }
        }
    }
}

/// One client's life, on its reader: start its writer, join the hub,
/// pass its lines on, leave.
fn client(id: u64, stream: TcpStream, inbox: Sender<Message>) -> io::Result<()> {
    // Chat lines are small: send each at once, not after an ACK (Nagle).
    stream.set_nodelay(true)?;
    let (mut reader, writer) = stream.into_split()?;
    let (outbox, lines) = bounded(OUTBOX);
    let _writer = spawn_named(format!("writer {id}"), move || deliver(writer, lines));
    if inbox.send(Message::Join { id, outbox }).is_err() {
        return Ok(()); // the hub is gone: there is no chat to join
    }
    let result = relay(id, &mut reader, &inbox);
    // Whether it closed or broke, the client is gone: the hub must stop
    // writing to it and tell the others.
    let _ = inbox.send(Message::Leave { id });
    result
}

/// Reads what the client sends and hands it to the hub line by line,
/// until the client closes its side.
fn relay(id: u64, reader: &mut ReadHalf, inbox: &Sender<Message>) -> io::Result<()> {
    let mut buf = [0u8; 4096];
    let mut pending = Vec::new();
    loop {
        let n = reader.read(&mut buf)?;
        let eof = n == 0;
        pending.extend_from_slice(&buf[..n]);
        while let Some(text) = next_line(&mut pending, eof) {
            if text.is_empty() {
                continue; // an empty line says nothing
            }
            // Waits while the inbox is full: backpressure on this client.
            if inbox.send(Message::Line { id, text }).is_err() {
                return Ok(()); // the hub is gone
            }
        }
        if eof {
            return Ok(());
        }
    }
}

/// Writes what arrives in the client's outbox to its socket.
fn deliver(mut writer: WriteHalf, lines: Receiver<Arc<str>>) {
    while let Some(line) = lines.recv() {
        if writer.write_all(line.as_bytes()).is_err() {
            // The client is gone. Its reader finds out too and tells the
            // hub; until then the hub's `try_send`s get `Closed`.
            return;
        }
    }
    // The hub dropped the outbox: the client left, or was too slow and is
    // disconnected. Say so with EOF.
    let _ = writer.shutdown();
}

/// The clients the hub knows, by number, each with its outbox.
type Clients = BTreeMap<u64, Sender<Arc<str>>>;

/// Owns the client list, and handles one message at a time. The only
/// place it waits is `recv`, for the next message.
fn hub(messages: Receiver<Message>) {
    let mut clients = Clients::new();
    while let Some(message) = messages.recv() {
        match message {
            Message::Join { id, outbox } => {
                let others = clients.len();
                // The outbox is new and empty, so this is never `Full`;
                // `Closed` means the client is already gone (its `Leave`
                // follows).
                let welcome = format!("* welcome! you are client {id}; {others} other(s) here\n");
                let _ = outbox.try_send(welcome.into());
                broadcast(&mut clients, None, format!("* client {id} joined\n"));
                clients.insert(id, outbox);
            }
            // A client the hub has disconnected may still be sending; it is
            // no longer heard.
            Message::Line { id, text } if clients.contains_key(&id) => {
                broadcast(&mut clients, Some(id), format!("[client {id}] {text}\n"));
            }
            Message::Line { .. } => {}
            Message::Leave { id } => {
                if clients.remove(&id).is_some() {
                    broadcast(&mut clients, None, format!("* client {id} left\n"));
                }
            }
        }
    }
}

/// Hands `line` to every client except `from`, without ever waiting, and
/// disconnects every client too slow to take it.
fn broadcast(clients: &mut Clients, from: Option<u64>, line: String) {
    // One copy of the text, shared by every outbox.
    let line: Arc<str> = line.into();
    let mut too_slow = Vec::new();
    clients.retain(|&id, outbox| {
        if Some(id) == from {
            return true;
        }
        match outbox.try_send(line.clone()) {
            Ok(()) => true,
            // Its writer is gone; its reader's `Leave` is on the way.
            Err(TrySendError::Closed(_)) => true,
            // Waiting here would stall every client behind this one, and
            // dropping the line would leave a gap it never hears about.
            // Removing the entry drops the outbox: that disconnects it.
            Err(TrySendError::Full(_)) => {
                too_slow.push(id);
                false
            }
        }
    });
    for id in too_slow {
        eprintln!("client {id} fell {OUTBOX} lines behind: disconnected");
        let notice = format!("* client {id} was too slow to keep up and was disconnected\n");
        broadcast(clients, None, notice);
    }
}

/// Takes the next line out of `pending`: up to a line end (`\n` or
/// `\r\n`), or `MAX_LINE` bytes of a longer line, or, at EOF, whatever is
/// left. Bytes that are not UTF-8 become `�`.
fn next_line(pending: &mut Vec<u8>, eof: bool) -> Option<String> {
    let (end, skip) = match pending.iter().position(|&byte| byte == b'\n') {
        Some(newline) if newline <= MAX_LINE => (newline, 1),
        _ if pending.len() >= MAX_LINE => (MAX_LINE, 0),
        _ if eof && !pending.is_empty() => (pending.len(), 0),
        _ => return None,
    };
    let mut line: Vec<u8> = pending.drain(..end + skip).take(end).collect();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Some(String::from_utf8_lossy(&line).into_owned())
}
