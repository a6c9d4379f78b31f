//! One thread, and still a race: a lost update between two `.await`s.
//!
//! Five customers each deposit 100 into one account, an
//! `Rc<RefCell<u64>>`. A deposit reads the balance, awaits a fraud check,
//! and writes back the balance it read plus 100:
//!
//! ```text
//! let balance = *account.borrow();           // read
//! fraud_check().await;                       // other tasks run here
//! *account.borrow_mut() = balance + amount;  // write back a stale balance?
//! ```
//!
//! There is one thread, and a `RefCell` borrow is never held across the
//! `.await`, so nothing here is undefined behaviour, and the compiler is
//! happy. Yet every `.await` is a point where other tasks may run, and if
//! another customer deposits while this one waits, its deposit is
//! overwritten: a *lost update*, the same bug threads have.
//!
//! Whether it happens depends on the order in which the loop polls its
//! tasks. Customers arrive one per turn of the loop (the bank yields after
//! letting each in). In first-woken-first-polled order (FIFO, the default),
//! each customer finishes its deposit before the next one reads: every
//! run ends with 500, and the bug hides. A *seeded* schedule
//! (`Builder::seed`) picks the next task at random among the runnable
//! ones; the program searches seeds until one loses a deposit, prints it,
//! and `--seed N` replays exactly that run (under the virtual clock, with
//! no real I/O, a seed fixes the whole run) and tells its story.
//!
//! The fix (`--fixed`) holds no state across the `.await`: do the awaiting
//! first, then read, add and write with no `.await` in between. Then no
//! order can interleave anything inside the update, and every seed ends
//! with 500.
//!
//! Run: `cargo run --example race_event_loop` (search), then
//! `cargo run --example race_event_loop -- --seed N` with the seed it
//! found, and `DUET_TRACE=1` in front to see every poll of that run.
//! `--fixed` runs the fixed deposit. docs/DETERMINISM.md explains seeds.
//!
//! Diff it with `race_blocking.rs`: the same bank on threads, where the
//! OS picks the order, differently on every run, and no seed replays it.

#[path = "common/race.rs"]
mod race;

use duet::event_loop::{Builder, spawn, yield_now};
use std::cell::RefCell;
use std::io;
use std::process::ExitCode;
use std::rc::Rc;

const NAME: &str = "race_event_loop";

fn main() -> io::Result<ExitCode> {
    let options = race::parse(NAME, true);
    if let Some(seed) = options.seed {
        // Replay one seed, telling the story of the run.
        let balance = run(Some(seed), options.fixed, true)?;
        println!("seed {seed}: {}", race::verdict(balance));
        return Ok(if balance == race::expected() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    let balance = run(None, options.fixed, false)?;
    // `Builder::new()` reads DUET_SEED: without it, the schedule is FIFO.
    let schedule = match std::env::var("DUET_SEED") {
        Ok(seed) if !seed.trim().is_empty() => format!("DUET_SEED={seed}"),
        _ => "FIFO".to_string(),
    };
    println!("{schedule}: {}", race::verdict(balance));
    for seed in 0..options.tries {
        let balance = run(Some(seed), options.fixed, false)?;
        if balance != race::expected() {
            println!("seed {seed}: {}", race::verdict(balance));
            println!("replay it: cargo run --example {NAME} -- --seed {seed}");
            return Ok(ExitCode::SUCCESS);
        }
    }
    println!("every seed in 0..{} ends ok", options.tries);
    Ok(ExitCode::SUCCESS)
}

/// One run of the bank on a fresh runtime: FIFO without a seed. The clock
/// is virtual, so nothing here depends on real time.
fn run(seed: Option<u64>, fixed: bool, tell: bool) -> io::Result<u64> {
    let mut builder = Builder::new().virtual_clock(true);
    if let Some(seed) = seed {
        builder = builder.seed(seed);
    }
    let rt = builder.build()?;
    Ok(rt.block_on(bank(fixed, tell)))
}

/// Lets the customers in, one per turn, and returns the final balance.
async fn bank(fixed: bool, tell: bool) -> u64 {
    let account = Rc::new(RefCell::new(0));
    let mut customers = Vec::new();
    for customer in 1..=race::CUSTOMERS {
        let account = account.clone();
        customers.push(spawn(async move {
            if fixed {
                deposit_fixed(&account, customer, race::DEPOSIT, tell).await;
            } else {
                deposit(&account, customer, race::DEPOSIT, tell).await;
            }
        }));
        yield_now().await; // the next customer comes in on the next turn
    }
    for customer in customers {
        customer.await.expect("a deposit does not panic");
    }
    *account.borrow()
}

/// The racy deposit: the balance read before the `.await` is written back
/// after it, whatever happened meanwhile.
async fn deposit(account: &RefCell<u64>, customer: u64, amount: u64, tell: bool) {
    let balance = *account.borrow();
    say(tell, customer, &format!("reads {balance}"));
    fraud_check().await;
    *account.borrow_mut() = balance + amount;
    say(tell, customer, &format!("writes {}", balance + amount));
}

/// The fixed deposit: await first, then read, add and write back with no
/// `.await` in between, so no other task can run inside the update.
async fn deposit_fixed(account: &RefCell<u64>, customer: u64, amount: u64, tell: bool) {
    fraud_check().await;
    let mut balance = account.borrow_mut();
    *balance += amount;
    say(tell, customer, &format!("adds {amount}: {}", *balance));
}

/// Stands for any `.await` (a database, a service): here a yield, which
/// lets every other runnable task run first.
async fn fraud_check() {
    yield_now().await;
}

fn say(tell: bool, customer: u64, what: &str) {
    if tell {
        println!("  customer {customer} {what}");
    }
}
