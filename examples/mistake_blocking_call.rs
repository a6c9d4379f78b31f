//! Mistake on purpose: a blocking call (`std::thread::sleep`) inside a task.
//!
//! `worker` handles jobs as they arrive and, for each, calls a function
//! that blocks the thread for 100 ms (`std::thread::sleep` here; a blocking
//! `std::net` read or a file read does the same). The whole loop sleeps
//! with it: `heartbeat`, which should beat every 10 ms, stands still
//! meanwhile, and so would every socket and timer. duet notices a poll
//! that held the loop for longer than its threshold (20 ms by default,
//! `DUET_SLOW_POLL_MS`) and names the task.
//!
//! Run: `cargo run --example mistake_blocking_call`, then with `-- --fixed`
//! (the fix: `duet::event_loop::sleep(..).await`, which lets the loop run
//! the others meanwhile; for blocking work with no async version, use
//! `duet::event_loop::spawn_blocking`).

use duet::event_loop::{Runtime, channel, sleep, spawn_named};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

fn main() -> std::io::Result<()> {
    let fixed = std::env::args().any(|arg| arg == "--fixed");
    let rt = Runtime::new()?;
    rt.block_on(async {
        let (jobs, incoming) = channel::unbounded();
        let worker = spawn_named("worker", async move {
            while let Some(job) = incoming.recv().await {
                if fixed {
                    sleep(Duration::from_millis(100)).await; // the fix
                } else {
                    std::thread::sleep(Duration::from_millis(100)); // the mistake
                }
                println!("job {job} done");
            }
        });
        let beats = Rc::new(Cell::new(0));
        let counter = beats.clone();
        let heartbeat = spawn_named("heartbeat", async move {
            loop {
                sleep(Duration::from_millis(10)).await;
                counter.set(counter.get() + 1);
            }
        });
        for job in 1..=3 {
            jobs.send(job).await.expect("the worker is running");
            sleep(Duration::from_millis(150)).await;
        }
        drop(jobs);
        worker.await.unwrap();
        heartbeat.abort();
        println!(
            "the heartbeat beat {} times (every 10 ms, it would be about 50)",
            beats.get()
        );
    });
    Ok(())
}
