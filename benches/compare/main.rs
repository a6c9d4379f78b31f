//! `cargo bench`: duet's event loop beside tokio's current-thread runtime
//! (and duet's blocking runtime, where threads make sense), on the same
//! workloads, in one run, printed as one table.
//!
//! A plain harness (`harness = false`), not criterion: the point is a
//! side-by-side table a learner can read, from workloads that take
//! milliseconds to seconds, repeated a few times with the median kept.
//! criterion's statistics would cost minutes and dependencies for
//! precision this comparison does not need.
//!
//! Flags (after `--`): `--quick` (one repetition, smaller network runs),
//! and any other word filters the workloads by name
//! (`cargo bench -- ping_pong timers`).

mod echo;
mod idle;
mod select;
mod table;
mod workloads;

use table::Table;

fn main() {
    if let Some(code) = idle::run_child_if_asked() {
        std::process::exit(code);
    }
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let quick = args.iter().any(|a| a == "--quick");
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let wanted =
        |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()));
    let repeats = if quick { 1 } else { 5 };

    println!(
        "duet benchmarks: {} repetition(s) per cell, median shown; {} CPU(s)\n",
        repeats,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut table = Table::new();
    workloads::run(&mut table, repeats, &wanted);
    if wanted("select") {
        select::run(&mut table, repeats);
    }
    if wanted("tcp_echo") {
        echo::run(&mut table, quick);
    }
    if wanted("idle_connections") {
        idle::run(&mut table, if quick { 2_000 } else { 10_000 });
    }
    table.print();
}
