//! Chat server on the event loop: a hub task, and two tasks per client,
//! joined by channels, all on one thread.
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
//! - A **writer** per client takes what waits in that client's
//!   **outbox** (bytes, appended by the hub) and writes it all at once:
//!   however far it fell behind, it catches up with one `write`, or as few
//!   as the kernel's buffer allows. A channel of capacity 1, the
//!   *doorbell*, wakes it when there is something new.
//!
//! Why this shape: **a slow client never stalls the others for long.** The
//! hub never touches a socket and never waits on a channel to any one
//! client. When a client falls behind (more than 64 KiB unwritten, see
//! `common/chat.rs`) the hub waits a moment before taking the next
//! message: the bounded inbox fills, the readers wait to hand over their
//! lines, stop reading, and TCP slows down the clients that talk. So the
//! chat goes as fast as its slowest reader, and a reader that reads keeps
//! up however fast the others talk. A client that stays behind for three
//! seconds does not read, and is disconnected: its outbox is closed, the
//! others are told, and its writer and reader (which never wait longer
//! than `TICK` at a time) close its socket.
//!
//! Between the bytes and the lines sits `common/chat.rs`, which decodes
//! UTF-8 across reads and escapes control characters, so no client can
//! recolour or clear another's terminal.
//!
//! Diff it with `chat_blocking.rs`: the same server with a thread where
//! this one has a task; the difference is `async`, `.await` and the module
//! path, plus how a wait is bounded (`timeout` here, a socket timeout
//! there) and what happens when the OS has no thread to spare (there
//! only: a task needs no thread). Here a client that waits costs two
//! tasks, a few small allocations, rather than two threads with a stack
//! each, so a thousand idle clients are cheap.
//!
//! Run: `cargo run --example chat_event_loop`, then, in two or more other
//! terminals, `nc 127.0.0.1 7070` and type. `--help` lists the flags.
//!
//! Left out to stay short: nicknames.
//!
//! Read next: `tests/examples_chat.rs`, which runs this server with fifty
//! clients, with a flood, and with a client that never reads.

#[path = "common/chat.rs"]
mod chat;
#[path = "common/cli.rs"]
mod cli;

use chat::{Doorbell, Outbox};
use duet::event_loop::channel::{Receiver, Sender, bounded};
use duet::event_loop::net::{ReadHalf, TcpListener, TcpStream, WriteHalf};
use duet::event_loop::{Runtime, sleep, spawn_named, timeout, yield_now};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

const EXAMPLE: cli::Example = cli::Example {
    name: "chat_event_loop",
    about: "Chat server on duet::event_loop: a hub task, and two tasks per client, one thread.",
    default_addr: "127.0.0.1:7070",
    self_test: false,
    idle_timeout: false,
};

/// How many messages may wait for the hub before readers wait too.
const INBOX: usize = 256;

/// The longest a reader or writer waits in one `read` or `write` before
/// it looks whether the hub has disconnected its client.
const TICK: Duration = Duration::from_millis(500);

/// How long the hub waits for a client that is behind before it looks
/// again.
const PAUSE: Duration = Duration::from_millis(2);

/// What a client's reader tells the hub.
enum Message {
    /// A new client: its outbox, and the doorbell of its writer.
    Join {
        id: u64,
        outbox: Arc<Outbox>,
        doorbell: Sender<()>,
    },
    /// A line the client sent, without its line end.
    Line { id: u64, text: String },
    /// The client closed its connection, or the connection broke.
    Leave { id: u64 },
}

impl Doorbell for Sender<()> {
    fn ring(&self) {
        // `Full`: it rings already. `Closed`: the writer is gone.
        let _ = self.try_send(());
    }
}

fn main() -> io::Result<()> {
    let options = cli::parse(&EXAMPLE);
    let rt = Runtime::new()?;
    let listener = TcpListener::bind(&options.addr)?;
    cli::announce(listener.local_addr()?)?;
    rt.block_on(serve(listener))
}

/// Starts the hub, then accepts clients forever, each with two new tasks.
async fn serve(listener: TcpListener) -> io::Result<()> {
    let (inbox, messages) = bounded(INBOX);
    let _hub = spawn_named("hub", hub(messages));
    let mut next_id = 1;
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let (id, inbox) = (next_id, inbox.clone());
                next_id += 1;
                // A task needs no thread, so nothing is refused here; an
                // error ends this client only.
                if let Err(error) = start(id, stream, peer, inbox) {
                    cli::report(peer, error);
                }
            }
            Err(error) => {
                // Say, out of file descriptors. Not the end of the server,
                // but retrying at once would only fail again at once.
                eprintln!("accept: {error}");
                sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Starts a client's writer and reader. On an error the client is
/// turned away: every handle on its socket is dropped, which closes it.
fn start(id: u64, stream: TcpStream, peer: SocketAddr, inbox: Sender<Message>) -> io::Result<()> {
    // Chat lines are small: send each at once, not after an ACK (Nagle).
    stream.set_nodelay(true)?;
    let (reader, writer) = stream.into_split()?;
    let outbox = Outbox::new();
    let (doorbell, rings) = bounded(1);
    let writer_outbox = outbox.clone();
    let _writer = spawn_named(format!("writer {id}"), async move {
        deliver(writer, &writer_outbox, rings).await;
    });
    // Detached, both: they run until the client goes away.
    let _reader = spawn_named(format!("reader {id}"), async move {
        if let Err(error) = client(id, reader, outbox, doorbell, inbox).await {
            cli::report(peer, error);
        }
    });
    Ok(())
}

/// One client's life, on its reader: join the hub, pass its lines on,
/// leave.
async fn client(
    id: u64,
    mut reader: ReadHalf,
    outbox: Arc<Outbox>,
    doorbell: Sender<()>,
    inbox: Sender<Message>,
) -> io::Result<()> {
    let join = Message::Join {
        id,
        outbox: outbox.clone(),
        doorbell,
    };
    if inbox.send(join).await.is_err() {
        return Ok(()); // the hub is gone: there is no chat to join
    }
    let result = relay(id, &mut reader, &outbox, &inbox).await;
    // Whether it closed, broke or was disconnected, the client is gone:
    // the hub must stop writing to it and tell the others.
    let _ = inbox.send(Message::Leave { id }).await;
    result
}

/// Reads what the client sends and hands it to the hub line by line,
/// until the client closes its side or the hub disconnects it.
async fn relay(
    id: u64,
    reader: &mut ReadHalf,
    outbox: &Outbox,
    inbox: &Sender<Message>,
) -> io::Result<()> {
    let mut buf = [0u8; 4096];
    let mut lines = chat::Lines::default();
    loop {
        let n = match timeout(TICK, reader.read(&mut buf)).await {
            Ok(read) => read?,
            // A quiet TICK: fine, unless the hub has given up on us.
            Err(_elapsed) => {
                if outbox.is_closed() {
                    return Ok(());
                }
                continue;
            }
        };
        let eof = n == 0;
        lines.receive(&buf[..n]);
        while let Some(text) = lines.next_line(eof) {
            if text.is_empty() {
                continue; // an empty line says nothing
            }
            // Waits while the inbox is full: backpressure on this client.
            if inbox.send(Message::Line { id, text }).await.is_err() {
                return Ok(()); // the hub is gone
            }
        }
        if eof {
            return Ok(());
        }
    }
}

/// Writes what waits in the client's outbox each time the doorbell rings,
/// everything at once.
async fn deliver(mut writer: WriteHalf, outbox: &Outbox, rings: Receiver<()>) {
    let mut batch = Vec::new();
    let mut finishing = false;
    'rings: while rings.recv().await.is_some() {
        outbox.take(&mut batch);
        let mut sent = 0;
        while sent < batch.len() {
            // A `write` that times out was never made: nothing is lost.
            match timeout(TICK, writer.write(&batch[sent..])).await {
                Ok(Ok(n)) if n > 0 => {
                    sent += n;
                    outbox.wrote(n);
                }
                // The client reads nothing for a TICK: fine, unless the
                // hub has given up on it. Then it may still have the end
                // of the line in progress, if it reads within a TICK.
                Err(_elapsed) => {
                    if outbox.is_closed() {
                        let line_end = sent == 0 || batch[sent - 1] == b'\n';
                        if line_end || finishing {
                            break 'rings;
                        }
                        let rest = batch[sent..].iter().position(|&b| b == b'\n');
                        batch.truncate(sent + rest.map_or(0, |at| at + 1));
                        finishing = true;
                    }
                }
                // The connection broke (or takes no more bytes). Its
                // reader finds out too and tells the hub; meanwhile the
                // hub must not wait for us.
                Ok(_) => {
                    outbox.close();
                    return;
                }
            }
        }
    }
    // The hub dropped the doorbell or closed the outbox: the client left,
    // or was too slow and is disconnected. Say so with EOF; the socket
    // closes once the reader has ended too.
    let _ = writer.shutdown();
}

/// Owns the client list, and handles one message at a time. It waits in
/// `recv`, for the next message, and while a client is behind.
async fn hub(messages: Receiver<Message>) {
    let mut chat = chat::Hub::new();
    while let Some(first) = messages.recv().await {
        // This message, and up to a run of those already waiting (but
        // none once an outbox is full); then wake the writers once for
        // them all.
        let mut next = Some(first);
        let mut run = 0;
        while let Some(message) = next {
            match message {
                Message::Join {
                    id,
                    outbox,
                    doorbell,
                } => chat.join(id, outbox, doorbell),
                Message::Line { id, text } => chat.line(id, &text),
                Message::Leave { id } => chat.leave(id),
            }
            run += 1;
            if chat.owes_a_turn() {
                yield_now().await; // the OS preempts a thread; a task yields
            }
            next = if chat.may_take_more(run) {
                messages.try_recv()
            } else {
                None
            };
        }
        chat.ring_doorbells();
        // Take no message while a client is behind, until it catches up
        // or is disconnected: the talkers wait meanwhile.
        while chat.behind(Instant::now()) {
            sleep(PAUSE).await;
        }
    }
}
