//! A pipeline on the blocking runtime: bounded channels make backpressure.
//!
//! Three stages, joined by two bounded channels:
//!
//! ```text
//! producer ──► work (holds C) ──► W workers ──► results (holds C) ──► collector
//! ```
//!
//! The producer makes items as fast as it can. Each worker takes an item,
//! works on it for a while (a sleep stands in for the work) and passes the
//! result on; the collector adds the results up. The workers are the slow
//! stage, so the `work` channel fills up, and from then on the producer's
//! `send` must wait for a free slot. That wait is **backpressure**: the
//! producer runs exactly as fast as the workers take items, and at no
//! moment do more than C items wait in a channel, however many there are.
//! (With an unbounded channel the producer would race ahead, and every
//! item it made would sit in memory until a worker got to it.)
//!
//! Here every stage is a thread, and a full channel puts the producer's
//! thread to sleep in the kernel. The whole run is traced with
//! `duet::trace::capture`: the program counts the producer's waits in the
//! trace (the `Block { on: "send" }` events of the thread named
//! "producer") and draws the timeline as an SVG.
//!
//! Diff it with `pipeline_event_loop.rs`: the same pipeline with a task
//! per stage, all on one thread, where a full channel leaves a waker in
//! the channel instead of putting a thread to sleep. Apart from `async`,
//! `.await` and the module path, the workers share their receiver in an
//! `Arc` here (threads) and an `Rc` there (one thread), and the trace
//! calls the producer's wait by its event-loop name.
//!
//! Run: `cargo run --example pipeline_blocking`, then open
//! `target/pipeline_blocking.svg` in a browser: the producer's lane is a
//! row of short bursts and long "send" waits. `--help` lists the sizes.
//!
//! Read next: `chat_blocking.rs`, which uses bounded channels the other
//! way round: its hub never waits on a channel to a client, so it uses
//! `try_send`.

#[path = "common/pipeline_flags.rs"]
mod flags;

use duet::blocking::channel::{Receiver, Sender, bounded};
use duet::blocking::{Runtime, sleep, spawn_named};
use duet::trace::{self, Event, EventKind};
use flags::{Options, Sizes};
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

const NAME: &str = "pipeline_blocking";

fn main() -> io::Result<()> {
    let Options { sizes, svg } = flags::parse(NAME);
    let rt = Runtime::new();
    let start = Instant::now();
    // Everything the runtime does inside is recorded, on every thread.
    let (checksum, events) = trace::capture(|| rt.block_on(|| pipeline(sizes)));
    let took = start.elapsed();
    let waits = events.iter().filter(|event| producer_waited(event)).count();

    let Sizes {
        items,
        workers,
        capacity,
        work,
    } = sizes;
    println!(
        "producer → {workers} workers → collector: {items} items, {} ms of work each, \
         channels that hold {capacity}",
        work.as_millis()
    );
    println!("checksum: {checksum} (the sum of i² for i = 1..={items})");
    let why = if waits == 0 {
        "the channels never filled up: raise --items or lower --capacity"
    } else {
        "it could go only as fast as the workers took items"
    };
    println!("producer waited on a full channel: {waits} times ({why})");
    println!(
        "took: {} ms (the workers set the pace: {items} items × {} ms ÷ {workers} workers ≈ {} ms)",
        took.as_millis(),
        work.as_millis(),
        (work * items as u32).as_millis() / workers as u128
    );
    if let Some(dir) = svg.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&svg, trace::render_svg(&events))?;
    println!("timeline: {}", svg.display());
    // The same summary `DUET_TRACE` prints when a runtime is dropped.
    print!("{}", trace::Summary::of(&events));
    Ok(())
}

/// Runs the three stages and returns what the collector added up.
fn pipeline(sizes: Sizes) -> u64 {
    let (work_tx, work_rx) = bounded(sizes.capacity);
    let (result_tx, result_rx) = bounded(sizes.capacity);
    // Named, so that the trace (and the timeline's lanes) can tell who is who.
    let producer = spawn_named("producer", move || produce(sizes.items, work_tx));
    // One receiver, shared: each item goes to whichever worker asks first.
    let work_rx = Arc::new(work_rx);
    let mut workers = Vec::new();
    for n in 1..=sizes.workers {
        let (work_rx, result_tx) = (work_rx.clone(), result_tx.clone());
        workers.push(spawn_named(format!("worker {n}"), move || {
            work(work_rx, result_tx, sizes.work)
        }));
    }
    // Now only the workers hold senders of `results`: when the last one
    // finishes, the collector's `recv` returns `None` and it is done.
    drop(result_tx);
    let collector = spawn_named("collector", move || collect(result_rx));
    producer.join().expect("the producer does not panic");
    for worker in workers {
        worker.join().expect("a worker does not panic");
    }
    collector.join().expect("the collector does not panic")
}

/// Sends 1, 2, …, `items`, as fast as the channel lets it.
fn produce(items: u64, work: Sender<u64>) {
    for item in 1..=items {
        // While the channel is full this waits: the backpressure.
        work.send(item).expect("the workers are still receiving");
    }
    // Dropping `work` here tells the workers that no more items will come.
}

/// Takes items until there are no more; sends each one's square on.
fn work(items: Arc<Receiver<u64>>, results: Sender<u64>, cost: Duration) {
    while let Some(item) = items.recv() {
        sleep(cost); // the work
        results
            .send(item * item)
            .expect("the collector is still receiving");
    }
}

/// Adds up the results until every worker is done.
fn collect(results: Receiver<u64>) -> u64 {
    let mut sum = 0;
    while let Some(result) = results.recv() {
        sum += result;
    }
    sum
}

/// Is `event` the producer starting to wait on a channel? Its only channel
/// call is `send`, so this is it waiting for a free slot.
fn producer_waited(event: &Event) -> bool {
    // A blocking task that must wait puts its thread to sleep in the kernel.
    event.task_name.as_deref() == Some("producer")
        && matches!(event.kind, EventKind::Block { on: "send", .. })
}
