//! The race examples' shared parts: the bank's numbers, the flags, and the
//! verdict on a final balance.
//!
//! Shared by `race_blocking.rs` and `race_event_loop.rs`, which include it
//! with `#[path = "common/race.rs"] mod race;`. Nothing here depends on a
//! runtime, so there is no twin to diff it with.

/// How many customers each deposit into the one account.
pub const CUSTOMERS: u64 = 5;
/// What each of them deposits.
pub const DEPOSIT: u64 = 100;

/// What the command line asked for.
pub struct Options {
    /// Deposit the fixed way (no balance held across the pause).
    pub fixed: bool,
    /// Replay this one seed (event loop only).
    pub seed: Option<u64>,
    /// How many runs to try: seeds `0..tries` on the event loop, rounds of
    /// real threads on the blocking runtime.
    pub tries: u64,
}

fn usage(name: &str, seeds: bool) -> String {
    let seed_flag = if seeds {
        "  --seed N    run once under seed N and tell the story of that run\n  \
         --tries N   how many seeds to search, 0..N (default 200)\n"
    } else {
        "  --tries N   how many rounds to run (default 20)\n"
    };
    format!(
        "{CUSTOMERS} customers deposit {DEPOSIT} each into one account, and a balance read \
         before a pause is written back after it.\n\n\
         Usage: cargo run --example {name} [-- FLAGS]\n\nFlags:\n  \
         --fixed     deposit without holding the balance across the pause\n{seed_flag}"
    )
}

/// Parses the flags, or prints the usage and exits. `seeds`: whether this
/// runtime has seeds to offer (the event loop does; threads do not, the
/// OS schedules them).
pub fn parse(name: &str, seeds: bool) -> Options {
    let mut options = Options {
        fixed: false,
        seed: None,
        tries: if seeds { 200 } else { 20 },
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |flag: &str| -> u64 {
            let value = args.next().unwrap_or_default();
            value.parse().unwrap_or_else(|_| {
                eprintln!(
                    "{flag} needs a number, got {value:?}\n\n{}",
                    usage(name, seeds)
                );
                std::process::exit(2)
            })
        };
        match arg.as_str() {
            "--fixed" => options.fixed = true,
            "--seed" if seeds => options.seed = Some(number("--seed")),
            "--tries" => options.tries = number("--tries").max(1),
            "--help" | "-h" => {
                println!("{}", usage(name, seeds));
                std::process::exit(0)
            }
            _ => {
                eprintln!("unknown flag {arg:?}\n\n{}", usage(name, seeds));
                std::process::exit(2)
            }
        }
    }
    options
}

/// The balance every run should end with.
pub fn expected() -> u64 {
    CUSTOMERS * DEPOSIT
}

/// "ok", or how many deposits were lost.
pub fn verdict(balance: u64) -> String {
    if balance == expected() {
        format!("balance {balance}, expected {}: ok", expected())
    } else {
        let lost = expected().saturating_sub(balance) / DEPOSIT;
        format!(
            "balance {balance}, expected {}: LOST {lost} deposit(s)",
            expected()
        )
    }
}
