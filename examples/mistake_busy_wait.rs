//! Mistake on purpose: waiting by spinning on `wake_by_ref`.
//!
//! A helper thread sets a flag after 500 ms. The future checks the flag
//! and, if it is not set, wakes its own task and returns `Pending`: it is
//! polled again at once, and again, thousands of times a millisecond. The
//! program works, but burns a core doing nothing. duet notices a task that
//! woke itself on every poll for a long time (200 ms by default,
//! `DUET_BUSY_WAIT_MS`) and names it.
//!
//! Run: `cargo run --example mistake_busy_wait`, then with `-- --fixed`
//! (the fix: wait on something that wakes the task when the flag is set;
//! here the thread sends on a channel, and the task awaits `recv`).

use duet::event_loop::{Runtime, channel, spawn_named};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

/// Ready once the flag is set; spins until then.
struct SpinUntilSet(Arc<AtomicBool>);

impl Future for SpinUntilSet {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        cx.waker().wake_by_ref(); // the mistake: "poll me again right away"
        Poll::Pending
    }
}

fn main() -> std::io::Result<()> {
    let fixed = std::env::args().any(|arg| arg == "--fixed");
    let flag = Arc::new(AtomicBool::new(false));
    let (sender, receiver) = channel::oneshot();
    let setter = {
        let flag = flag.clone();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(500));
            flag.store(true, Ordering::Release);
            let _ = sender.send(());
        })
    };
    let rt = Runtime::new()?;
    rt.block_on(async {
        let spinner = spawn_named("spinner", async move {
            if fixed {
                receiver.await; // the fix: woken once, when the thread sends
            } else {
                SpinUntilSet(flag).await;
            }
        });
        spinner.await.unwrap();
        println!("the flag is set");
    });
    setter.join().unwrap();
    Ok(())
}
