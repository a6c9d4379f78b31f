//! Hello, blocking: three tasks wait at once, each on a thread of its own.
//!
//! Compare with `hello_event_loop.rs`: the same program, line for line, with
//! plain calls where the event-loop version has `async`/`.await`. (Here
//! `Runtime::new()` cannot fail, so it has no `?`; `main` still returns
//! `io::Result` so that the two files keep matching.)
//! Run: `cargo run --example hello_blocking`

use duet::blocking::{Runtime, sleep, spawn_named};
use std::time::{Duration, Instant};

fn main() -> std::io::Result<()> {
    let rt = Runtime::new();
    let start = Instant::now();
    rt.block_on(|| {
        let mut handles = Vec::new();
        for i in 1..=3 {
            // Named, so the trace shows "task {i} (sleeper {i})" on both runtimes.
            handles.push(spawn_named(format!("sleeper {i}"), move || {
                sleep(Duration::from_millis(100 * i));
                let thread = std::thread::current().name().unwrap_or("?").to_string();
                println!(
                    "task {i} woke after {:?} on thread {thread}",
                    start.elapsed()
                );
                i * 10
            }));
        }
        let mut total = 0;
        for handle in handles {
            total += handle.join().expect("the task did not panic");
        }
        println!("total {total}, all done in {:?}", start.elapsed());
    });
    Ok(())
}
