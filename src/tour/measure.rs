//! How the tour measures: the child times its workload and reads its own
//! `/proc/self/status`; the parent starts the children and reads their
//! one-line results.
//!
//! Three numbers per run:
//!
//! - wall time, from just before the runtime is built to just after every
//!   task has been joined;
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
//! Read next: `report.rs`, which turns readings into a table and a reading.

use super::workloads::{Params, Run};
use std::io;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

/// What one child measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading {
    pub wall: Duration,
    pub peak_threads: Option<u64>,
    pub vmhwm_kb: Option<u64>,
}

/// Runs `work` on this thread and measures it (the child side).
pub fn measure(work: impl FnOnce() -> io::Result<()>) -> io::Result<Reading> {
    let sampler = Sampler::start();
    let start = Instant::now();
    work()?;
    let wall = start.elapsed();
    let peak_threads = sampler.stop();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    Ok(Reading {
        wall,
        peak_threads,
        vmhwm_kb: status_field(&status, "VmHWM:"),
    })
}

/// A thread that samples the process's thread count every millisecond and
/// keeps the maximum. A millisecond is plenty: a waiting task's thread is
/// alive for the whole wait (100 ms by default), and the sampler costs the
/// two runtimes the same.
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
    /// `RESULT wall_us=101234 peak_threads=1001 vmhwm_kb=11800`.
    pub fn to_line(self) -> String {
        let opt = |value: Option<u64>| value.map_or("na".to_string(), |v| v.to_string());
        format!(
            "RESULT wall_us={} peak_threads={} vmhwm_kb={}",
            self.wall.as_micros(),
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
            peak_threads: field("peak_threads")?,
            vmhwm_kb: field("vmhwm_kb")?,
        })
    }
}

/// Runs one (runtime, workload) pair in a child process of this very
/// binary and returns what it measured (the parent side). The child's
/// stderr goes straight to ours, so a panic in it is seen as it happens.
pub fn run_child(run: Run, params: &Params) -> Result<Reading, String> {
    let exe =
        std::env::current_exe().map_err(|err| format!("cannot find the tour binary: {err}"))?;
    let output = Command::new(exe)
        .arg("--child")
        .arg(run.runtime.name())
        .arg(run.workload.name())
        .arg(params.tasks.to_string())
        .arg(params.wait_ms.to_string())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|err| format!("cannot start the child: {err}"))?;
    if !output.status.success() {
        return Err(format!("the child failed ({})", output.status));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .find_map(Reading::from_line)
        .ok_or_else(|| "the child printed no RESULT line".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_survives_its_line() {
        let reading = Reading {
            wall: Duration::from_micros(101_234),
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
