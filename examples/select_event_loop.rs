//! A heartbeat client that waits for three things at once — a line from a
//! server, a message from a producer, a periodic tick — on one task, with
//! `select`, and stops on whichever says so.
//!
//! Compare with `select_blocking.rs`: the same program on threads, where
//! "wait for any of three" takes a helper thread per source.
//! Run: `cargo run --example select_event_loop -- --stop-by producer`
//! With `DUET_TRACE=1`, the lines `cancels a pending wait` are the losers
//! of each `select` being dropped.

#[path = "common/heartbeat.rs"]
mod heartbeat;

use duet::event_loop::channel::{Sender, unbounded};
use duet::event_loop::net::{TcpListener, TcpStream};
use duet::event_loop::{Either, Runtime, select, sleep, sleep_until, spawn_named};
use heartbeat::{Event, Heartbeat, Lines, Plan};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

fn main() -> std::io::Result<()> {
    let plan = Plan::from_args();
    let rt = Runtime::new()?;
    rt.block_on(async {
        // The server this client talks to, started here on a free port.
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let mut server = TcpStream::connect(listener.local_addr()?).await?;
        let me = server.local_addr()?;
        let server_task = spawn_named(
            "server",
            serve(listener, me, plan.server_lines(), plan.server_every),
        );

        // The producer. We keep a sender ourselves: with every sender gone,
        // `recv` would be ready at once (with `None`) on every turn, and
        // the select below would spin.
        let (messages_tx, messages) = unbounded::<String>();
        let producer = spawn_named(
            "producer",
            produce(
                messages_tx.clone(),
                plan.producer_messages(),
                plan.producer_every,
            ),
        );

        let mut heartbeat = Heartbeat::new(&plan);
        let mut lines = Lines::default();
        let mut buf = [0u8; 512];
        // One deadline for the whole run: a `sleep(every)` made afresh on
        // each turn would restart whenever a message won the select.
        let mut next_tick = Instant::now() + plan.tick_every;
        let stopped_by = 'run: loop {
            // Wait for whichever comes first. The two losers are dropped;
            // `read` and `recv` are cancel safe (docs/CANCELLATION.md), so
            // a dropped one loses nothing.
            let events = match select(
                server.read(&mut buf),
                select(messages.recv(), sleep_until(next_tick)),
            )
            .await
            {
                Either::Left(read) => match read {
                    Ok(0) | Err(_) => vec![Event::Hangup],
                    Ok(n) => lines.push(&buf[..n]).into_iter().map(Event::Line).collect(),
                },
                Either::Right(Either::Left(message)) => {
                    vec![Event::Message(message.expect("we hold a sender"))]
                }
                Either::Right(Either::Right(())) => {
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

        // Stop the others. A task is stopped by dropping its future:
        // `abort` does that at once, wherever the producer is waiting.
        producer.abort();
        drop(server); // the server reads EOF and ends
        let _ = server_task.await;
        println!("{}", heartbeat.summary(stopped_by));
        Ok(())
    })
}

/// The server: accepts our client (and only it), sends `lines` at the
/// given pace, then reads until the client hangs up.
async fn serve(listener: TcpListener, client: SocketAddr, lines: Vec<String>, every: Duration) {
    let mut stream = loop {
        match listener.accept().await {
            Ok((stream, peer)) if peer == client => break stream,
            _ => continue, // a stranger on 127.0.0.1: not ours, drop it
        }
    };
    for line in lines {
        sleep(every).await;
        if stream
            .write_all(format!("{line}\n").as_bytes())
            .await
            .is_err()
        {
            return; // the client is gone
        }
    }
    let mut sink = [0u8; 512];
    while let Ok(1..) = stream.read(&mut sink).await {}
}

/// The producer: sends `messages` at the given pace.
async fn produce(tx: Sender<String>, messages: Vec<String>, every: Duration) {
    for message in messages {
        sleep(every).await;
        if tx.send(message).await.is_err() {
            return;
        }
    }
}
