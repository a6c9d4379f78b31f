//! How the tour measures: the child times its workload and reads its own
//! `/proc/self/status`; the parent starts the children, drives the network
//! clients, and reads the children's one-line results.
//!
//! Five numbers per run:
//!
//! - wall time, from just before the workload starts to just after every
//!   task has been joined (for the network workload: from the clients'
//!   first request to their last reply);
//! - p50 and p99 latency: half of the tasks (requests) were done within
//!   p50, all but 1% within p99;
//! - the most OS threads alive at once: a sampler thread reads `Threads:`
//!   every millisecond while the workload runs (a thread count only exists
//!   *now*, the kernel keeps no high-water mark for it);
//! - peak memory: `VmHWM`, the kernel's high-water mark of resident memory
//!   (pages really backed by RAM). Not `VmPeak` (address space reserved):
//!   it would show each thread's 2 MiB stack reservation, but glibc's
//!   per-thread malloc arenas (64 MiB reserved each, the sampler's own
//!   included) blur it past reading.
//!
//! These come from Linux's `/proc`; elsewhere they read "n/a".
//!
//! Read next: `report.rs`, which prints the table.

use super::load;
use super::workloads::{self, Latencies, Params, Run, Workload, network};
use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

/// How long a network server may take to print `listening on`.
const STARTUP: Duration = Duration::from_secs(30);

/// What one run measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading {
    pub wall: Duration,
    pub p50: Option<Duration>,
    pub p99: Option<Duration>,
    pub peak_threads: Option<u64>,
    pub vmhwm_kb: Option<u64>,
}

/// Runs `work` on this thread and measures it (the child side).
pub fn measure(work: impl FnOnce() -> io::Result<Latencies>) -> io::Result<Reading> {
    let sampler = Sampler::start();
    let start = Instant::now();
    let mut latencies = work()?;
    let wall = start.elapsed();
    let peak_threads = sampler.stop();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    latencies.sort_unstable();
    let percentile = |p| (!latencies.is_empty()).then(|| load::percentile(&latencies, p));
    Ok(Reading {
        wall,
        p50: percentile(50),
        p99: percentile(99),
        peak_threads,
        vmhwm_kb: status_field(&status, "VmHWM:"),
    })
}

/// A thread that samples the process's thread count every millisecond and
/// keeps the maximum. A millisecond is plenty: a waiting task's thread is
/// alive for the whole wait, and the sampler costs every runtime the same.
struct Sampler {
    stop: Arc<AtomicBool>,
    thread: thread::JoinHandle<Option<u64>>,
}

impl Sampler {
    /// Starts sampling and returns once the first sample is taken, so the
    /// workload's clock never includes the sampler's own start-up.
    fn start() -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let ready = Arc::new(Barrier::new(2));
        let thread = thread::spawn({
            let (stop, ready) = (Arc::clone(&stop), Arc::clone(&ready));
            move || {
                let mut peak = threads_now();
                ready.wait();
                while !stop.load(Ordering::Relaxed) {
                    thread::sleep(Duration::from_millis(1));
                    peak = peak.max(threads_now());
                }
                peak
            }
        });
        ready.wait();
        Sampler { stop, thread }
    }

    /// Stops sampling; returns the peak count of threads, *not* counting
    /// the sampler itself (it is ours, not the runtime's).
    fn stop(self) -> Option<u64> {
        self.stop.store(true, Ordering::Relaxed);
        let peak = self
            .thread
            .join()
            .expect("the sampler thread does not panic");
        peak.map(|threads| threads.saturating_sub(1))
    }
}

/// How many threads this process has right now.
fn threads_now() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status_field(&status, "Threads:")
}

/// The number after `key` in `/proc/self/status`, e.g. `VmHWM:   1234 kB`.
fn status_field(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

impl Reading {
    /// The child's one machine-readable line, e.g.
    /// `RESULT wall_us=101234 p50_us=100310 p99_us=101020 peak_threads=1001 vmhwm_kb=11800`.
    pub fn to_line(self) -> String {
        let opt = |value: Option<u64>| value.map_or("na".to_string(), |v| v.to_string());
        let micros = |d: Option<Duration>| opt(d.map(|d| d.as_micros() as u64));
        format!(
            "RESULT wall_us={} p50_us={} p99_us={} peak_threads={} vmhwm_kb={}",
            self.wall.as_micros(),
            micros(self.p50),
            micros(self.p99),
            opt(self.peak_threads),
            opt(self.vmhwm_kb),
        )
    }

    /// Parses a line written by [`Reading::to_line`].
    pub fn from_line(line: &str) -> Option<Reading> {
        let fields = line.strip_prefix("RESULT ")?;
        let field = |key: &str| -> Option<Option<u64>> {
            let value = fields
                .split_whitespace()
                .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))?;
            Some(value.parse().ok())
        };
        Some(Reading {
            wall: Duration::from_micros(field("wall_us")??),
            p50: field("p50_us")?.map(Duration::from_micros),
            p99: field("p99_us")?.map(Duration::from_micros),
            peak_threads: field("peak_threads")?,
            vmhwm_kb: field("vmhwm_kb")?,
        })
    }
}

/// Runs one (runtime, workload) pair in a child process of this very
/// binary and returns what it measured (the parent side). For the network
/// workload the parent also runs the clients, and their view of the time
/// and the latencies replaces the child's. The child's stderr goes
/// straight to ours, so a panic in it is seen as it happens.
pub fn run_child(run: Run, params: &Params) -> Result<Reading, String> {
    let label = format!("{} on {}", run.workload.name(), run.runtime.label());
    with_progress(&label, || {
        let mut child = start_child(run, params)?;
        let lines = lines_of(&mut child);
        let result = drive(run, params, &lines).and_then(|clients| {
            let line = next_line(&lines, "a RESULT line", |line| line.starts_with("RESULT "))?;
            let reading = Reading::from_line(&line).ok_or(format!("a bad RESULT line: {line}"))?;
            Ok(match clients {
                Some(clients) => Reading {
                    wall: clients.elapsed,
                    p50: Some(clients.p50),
                    p99: Some(clients.p99),
                    ..reading
                },
                None => reading,
            })
        });
        if result.is_err() {
            // A server whose clients failed would wait for them forever.
            let _ = child.kill();
        }
        let status = child
            .wait()
            .map_err(|err| format!("cannot wait for the child: {err}"))?;
        match result {
            Ok(_) if !status.success() => Err(format!("the child failed ({status})")),
            other => other,
        }
    })
}

/// Starts the child: this binary, with the hidden `--child` flag and every
/// size the parent was given.
fn start_child(run: Run, params: &Params) -> Result<Child, String> {
    let exe =
        std::env::current_exe().map_err(|err| format!("cannot find the tour binary: {err}"))?;
    Command::new(exe)
        .args(["--child", run.runtime.name(), run.workload.name()])
        .args(super::args::to_flags(params))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|err| format!("cannot start the child: {err}"))
}

/// The child's stdout, line by line, read on a thread of its own.
fn lines_of(child: &mut Child) -> Receiver<String> {
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The next line that `wanted` accepts; an error if the child ends first.
fn next_line(
    lines: &Receiver<String>,
    what: &str,
    wanted: impl Fn(&str) -> bool,
) -> Result<String, String> {
    loop {
        match lines.recv() {
            Ok(line) if wanted(&line) => return Ok(line),
            Ok(_) => {}
            Err(_) => return Err(format!("the child ended without printing {what}")),
        }
    }
}

/// The parent's part while the child runs: nothing, except for the network
/// workload, whose clients connect once the server says where it listens.
fn drive(
    run: Run,
    params: &Params,
    lines: &Receiver<String>,
) -> Result<Option<load::Report>, String> {
    if run.workload != Workload::Network {
        return Ok(None);
    }
    let deadline = Instant::now() + STARTUP;
    let addr = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => match network::parse_announcement(&line) {
                Some(addr) => break addr,
                None => continue,
            },
            Err(RecvTimeoutError::Timeout) => {
                return Err(format!("the server said nothing for {STARTUP:?}"));
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err("the server ended before it listened".to_string());
            }
        }
    };
    let clients = load::start(addr, params.clients, params.requests)
        .and_then(load::Load::finish)
        .map_err(|err| format!("the clients failed: {err}"))?;
    Ok(Some(clients))
}

/// Runs `step`, and if it takes more than a second, shows that it is still
/// running: a line on stderr with the seconds so far, redrawn in place on
/// a terminal, printed once otherwise.
fn with_progress<T: Send>(label: &str, step: impl FnOnce() -> T + Send) -> T {
    let terminal = io::stderr().is_terminal();
    thread::scope(|scope| {
        let (done_tx, done_rx) = mpsc::channel();
        scope.spawn(move || {
            let _ = done_tx.send(step());
        });
        let start = Instant::now();
        let mut shown = false;
        loop {
            match done_rx.recv_timeout(Duration::from_millis(250)) {
                Ok(value) => {
                    if shown && terminal {
                        eprint!("\r\x1b[K");
                    }
                    return value;
                }
                Err(RecvTimeoutError::Timeout) => {
                    let seconds = start.elapsed().as_secs();
                    if seconds >= 1 && terminal {
                        eprint!("\r  running {label}: {seconds} s…");
                        shown = true;
                    } else if seconds >= 1 && !shown {
                        eprintln!("  running {label} (this step takes a while)…");
                        shown = true;
                    }
                    let _ = io::stderr().flush();
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the step's thread panicked; its message is above")
                }
            }
        }
    })
}

/// The child side of [`run_child`]: run one workload, print one line.
pub fn child(run: Run, params: &Params) -> io::Result<()> {
    let reading = measure(|| workloads::run(run, params))?;
    println!("{}", reading.to_line());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_survives_its_line() {
        let reading = Reading {
            wall: Duration::from_micros(101_234),
            p50: Some(Duration::from_micros(100_000)),
            p99: None,
            peak_threads: Some(1_001),
            vmhwm_kb: None,
        };
        assert_eq!(Reading::from_line(&reading.to_line()), Some(reading));
        assert_eq!(Reading::from_line("hello"), None);
    }

    #[test]
    fn status_fields_are_read_by_key() {
        let status = "Name:\tduet\nThreads:\t12\nVmHWM:\t    2048 kB\n";
        assert_eq!(status_field(status, "Threads:"), Some(12));
        assert_eq!(status_field(status, "VmHWM:"), Some(2_048));
        assert_eq!(status_field(status, "VmPeak:"), None);
    }
}
