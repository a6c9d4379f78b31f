//! Mistake on purpose: a future that stores its waker on the first poll
//! and never updates it.
//!
//! That works as long as the future stays in one task, whose waker never
//! changes. But a future can move: here `block_on` polls it once (a short
//! `timeout` that gives up), then hands it to a new task, `second owner`.
//! The helper thread later wakes the *stored* waker, the first owner's,
//! and the task that now waits is never woken.
//!
//! duet cannot see the stored waker, but it sees the consequence: when
//! `second owner` returns `Pending`, nobody holds *its* waker, and that is
//! reported as a lost waker naming `second owner`.
//!
//! Run: `cargo run --example mistake_stale_waker`, then with `-- --fixed`
//! (the fix: store the waker on every poll, unless `will_wake` says the
//! stored one is the same).

use duet::event_loop::{Runtime, spawn_named, timeout};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

#[derive(Default)]
struct Flag {
    set: AtomicBool,
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
        let mut stored = self.flag.waker.lock().unwrap();
        match &mut *stored {
            // The mistake (without --fixed): keep the first waker forever.
            Some(_) if !self.fixed => {}
            // The fix: the latest poller's waker wins.
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        drop(stored);
        if self.flag.set.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

fn main() -> std::io::Result<()> {
    let fixed = std::env::args().any(|arg| arg == "--fixed");
    let flag = Arc::new(Flag::default());
    let rt = Runtime::new()?;
    let setter = {
        let flag = flag.clone();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(200));
            flag.set.store(true, Ordering::Release);
            if let Some(waker) = flag.waker.lock().unwrap().take() {
                waker.wake();
            }
        })
    };
    rt.block_on(async {
        let mut future = FlagIsSet { flag, fixed };
        // First owner: block_on's future polls it, then gives up on it.
        let _ = timeout(Duration::from_millis(10), &mut future).await;
        // Second owner: a task that waits for it.
        let second = spawn_named("second owner", future);
        match timeout(Duration::from_secs(1), second).await {
            Ok(_) => println!("the second owner saw the flag"),
            Err(_) => println!("gave up after 1 s: the second owner was never woken"),
        }
    });
    setter.join().unwrap();
    Ok(())
}
