//! Hello, event loop: three tasks wait at once on one thread.
//!
//! Compare with `hello_blocking.rs`: the same program, line for line, with
//! `async`/`.await` where the blocking version has plain calls.
//! Run: `cargo run --example hello_event_loop`

use duet::event_loop::{Runtime, sleep, spawn_named};
use std::time::{Duration, Instant};

fn main() -> std::io::Result<()> {
    let rt = Runtime::new()?;
    let start = Instant::now();
    rt.block_on(async {
        let mut handles = Vec::new();
        for i in 1..=3 {
            // Named, so the trace shows "task {i} (sleeper {i})" on both runtimes.
            handles.push(spawn_named(format!("sleeper {i}"), async move {
                sleep(Duration::from_millis(100 * i)).await;
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
            total += handle.await.expect("the task did not panic");
        }
        println!("total {total}, all done in {:?}", start.elapsed());
    });
    Ok(())
}
