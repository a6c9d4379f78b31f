//! The tour's flags, parsed by hand: there are three, and a parser this
//! small is easier to read than a dependency.
//!
//! Besides the documented flags there is one hidden one, `--child RUNTIME
//! WORKLOAD TASKS WAIT_MS`, which the tour passes to itself when it starts
//! a child process to measure one run (see `mod.rs` for why). It is left
//! out of `--help` because no person needs to type it.
//!
//! Read next: the runtimes themselves, starting at `src/lib.rs`; then run
//! `cargo run --release -- --tasks 10000` and read the table again.

use super::workloads::{Params, Run, RuntimeKind, Workload};

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// `--help`: print [`USAGE`] and exit.
    Help,
    /// The tour itself: every run of the plan, side by side.
    Tour(Params),
    /// The hidden `--child`: measure one run and print a `RESULT` line.
    Child(Run, Params),
}

pub const DEFAULT: Params = Params {
    tasks: 1_000,
    wait_ms: 100,
};

pub const USAGE: &str = "\
duet tour: the same program on two runtimes, measured side by side.

Each runtime runs in its own child process: N tasks each wait D ms, and the
main task joins them all. For each runtime the tour reports the wall time,
the most OS threads alive at once, and peak memory, then explains them.

Usage: cargo run --release [-- FLAGS]

Flags:
  --tasks N      how many tasks wait at once (default 1000). Each blocking
                 task is an OS thread, so a very large N may hit the
                 system's thread limit; the event loop does not care.
  --wait-ms D    how long each task waits, in milliseconds (default 100)
  -h, --help     print this help and exit

Flags take their value as the next argument or after '=' (--tasks=50).
";

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut args = args.into_iter();
    let mut params = DEFAULT;
    while let Some(arg) = args.next() {
        // `--tasks=5` and `--tasks 5` both work.
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_string(), Some(value.to_string()))
            }
            _ => (arg, None),
        };
        let value = || {
            inline
                .or_else(|| args.next())
                .ok_or(format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--tasks" => params.tasks = number(&flag, &value()?)?,
            "--wait-ms" => params.wait_ms = number(&flag, &value()?)?,
            "--child" => return child(&mut args),
            _ => return Err(format!("unknown argument '{flag}'")),
        }
    }
    if params.tasks == 0 {
        return Err("--tasks must be at least 1".to_string());
    }
    Ok(Command::Tour(params))
}

/// Parses the rest of a hidden `--child RUNTIME WORKLOAD TASKS WAIT_MS`.
fn child(args: &mut impl Iterator<Item = String>) -> Result<Command, String> {
    let mut next = || {
        args.next()
            .ok_or("--child needs RUNTIME WORKLOAD TASKS WAIT_MS".to_string())
    };
    let runtime = next()?;
    let runtime = RuntimeKind::from_name(&runtime).ok_or(format!("unknown runtime '{runtime}'"))?;
    let workload = next()?;
    let workload =
        Workload::from_name(&workload).ok_or(format!("unknown workload '{workload}'"))?;
    let tasks = number("--child TASKS", &next()?)?;
    let wait_ms = number("--child WAIT_MS", &next()?)?;
    if let Some(extra) = args.next() {
        return Err(format!("unexpected argument '{extra}' after --child"));
    }
    Ok(Command::Child(
        Run { runtime, workload },
        Params { tasks, wait_ms },
    ))
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

    #[test]
    fn flags_take_values_both_ways() {
        let params = Params {
            tasks: 20,
            wait_ms: 10,
        };
        assert_eq!(
            parse_str("--tasks 20 --wait-ms 10"),
            Ok(Command::Tour(params))
        );
        assert_eq!(
            parse_str("--tasks=20 --wait-ms=10"),
            Ok(Command::Tour(params))
        );
        assert_eq!(parse_str(""), Ok(Command::Tour(DEFAULT)));
    }

    #[test]
    fn bad_command_lines_are_refused() {
        assert!(parse_str("--frobnicate").is_err());
        assert!(parse_str("--tasks").is_err());
        assert!(parse_str("--tasks zero").is_err());
        assert!(parse_str("--tasks 0").is_err());
        assert!(parse_str("--child blocking nope 1 1").is_err());
    }

    #[test]
    fn the_child_line_names_a_run() {
        let run = Run {
            runtime: RuntimeKind::EventLoop,
            workload: Workload::Timers,
        };
        let want = Command::Child(
            run,
            Params {
                tasks: 5,
                wait_ms: 7,
            },
        );
        assert_eq!(parse_str("--child event_loop timers 5 7"), Ok(want));
    }
}
