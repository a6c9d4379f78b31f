//! The tour's plan: parse the flags, then either run the whole tour (the
//! parent) or run one measured workload (a child).
//!
//! Why child processes: peak memory (`VmHWM`) is a high-water mark for the
//! whole process and never goes down. If the runtimes ran in one process,
//! each would inherit the peaks of the ones before it. So the parent
//! re-runs this very binary once per (runtime, workload) pair with a
//! hidden `--child` flag; each child measures itself and prints one line.
//! The children run one at a time, so they never compete for the CPU.
//!
//! Read next: `workloads/mod.rs` (what is run, on which runtime, in
//! `timers.rs`, `cpu.rs` and `network.rs`), then `load.rs` (the network
//! clients), `measure.rs` (how it is measured), `report.rs` and
//! `explain.rs` (how it is shown and read), `timeline.rs` (the picture)
//! and `args.rs` (the flags).

mod args;
mod explain;
mod load;
mod measure;
mod report;
mod timeline;
mod workloads;

use args::{Command, Options};
use std::process::ExitCode;
use std::time::Duration;
use workloads::{Run, Workload, cpu};

/// Entry point of the tour binary.
pub fn main() -> ExitCode {
    let command = match args::parse(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(message) => {
            // Exit code 2 is the convention for "you called me wrong".
            eprintln!("error: {message}\n\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    match command {
        Command::Help => {
            print!("{}", args::USAGE);
            ExitCode::SUCCESS
        }
        Command::Child(run, params) => match measure::child(run, &params) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("{} on {}: {err}", run.workload.name(), run.runtime.label());
                ExitCode::FAILURE
            }
        },
        Command::Tour(options) => tour(options),
    }
}

/// The parent side: every workload on every runtime, each in its own
/// child, then the table and its reading; last, the timeline page.
fn tour(options: Options) -> ExitCode {
    let mut params = options.params;
    println!(
        "duet tour: the same programs on straight-line code (one thread), on a thread per \
         task, and on one event-loop thread.\n(`--help` lists the sizes you can change.)"
    );
    let workloads: Vec<Workload> = Workload::ALL
        .into_iter()
        .filter(|workload| options.only.is_none_or(|only| only == *workload))
        .collect();
    if workloads.contains(&Workload::Cpu) {
        params.work_steps = cpu::calibrate(Duration::from_millis(params.work_ms));
    }
    let mut all_ok = true;
    for workload in workloads {
        report::heading(workload, &params);
        let rows: Vec<report::Row> = workload
            .runtimes()
            .into_iter()
            .map(|runtime| {
                (
                    runtime,
                    measure::run_child(Run { runtime, workload }, &params),
                )
            })
            .collect();
        all_ok &= rows.iter().all(|(_, result)| result.is_ok());
        report::table(&rows);
        explain::explain(workload, &params, &rows);
    }
    if let Some(path) = options.html {
        match timeline::write(&path) {
            Ok(()) => println!(
                "\nThe timelines of a small network run on both runtimes, one above the other: \
                 open {} in a browser.",
                path.display()
            ),
            Err(err) => {
                eprintln!(
                    "\ncould not write the timeline page {}: {err}",
                    path.display()
                );
                all_ok = false;
            }
        }
    }
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
