//! How the tour shows its measurements: a heading saying what ran, and a
//! side-by-side table. The plain-language reading under each table is
//! `explain.rs`.
//!
//! Read next: `explain.rs`.

use super::measure::Reading;
use super::workloads::{Params, RuntimeKind, Workload};
use std::time::Duration;

/// One table row: the runtime, and what its child measured (or why not).
pub type Row = (RuntimeKind, Result<Reading, String>);

/// The lines above a workload's table, saying what was run.
pub fn heading(workload: Workload, params: &Params) {
    let what = match workload {
        Workload::Timers => format!(
            "{} tasks each wait {} ms; latency = when each task was done",
            group(params.tasks as u64),
            group(params.wait_ms),
        ),
        Workload::Cpu => format!(
            "{} tasks each compute for about {} ms; latency = when each task was done",
            group(params.cpu_tasks as u64),
            group(params.work_ms),
        ),
        Workload::Network => format!(
            "{} clients × {} requests to a server that waits {} ms per request; \
             latency = one request's round trip",
            group(params.clients as u64),
            group(params.requests as u64),
            group(params.service_ms),
        ),
    };
    println!("\n== {} ==", workload.name());
    println!("{}\n", wrap(&format!("{what}."), 76));
}

/// The side-by-side table, one row per runtime.
pub fn table(rows: &[Row]) {
    println!(
        "{:<22} {:>9} {:>9} {:>9} {:>11} {:>12}",
        "runtime", "wall", "p50", "p99", "OS threads", "peak memory"
    );
    for (runtime, result) in rows {
        match result {
            Ok(r) => println!(
                "{:<22} {:>9} {:>9} {:>9} {:>11} {:>12}",
                runtime.label(),
                duration(r.wall),
                r.p50.map_or("n/a".into(), duration),
                r.p99.map_or("n/a".into(), duration),
                r.peak_threads.map_or("n/a".into(), group),
                r.vmhwm_kb.map_or("n/a".into(), kib),
            ),
            Err(why) => println!("{:<22} failed: {why}", runtime.label()),
        }
    }
    println!();
}

/// 1234567 → "1,234,567": thread counts are easier to compare grouped.
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A duration with the unit that keeps it short: "4.2 ms", "523 ms",
/// "10.1 s".
pub fn duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

/// Kernel kB (really KiB) as KiB, MiB or GiB.
pub fn kib(kb: u64) -> String {
    match kb {
        0..1_024 => format!("{kb} KiB"),
        1_024..1_048_576 => format!("{:.1} MiB", kb as f64 / 1_024.0),
        _ => format!("{:.1} GiB", kb as f64 / 1_048_576.0),
    }
}

/// Greedy word wrap, so a paragraph reads well in an 80-column terminal.
/// A unit stays on the line of its number ("51 ms", never "51" / "ms").
pub fn wrap(text: &str, width: usize) -> String {
    let mut words: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        let bare = word.trim_end_matches([',', '.', ')', ':', ';']);
        let unit = ["ms", "s", "KiB", "MiB", "GiB"].contains(&bare);
        match words.last_mut() {
            Some(last) if unit => *last = format!("{last} {word}"),
            _ => words.push(word.to_string()),
        }
    }
    let mut out = String::new();
    let mut line_len = 0;
    for word in words {
        let len = word.chars().count();
        if line_len > 0 && line_len + 1 + len > width {
            out.push('\n');
            line_len = 0;
        } else if line_len > 0 {
            out.push(' ');
            line_len += 1;
        }
        out.push_str(&word);
        line_len += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(group(7), "7");
        assert_eq!(group(1_000), "1,000");
        assert_eq!(group(1_234_567), "1,234,567");
    }

    #[test]
    fn durations_pick_a_short_unit() {
        assert_eq!(duration(Duration::from_micros(4_210)), "4.2 ms");
        assert_eq!(duration(Duration::from_micros(523_400)), "523 ms");
        assert_eq!(duration(Duration::from_millis(10_140)), "10.1 s");
    }

    #[test]
    fn wrapping_keeps_units_with_their_numbers() {
        let text = wrap("aaaa 51 ms bbbb", 7);
        assert_eq!(text, "aaaa\n51 ms\nbbbb");
    }
}
