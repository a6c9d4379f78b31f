//! The pipeline examples' flags, parsed by hand: four sizes and a path,
//! and a parser this small is easier to read than a dependency.
//!
//! Shared by `pipeline_blocking.rs` and `pipeline_event_loop.rs`, which
//! include it with `#[path = "common/pipeline_flags.rs"] mod flags;`.
//! Nothing here depends on a runtime, so there is no twin to diff it with.

use std::path::PathBuf;
use std::time::Duration;

/// How big the pipeline is.
#[derive(Clone, Copy)]
pub struct Sizes {
    pub items: u64,
    pub workers: usize,
    pub capacity: usize,
    pub work: Duration,
}

/// What the command line asked for.
pub struct Options {
    pub sizes: Sizes,
    /// Where to write the timeline.
    pub svg: PathBuf,
}

/// The whole run is traced and every event is kept in memory until the
/// end, so the sizes stay modest.
const MAX_ITEMS: u64 = 100_000;

fn usage(name: &str) -> String {
    format!(
        "A pipeline, producer → workers → collector, joined by bounded channels.\n\n\
         Usage: cargo run --example {name} [-- FLAGS]\n\n\
         Flags:\n  \
         --items N      how many items the producer makes (default 20, at most {MAX_ITEMS})\n  \
         --workers W    how many workers share the work (default 3)\n  \
         --capacity C   how many items each channel holds (default 2)\n  \
         --work-ms MS   how long a worker works on one item (default 20)\n  \
         --svg PATH     where to write the timeline (default target/{name}.svg)\n  \
         -h, --help     print this help and exit\n"
    )
}

/// Parses the process's arguments. On `--help` prints the usage and exits
/// with status 0; on a bad argument prints what is wrong and exits with 2.
pub fn parse(name: &str) -> Options {
    match parse_args(name, std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{}", usage(name));
            std::process::exit(0);
        }
        Err(error) => {
            eprintln!("{name}: {error}\n\n{}", usage(name));
            std::process::exit(2);
        }
    }
}

/// The parser proper; `Ok(None)` means `--help`.
fn parse_args(
    name: &str,
    args: impl IntoIterator<Item = String>,
) -> Result<Option<Options>, String> {
    let mut args = args.into_iter();
    let mut sizes = Sizes {
        items: 20,
        workers: 3,
        capacity: 2,
        work: Duration::from_millis(20),
    };
    let mut svg = PathBuf::from(format!("target/{name}.svg"));
    while let Some(arg) = args.next() {
        // `--items=5` and `--items 5` both work.
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
        let number = |text: String, least: u64, most: u64| match text.parse() {
            Ok(n) if (least..=most).contains(&n) => Ok(n),
            _ => Err(format!(
                "{flag} wants a whole number from {least} to {most}, not '{text}'"
            )),
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--items" => sizes.items = number(value()?, 1, MAX_ITEMS)?,
            "--workers" => sizes.workers = number(value()?, 1, 1_000)? as usize,
            "--capacity" => sizes.capacity = number(value()?, 1, 1_000_000)? as usize,
            "--work-ms" => sizes.work = Duration::from_millis(number(value()?, 0, 60_000)?),
            "--svg" => svg = PathBuf::from(value()?),
            _ => return Err(format!("unknown argument '{flag}'")),
        }
    }
    Ok(Some(Options { sizes, svg }))
}
