//! `cargo bench`: duet's event loop beside the two single-thread runtimes
//! a learner would pick instead, tokio's current-thread runtime and smol
//! (async-executor's `LocalExecutor` on async-io), and beside duet's
//! blocking runtime where threads make sense; then the servers that use
//! every core. Same workloads, same load generator, one table.
//!
//! A plain harness (`harness = false`), not criterion: the point is a
//! side-by-side table a learner can read, from workloads that take
//! milliseconds to seconds. Every measurement runs in a fresh process
//! (`child.rs`), the runtimes in turns, a few repetitions each; a cell is
//! the median, with the spread beside it.
//!
//! Flags (after `--`): `--quick` (one repetition, smaller network runs),
//! and any other word filters the rows by name
//! (`cargo bench -- ping_pong timers`). `scaling` (how each cost grows
//! from 1k to 1M, `scaling.rs`) runs only when named:
//! `cargo bench -- scaling`.

mod child;
mod echo;
mod idle;
mod plan;
mod scaling;
mod select;
mod smol;
mod table;
mod timers;
mod workloads;

fn main() {
    if let Some(code) = idle::serve_if_asked() {
        std::process::exit(code);
    }
    if let Some((workload, runtime, size)) = child::asked() {
        match measure(&workload, &runtime, &size) {
            Some(metrics) => child::report(&metrics),
            None => {
                eprintln!("no such measurement: {workload} on {runtime} ({size})");
                std::process::exit(2);
            }
        }
        return;
    }
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let quick = args.iter().any(|a| a == "--quick");
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let wanted =
        |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()));
    let started = std::time::Instant::now();
    println!(
        "duet benchmarks: {} repetition(s) per cell (idle connections and scaling: {}), \
         each in a fresh process; {} CPU(s)",
        if quick { 1 } else { plan::REPEATS },
        if quick { 1 } else { 3 },
        echo::cores()
    );
    plan::run(quick, &wanted);
    if filters.iter().any(|f| f.as_str() == "scaling") {
        scaling::run(quick);
    }
    table::legend();
    println!("(took {:.0} s)", started.elapsed().as_secs_f64());
}

/// In a measuring child: one workload on one runtime.
fn measure(workload: &str, runtime: &str, size: &str) -> Option<child::Metrics> {
    match workload {
        "tcp_echo" => echo::measure(runtime, size),
        "idle_connections" => Some(idle::measure(runtime, size.parse().ok()?)),
        "select" => select::measure(runtime),
        _ if runtime == "smol" => smol::measure(workload, size.parse().ok()?),
        _ => workloads::measure(workload, runtime, size.parse().ok()?),
    }
}
