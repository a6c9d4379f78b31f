//! Mistake on purpose: two tasks that wait for each other.
//!
//! `a` waits for `b` to finish and `b` waits for `a`, each through a
//! shared slot holding the other's `JoinHandle`; `block_on` waits for `a`.
//! Nobody can ever go first. Without help the program would hang forever,
//! silently. duet sees that nothing can wake any task (no timer, no
//! socket, no other thread holds a waker: only the tasks' own
//! `JoinHandle`s do) and `block_on` panics with a report that says
//! `deadlock` and what each task waits for.
//!
//! Run: `cargo run --example mistake_deadlock` (it panics, on purpose),
//! then with `-- --fixed` (the fix: only `a` waits for `b`; `b` just works).

use duet::event_loop::{JoinHandle, Runtime, spawn_named};
use std::cell::RefCell;
use std::future::poll_fn;
use std::pin::Pin;
use std::rc::Rc;

/// A place for a task's handle, shared by whoever wants to wait for it.
type Slot = Rc<RefCell<Option<JoinHandle<()>>>>;

/// Waits for the task whose handle is in `slot`.
async fn finished(slot: &Slot) {
    poll_fn(|cx| {
        let mut slot = slot.borrow_mut();
        let handle = slot
            .as_mut()
            .expect("the slot is filled before anyone waits");
        Pin::new(handle).poll(cx)
    })
    .await
    .expect("the task did not panic");
}

use std::future::Future;

fn main() -> std::io::Result<()> {
    let fixed = std::env::args().any(|arg| arg == "--fixed");
    let rt = Runtime::new()?;
    rt.block_on(async {
        let slot_a: Slot = Rc::default();
        let slot_b: Slot = Rc::default();
        let a = spawn_named("a", {
            let slot_b = slot_b.clone();
            async move {
                finished(&slot_b).await; // a waits for b
                println!("a is done");
            }
        });
        let b = spawn_named("b", {
            let slot_a = slot_a.clone();
            async move {
                if !fixed {
                    finished(&slot_a).await; // the mistake: b waits for a
                }
                println!("b is done");
            }
        });
        *slot_a.borrow_mut() = Some(a);
        *slot_b.borrow_mut() = Some(b);
        finished(&slot_a).await;
        println!("everyone is done");
    });
    Ok(())
}
