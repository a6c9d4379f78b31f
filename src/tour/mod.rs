//! The tour's plan: parse the flags, then either run the whole tour (the
//! parent) or run one measured workload (a child).
//!
//! Why child processes: peak memory (`VmHWM`) is a high-water mark for the
//! whole process and never goes down. If both runtimes ran in one process,
//! the second would inherit the first one's peak. So the parent re-runs
//! this very binary once per (runtime, workload) pair with a hidden
//! `--child` flag; each child measures itself and prints one line.
//!
//! Read next: `workloads.rs` (what is run, on which runtime), then
//! `measure.rs` (how it is measured), `report.rs` (how it is read) and
//! `args.rs` (the flags).

mod args;
mod measure;
mod report;
mod workloads;

use args::Command;
use std::process::ExitCode;

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
        Command::Child(run, params) => child(run, &params),
        Command::Tour(params) => tour(&params),
    }
}

/// The child side: run one workload on one runtime, print one `RESULT` line.
fn child(run: workloads::Run, params: &workloads::Params) -> ExitCode {
    match measure::measure(|| workloads::run(run, params)) {
        Ok(reading) => {
            println!("{}", reading.to_line());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{} on {}: {err}", run.workload.name(), run.runtime.name());
            ExitCode::FAILURE
        }
    }
}

/// The parent side: every pair of the plan in its own child, one at a time
/// (so they never compete for the CPU), then the table and its reading.
fn tour(params: &workloads::Params) -> ExitCode {
    let mut all_ok = true;
    for workload in workloads::Workload::ALL {
        report::heading(workload, params);
        let mut rows = Vec::new();
        for run in workloads::PLAN
            .iter()
            .filter(|run| run.workload == workload)
        {
            let result = measure::run_child(*run, params);
            all_ok &= result.is_ok();
            rows.push((run.runtime, result));
        }
        report::table(&rows);
        report::explain(workload, params, &rows);
    }
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
