//! One measurement, one fresh process.
//!
//! The parent re-runs this very binary as
//! `--measure WORKLOAD RUNTIME SIZE`; the child runs that one workload on
//! that one runtime and prints `metric NAME VALUE` lines. So no runtime
//! inherits another's heap, threads, warmed caches or memory peak, and
//! the parent can take the runtimes in turns (duet, tokio, smol, duet,
//! ...) so that a slow spell of a busy machine hits them all alike.
//!
//! Children start through `sh -c 'ulimit -n HARD; exec ...'`: the scaling
//! rows open tens of thousands of sockets, and many systems set the soft
//! descriptor limit (often 1024) far below the hard one. Raising the soft
//! limit up to the hard one needs no privilege, and the shell does it
//! without a system-call crate in the bench.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const FLAG: &str = "--measure";

/// What one child reports: (metric name, value) pairs.
pub type Metrics = Vec<(&'static str, f64)>;

/// The same, as the parent reads it back.
pub type Parsed = Vec<(String, f64)>;

/// If this process is a measuring child, its (workload, runtime, size).
/// SIZE is a count, or CONNECTIONSxROUNDS for the echo rows.
pub fn asked() -> Option<(String, String, String)> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == FLAG)?;
    Some((
        args[at + 1].clone(),
        args[at + 2].clone(),
        args[at + 3].clone(),
    ))
}

/// In the child: prints what the parent reads back.
pub fn report(metrics: &Metrics) {
    for (name, value) in metrics {
        println!("metric {name} {value}");
    }
}

/// A command that runs this bench binary with `args`, its soft
/// descriptor limit raised to the hard one.
pub fn command(args: &[&str]) -> Command {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(r#"ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@""#)
        .arg(std::env::current_exe().unwrap())
        .args(args);
    command
}

/// Runs one measurement in a fresh child and returns its metrics, or
/// `None` (with a warning) if the child failed or ran past `limit`.
pub fn run(workload: &str, runtime: &str, size: &str, limit: Duration) -> Option<Parsed> {
    let mut child = command(&[FLAG, workload, runtime, size])
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().ok()? {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let text = reader.join().unwrap();
    if !status.is_some_and(|s| s.success()) {
        eprintln!("  warning: {workload} on {runtime} ({size}) failed or timed out");
        return None;
    }
    let metrics: Parsed = text
        .lines()
        .filter_map(|line| {
            let mut words = line.strip_prefix("metric ")?.split_whitespace();
            let name = words.next()?.to_string();
            let value: f64 = words.next()?.parse().ok()?;
            Some((name, value))
        })
        .collect();
    Some(metrics)
}

/// The CPU time of this whole process so far, every thread's, those that
/// have already exited included.
///
/// From `clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`, through rustix (a
/// dev-dependency, already in the tree under async-io) because std has no
/// CPU clock. Not `/proc/self/task/*/schedstat`: the kernel brings a
/// thread's total there up to date only at a scheduler tick or a switch,
/// so a thread reading its own is up to a tick (1–4 ms) behind, as large
/// as what the sleep_cpu rows measure. The CPU clocks are brought up to
/// date on every read.
pub fn process_cpu() -> Duration {
    cpu_clock(rustix::time::ClockId::ProcessCPUTime)
}

/// The CPU time the calling thread has used so far
/// (`CLOCK_THREAD_CPUTIME_ID`; see [`process_cpu`]).
pub fn thread_cpu() -> Duration {
    cpu_clock(rustix::time::ClockId::ThreadCPUTime)
}

fn cpu_clock(id: rustix::time::ClockId) -> Duration {
    let now = rustix::time::clock_gettime(id);
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// The soft limit on open descriptors a child gets (the hard limit, from
/// `/proc/self/limits`), if it can be read.
pub fn descriptor_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let hard = line.split_whitespace().nth(4)?;
    hard.parse().ok().or(Some(usize::MAX)) // "unlimited"
}
