//! Threads and a lost update: the same bank as `race_event_loop.rs`.
//!
//! Five customers each deposit 100 into one account, an
//! `Arc<Mutex<u64>>`. A deposit reads the balance (under the lock), pauses
//! for a fraud check, and writes back the balance it read plus 100 (under
//! the lock again):
//!
//! ```text
//! let balance = *account.lock().unwrap();          // read
//! fraud_check();                                   // other threads run here
//! *account.lock().unwrap() = balance + amount;     // write back a stale balance?
//! ```
//!
//! Each access is locked, so there is no data race and no undefined
//! behaviour; but the lock is let go between the read and the write, and
//! another customer's deposit in that gap is overwritten. Here the threads
//! run at once, on every core, in whatever order the OS picks: lost
//! updates happen for real, a different number of them on each run, and
//! nothing replays a run. (The fraud check sleeps a millisecond, so the
//! next customer, let in meanwhile, almost always reads the same balance.)
//! The program runs the bank a few rounds and counts the bad ones.
//!
//! The fix (`--fixed`) is the same as on the event loop: pause first, then
//! read, add and write under one lock, so nothing can come in between.
//!
//! Run: `cargo run --example race_blocking`, and `-- --fixed`.
//!
//! Diff it with `race_event_loop.rs`, where one thread polls all the
//! customers: the race is the same, but there the order is the loop's to
//! choose, so a seed can find a bad order and replay it.

#[path = "common/race.rs"]
mod race;

use duet::blocking::{Runtime, sleep, spawn, yield_now};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const NAME: &str = "race_blocking";

fn main() -> ExitCode {
    let options = race::parse(NAME, false);
    let mut bad_rounds = 0;
    for round in 1..=options.tries {
        let balance = Runtime::new().block_on(|| bank(options.fixed));
        if balance != race::expected() {
            bad_rounds += 1;
        }
        println!("round {round}: {}", race::verdict(balance));
    }
    println!(
        "{bad_rounds} of {} rounds lost a deposit (the OS picked the order)",
        options.tries
    );
    ExitCode::SUCCESS
}

/// Lets the customers in, one after another, and returns the final balance.
fn bank(fixed: bool) -> u64 {
    let account = Arc::new(Mutex::new(0));
    let mut customers = Vec::new();
    for _customer in 1..=race::CUSTOMERS {
        let account = account.clone();
        customers.push(spawn(move || {
            if fixed {
                deposit_fixed(&account, race::DEPOSIT);
            } else {
                deposit(&account, race::DEPOSIT);
            }
        }));
        yield_now(); // the next customer comes in a moment later
    }
    for customer in customers {
        customer.join().expect("a deposit does not panic");
    }
    *account
        .lock()
        .expect("no deposit panicked holding the lock")
}

/// The racy deposit: the balance read before the pause is written back
/// after it, whatever happened meanwhile.
fn deposit(account: &Mutex<u64>, amount: u64) {
    let balance = *account.lock().expect("not poisoned");
    fraud_check();
    *account.lock().expect("not poisoned") = balance + amount;
}

/// The fixed deposit: pause first, then read, add and write back under
/// one lock, so no other thread can come in between.
fn deposit_fixed(account: &Mutex<u64>, amount: u64) {
    fraud_check();
    *account.lock().expect("not poisoned") += amount;
}

/// Stands for any blocking call (a database, a service).
fn fraud_check() {
    sleep(Duration::from_millis(1));
}
