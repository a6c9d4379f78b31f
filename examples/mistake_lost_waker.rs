//! Mistake on purpose: a hand-written future that returns `Pending`
//! without handing its waker to anyone.
//!
//! A helper thread sets a flag after 100 ms. The future checks the flag
//! and, if it is not set yet, returns `Pending`, but never gives
//! `cx.waker()` to the thread, so nobody will ever wake the task: it sleeps
//! forever. duet notices at once (nobody but the runtime holds the waker)
//! and prints a line starting with `duet: ` naming the task.
//!
//! Run: `cargo run --example mistake_lost_waker` (the mistake), then
//! `cargo run --example mistake_lost_waker -- --fixed` (the fix: the future
//! leaves its waker where the thread will find it, and the thread wakes it).

use duet::event_loop::{Runtime, spawn_named, timeout};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

/// What the future and the helper thread share.
#[derive(Default)]
struct Flag {
    set: AtomicBool,
    /// Where the fixed future leaves its waker for the thread.
    waker: Mutex<Option<Waker>>,
}

/// Ready once the flag is set.
struct FlagIsSet {
    flag: Arc<Flag>,
    fixed: bool,
}

impl Future for FlagIsSet {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.flag.set.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        if self.fixed {
            // The fix: leave the waker for whoever will set the flag...
            *self.flag.waker.lock().unwrap() = Some(cx.waker().clone());
            // ...and look again, in case the flag was set meanwhile.
            if self.flag.set.load(Ordering::Acquire) {
                return Poll::Ready(());
            }
        }
        // The mistake (without --fixed): Pending, and nobody will wake us.
        Poll::Pending
    }
}

fn main() -> std::io::Result<()> {
    let fixed = std::env::args().any(|arg| arg == "--fixed");
    let flag = Arc::new(Flag::default());
    let setter = {
        let flag = flag.clone();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(100));
            flag.set.store(true, Ordering::Release);
            if let Some(waker) = flag.waker.lock().unwrap().take() {
                waker.wake();
            }
        })
    };
    let rt = Runtime::new()?;
    rt.block_on(async {
        let waiter = spawn_named("waiter", FlagIsSet { flag, fixed });
        match timeout(Duration::from_secs(1), waiter).await {
            Ok(_) => println!("the waiter saw the flag"),
            Err(_) => println!("gave up after 1 s: the waiter never ran again"),
        }
    });
    setter.join().unwrap();
    Ok(())
}
