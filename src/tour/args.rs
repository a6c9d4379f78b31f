//! The tour's flags, parsed by hand: a parser this small is easier to read
//! than a dependency.
//!
//! Besides the documented flags there are two hidden ones, which the tour
//! passes to itself when it starts a child process to measure one run (see
//! `mod.rs` for why): `--child RUNTIME WORKLOAD`, and `--work-steps K`, the
//! CPU workload's size as the parent calibrated it. They are left out of
//! `--help` because no person needs to type them.
//!
//! Run `cargo run --release -- --tasks 2000 --only timers` and read the
//! table again: more tasks, the same one event-loop thread.
//!
//! Read next: the tests, starting with `tests/pitfalls.rs` (the bugs
//! hand-written executors keep hitting, one test each, catalogued in
//! `docs/PITFALLS.md`).

use super::workloads::{Params, Run, RuntimeKind, Workload};
use std::path::PathBuf;

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// `--help`: print [`USAGE`] and exit.
    Help,
    /// The tour itself.
    Tour(Options),
    /// The hidden `--child`: measure one run and print a `RESULT` line.
    Child(Run, Params),
}

/// What the tour should do.
#[derive(Debug, PartialEq, Eq)]
pub struct Options {
    pub params: Params,
    /// `--only NAME`: run just this workload.
    pub only: Option<Workload>,
    /// Where to write the timeline page; `None` after `--no-html`.
    pub html: Option<PathBuf>,
}

pub const DEFAULT: Params = Params {
    tasks: 200,
    wait_ms: 50,
    cpu_tasks: 40,
    work_ms: 25,
    work_steps: 0,
    clients: 100,
    requests: 10,
    service_ms: 2,
};

/// Where the timeline page goes unless `--html` says otherwise.
pub const DEFAULT_HTML: &str = "target/duet-tour.html";

pub const USAGE: &str = "\
duet tour: the same programs on three runtimes, measured side by side.

  blocking, 1 thread      straight-line code: one task after another
  blocking, thread/task   duet::blocking: an OS thread for every task
  event_loop, 1 thread    duet::event_loop: every task a future, one thread
  event_loop, loop/core   (network only) the same server, one loop per core

Three workloads: tasks that wait (timers), tasks that compute (cpu), and a
server whose requests wait a few ms each (network). Each run is a child
process of its own, so their peaks do not mix. For each, the tour reports
wall time, p50/p99 latency, the most OS threads alive at once and peak
memory, then says what the numbers show. Last, it traces a small network
run on both runtimes and writes the two timelines to an HTML page.

Usage: cargo run --release [-- FLAGS]

Flags (defaults in brackets):
  --tasks N        timers: how many tasks wait at once [200]. Each blocking
                   task is an OS thread, so a very large N may hit the
                   system's thread limit; the event loop does not care.
  --wait-ms D      timers: how long each task waits, in ms [50]
  --cpu-tasks N    cpu: how many tasks compute [40]
  --work-ms C      cpu: about how long each task computes, in ms [25]
  --clients C      network: how many clients connect at once [100]
  --requests R     network: requests per client, one after another [10]
  --service-ms S   network: how long the server waits per request, in ms [2]
  --only NAME      run one workload: timers, cpu or network
  --html PATH      where to write the timeline page [target/duet-tour.html]
  --no-html        do not trace or write the timeline page
  -h, --help       print this help and exit

Flags take their value as the next argument or after '=' (--tasks=50).
The blocking one-thread runs take N x D (timers) and C x R x S (network):
they are the point, but keep that in mind before you raise the sizes.
";

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut args = args.into_iter();
    let mut params = DEFAULT;
    let mut only = None;
    let mut html = Some(PathBuf::from(DEFAULT_HTML));
    let mut child = None;
    while let Some(arg) = args.next() {
        // `--tasks=5` and `--tasks 5` both work.
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_string(), Some(value.to_string()))
            }
            _ => (arg, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or(format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--tasks" => params.tasks = number(&flag, &value()?)?,
            "--wait-ms" => params.wait_ms = number(&flag, &value()?)?,
            "--cpu-tasks" => params.cpu_tasks = number(&flag, &value()?)?,
            "--work-ms" => params.work_ms = number(&flag, &value()?)?,
            "--clients" => params.clients = number(&flag, &value()?)?,
            "--requests" => params.requests = number(&flag, &value()?)?,
            "--service-ms" => params.service_ms = number(&flag, &value()?)?,
            "--only" => {
                let name = value()?;
                only = Some(Workload::from_name(&name).ok_or(format!(
                    "--only expects timers, cpu or network, got '{name}'"
                ))?);
            }
            "--html" => html = Some(PathBuf::from(value()?)),
            "--no-html" => html = None,
            "--work-steps" => params.work_steps = number(&flag, &value()?)?,
            "--child" => {
                let runtime = value()?;
                let runtime = RuntimeKind::from_name(&runtime)
                    .ok_or(format!("unknown runtime '{runtime}'"))?;
                let workload = args.next().ok_or("--child needs RUNTIME WORKLOAD")?;
                let workload = Workload::from_name(&workload)
                    .ok_or(format!("unknown workload '{workload}'"))?;
                child = Some(Run { runtime, workload });
            }
            _ => return Err(format!("unknown argument '{flag}'")),
        }
    }
    for (flag, size) in [
        ("--tasks", params.tasks),
        ("--cpu-tasks", params.cpu_tasks),
        ("--clients", params.clients),
        ("--requests", params.requests),
    ] {
        if size == 0 {
            return Err(format!("{flag} must be at least 1"));
        }
    }
    Ok(match child {
        Some(run) => Command::Child(run, params),
        None => Command::Tour(Options { params, only, html }),
    })
}

/// The flags that give a child process the same sizes as the parent.
pub fn to_flags(params: &Params) -> Vec<String> {
    let Params {
        tasks,
        wait_ms,
        cpu_tasks,
        work_ms,
        work_steps,
        clients,
        requests,
        service_ms,
    } = *params;
    [
        ("--tasks", tasks as u64),
        ("--wait-ms", wait_ms),
        ("--cpu-tasks", cpu_tasks as u64),
        ("--work-ms", work_ms),
        ("--work-steps", work_steps),
        ("--clients", clients as u64),
        ("--requests", requests as u64),
        ("--service-ms", service_ms),
    ]
    .into_iter()
    .map(|(flag, value)| format!("{flag}={value}"))
    .collect()
}

fn number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T, String> {
    // Accept "1_000" and "1,000" as well as "1000": people type both.
    let digits: String = text.chars().filter(|c| !matches!(c, '_' | ',')).collect();
    digits
        .parse()
        .map_err(|_| format!("{flag} expects a whole number, got '{text}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(line: &str) -> Result<Command, String> {
        parse(line.split_whitespace().map(String::from))
    }

    fn tour(params: Params) -> Command {
        Command::Tour(Options {
            params,
            only: None,
            html: Some(PathBuf::from(DEFAULT_HTML)),
        })
    }

    #[test]
    fn flags_take_values_both_ways() {
        let params = Params {
            tasks: 20,
            wait_ms: 10,
            ..DEFAULT
        };
        assert_eq!(parse_str("--tasks 20 --wait-ms 10"), Ok(tour(params)));
        assert_eq!(parse_str("--tasks=20 --wait-ms=10"), Ok(tour(params)));
        assert_eq!(parse_str(""), Ok(tour(DEFAULT)));
    }

    #[test]
    fn only_and_html_choose_what_runs() {
        let Ok(Command::Tour(options)) = parse_str("--only cpu --no-html") else {
            panic!("a tour");
        };
        assert_eq!((options.only, options.html), (Some(Workload::Cpu), None));
        let Ok(Command::Tour(options)) = parse_str("--html /tmp/t.html") else {
            panic!("a tour");
        };
        assert_eq!(options.html, Some(PathBuf::from("/tmp/t.html")));
    }

    #[test]
    fn bad_command_lines_are_refused() {
        for line in [
            "--frobnicate",
            "--tasks",
            "--tasks zero",
            "--tasks 0",
            "--clients 0",
            "--only everything",
            "--child blocking nope",
        ] {
            assert!(parse_str(line).is_err(), "{line} was accepted");
        }
    }

    #[test]
    fn a_child_gets_the_parents_sizes() {
        let params = Params {
            tasks: 5,
            work_steps: 1234,
            ..DEFAULT
        };
        let run = Run {
            runtime: RuntimeKind::EventLoop,
            workload: Workload::Timers,
        };
        let mut line = vec!["--child".to_string(), "event-loop".into(), "timers".into()];
        line.extend(to_flags(&params));
        assert_eq!(parse(line), Ok(Command::Child(run, params)));
    }
}
