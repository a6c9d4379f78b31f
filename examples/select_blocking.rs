//! A heartbeat client that waits for three things at once — a line from a
//! server, a message from a producer, a periodic tick — on threads, and
//! stops on whichever says so.
//!
//! Compare with `select_event_loop.rs`. A thread waits in one call at a
//! time: in `read` it cannot hear the producer, in `recv` it cannot hear
//! the socket. So each source gets a thread that turns what it hears into
//! a message on one channel (the *inbox*), and the timer becomes the
//! timeout of the wait on that channel. The comments marked AWKWARD are
//! where the thread model costs more than the event loop's `select`.
//! Run: `cargo run --example select_blocking -- --stop-by producer`

#[path = "common/heartbeat.rs"]
mod heartbeat;

use duet::blocking::channel::{Sender, unbounded};
use duet::blocking::net::{ReadHalf, TcpListener, TcpStream};
use duet::blocking::{Runtime, sleep, spawn_named};
use heartbeat::{Event, Heartbeat, Lines, Plan};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

fn main() -> std::io::Result<()> {
    let plan = Plan::from_args();
    let rt = Runtime::new();
    rt.block_on(|| {
        // The server this client talks to, started here on a free port.
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let server = TcpStream::connect(listener.local_addr()?)?;
        let me = server.local_addr()?;
        let (server_lines, server_every) = (plan.server_lines(), plan.server_every);
        let server_thread = spawn_named("server", move || {
            serve(listener, me, server_lines, server_every)
        });

        // The inbox. We keep a sender ourselves, as the event loop keeps
        // one for its `recv`: the helpers' ends may all go.
        let (inbox_tx, inbox) = unbounded::<Event>();
        let (messages, producer_every) = (plan.producer_messages(), plan.producer_every);
        let producer_tx = inbox_tx.clone();
        let producer = spawn_named("producer", move || {
            produce(producer_tx, messages, producer_every)
        });
        // AWKWARD: a thread just to turn the socket into messages, because
        // this thread cannot wait in `read` and in `recv` at once.
        let (server_reader, server_writer) = server.into_split()?;
        let reader_tx = inbox_tx.clone();
        let reader = spawn_named("reader", move || read_lines(server_reader, reader_tx));

        let mut heartbeat = Heartbeat::new(&plan);
        // One deadline for the whole run, as on the event loop; here it is
        // the timeout of each wait, so a wait that a message ends early
        // leaves it where it was.
        let mut next_tick = Instant::now() + plan.tick_every;
        let stopped_by = 'run: loop {
            // Wait for whichever comes first: every source but the timer
            // has already been turned into an inbox message by its thread.
            let events =
                match inbox.recv_timeout(next_tick.saturating_duration_since(Instant::now())) {
                    Ok(event) => vec![event.expect("we hold a sender")],
                    Err(_elapsed) => {
                        next_tick += plan.tick_every;
                        vec![Event::Tick]
                    }
                };
            for event in events {
                if let Some(source) = heartbeat.handle(event) {
                    break 'run source;
                }
            }
        };

        // Stop the others. AWKWARD: a thread cannot be dropped like a
        // future; it must be *told*, and it hears only when its current
        // wait ends. Closing the inbox fails the producer's next send,
        // after its sleep (up to 55 ms from now); shutting our side of the
        // socket makes the server read EOF and close, and then the reader
        // thread's `read` returns 0.
        drop(inbox);
        let _ = server_writer.shutdown(); // (fails only if the server is gone already)
        let _ = producer.join();
        let _ = server_thread.join();
        let _ = reader.join();
        println!("{}", heartbeat.summary(stopped_by));
        Ok(())
    })
}

/// The server: accepts our client (and only it), sends `lines` at the
/// given pace, then reads until the client hangs up.
fn serve(listener: TcpListener, client: SocketAddr, lines: Vec<String>, every: Duration) {
    let mut stream = loop {
        match listener.accept() {
            Ok((stream, peer)) if peer == client => break stream,
            _ => continue, // a stranger on 127.0.0.1: not ours, drop it
        }
    };
    for line in lines {
        sleep(every);
        if stream.write_all(format!("{line}\n").as_bytes()).is_err() {
            return; // the client is gone
        }
    }
    let mut sink = [0u8; 512];
    while let Ok(1..) = stream.read(&mut sink) {}
}

/// The producer: sends `messages` at the given pace.
fn produce(tx: Sender<Event>, messages: Vec<String>, every: Duration) {
    for message in messages {
        sleep(every);
        if tx.send(Event::Message(message)).is_err() {
            return;
        }
    }
}

/// The socket's helper thread: every line read becomes an inbox message.
fn read_lines(mut server: ReadHalf, inbox: Sender<Event>) {
    let mut lines = Lines::default();
    let mut buf = [0u8; 512];
    loop {
        let events = match server.read(&mut buf) {
            Ok(0) | Err(_) => vec![Event::Hangup],
            Ok(n) => lines.push(&buf[..n]).into_iter().map(Event::Line).collect(),
        };
        let hung_up = matches!(events[..], [Event::Hangup]);
        for event in events {
            if inbox.send(event).is_err() {
                return; // the client has stopped listening
            }
        }
        if hung_up {
            return;
        }
    }
}
