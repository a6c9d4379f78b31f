//! How the tour reads its measurements: a side-by-side table, then one
//! plain-language paragraph saying what the numbers show.
//!
//! The paragraph quotes the measured numbers rather than expected ones, so
//! it stays true at any `--tasks` and `--wait-ms`.
//!
//! Read next: `args.rs`, the flags.

use super::measure::Reading;
use super::workloads::{Params, RuntimeKind, Workload};
use std::time::Duration;

/// One table row: the runtime, and what its child measured (or why not).
pub type Row = (RuntimeKind, Result<Reading, String>);

/// The line above a workload's table, saying what was run.
pub fn heading(workload: Workload, params: &Params) {
    let what = match workload {
        Workload::Timers => format!(
            "{} tasks each wait {} ms; the main task joins them all",
            group(params.tasks as u64),
            group(params.wait_ms),
        ),
    };
    println!("workload \"{}\": {what}.", workload.name());
    println!("Each runtime ran in its own child process, so their peaks do not mix.\n");
}

/// The side-by-side table, one row per runtime.
pub fn table(rows: &[Row]) {
    println!(
        "{:<12} {:>9} {:>16} {:>12}",
        "runtime", "wall", "peak OS threads", "peak memory"
    );
    for (runtime, result) in rows {
        match result {
            Ok(r) => println!(
                "{:<12} {:>9} {:>16} {:>12}",
                runtime.name(),
                millis(r.wall),
                opt(r.peak_threads, group),
                opt(r.vmhwm_kb, kib),
            ),
            Err(why) => println!("{:<12} failed: {why}", runtime.name()),
        }
    }
    println!();
}

/// The paragraph under a workload's table.
pub fn explain(workload: Workload, params: &Params, rows: &[Row]) {
    let reading = |kind: RuntimeKind| {
        rows.iter()
            .find(|(runtime, _)| *runtime == kind)
            .and_then(|(_, result)| result.as_ref().ok())
    };
    let text = match workload {
        Workload::Timers => {
            match (
                reading(RuntimeKind::Blocking),
                reading(RuntimeKind::EventLoop),
            ) {
                (Some(b), Some(e)) => timers(params, b, e),
                _ => "A run failed, so there is nothing to compare; see its error above. If \
                      it was the blocking run at a large --tasks, that is the lesson too: \
                      every blocking task needs a thread, and the system ran out."
                    .into(),
            }
        }
    };
    println!("{}", wrap(&text, 76));
}

fn timers(params: &Params, b: &Reading, e: &Reading) -> String {
    let n = group(params.tasks as u64);
    let serial = Duration::from_millis(params.wait_ms)
        .saturating_mul(u32::try_from(params.tasks).unwrap_or(u32::MAX));
    // Starting a thread is a system call and a fresh stack mapping: at a
    // thousand threads that shows in the wall time, so say where it went.
    let extra = b.wall.saturating_sub(e.wall);
    let extra = if extra > e.wall / 10 {
        format!(
            " The blocking run's extra {} went mostly on starting and stopping {n} threads.",
            millis(extra)
        )
    } else {
        String::new()
    };
    // With very many tasks, starting the threads outlasts one wait: the
    // first tasks are done before the last begin, and the peak is lower.
    let partial = match b.peak_threads {
        Some(peak) if peak < params.tasks as u64 + 1 => format!(
            " (Fewer than {n} + 1: starting the threads took longer than one wait, so the \
             first tasks had finished before the last ones started.)"
        ),
        _ => String::new(),
    };
    format!(
        "What the numbers show: on both runtimes the {n} waits overlap. One wait is {wait} ms, \
         all of them one after another would take {serial}, and the runs took {bw} and {ew}.\
         {extra} What differs is what a wait costs. The blocking runtime had {bt} OS threads \
         alive at once: one for each task waiting at that moment, plus the main thread.{partial} \
         Every thread needs a stack of its own (Rust reserves 2 MiB of address space for each \
         and touches a few pages of it): peak memory {bm}. The event loop ran all {n} tasks on \
         {et} {thread}, in {em}: there a waiting task is a small future parked in a timer \
         table, not a sleeping thread. Async is not about more threads — it is about not \
         needing one per wait.",
        wait = group(params.wait_ms),
        serial = millis(serial),
        bw = millis(b.wall),
        ew = millis(e.wall),
        bt = opt(b.peak_threads, group),
        bm = opt(b.vmhwm_kb, kib),
        et = opt(e.peak_threads, group),
        thread = if e.peak_threads == Some(1) {
            "thread"
        } else {
            "threads"
        },
        em = opt(e.vmhwm_kb, kib),
    )
}

/// `None` (no `/proc` on this system) reads "n/a".
fn opt(value: Option<u64>, show: fn(u64) -> String) -> String {
    value.map_or("n/a".to_string(), show)
}

/// 1234567 → "1,234,567": thread counts are easier to compare grouped.
fn group(n: u64) -> String {
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

fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{} ms", group(ms.round() as u64))
    }
}

fn kib(kb: u64) -> String {
    match kb {
        0..1_024 => format!("{kb} KiB"),
        1_024..1_048_576 => format!("{:.1} MiB", kb as f64 / 1_024.0),
        _ => format!("{:.1} GiB", kb as f64 / 1_048_576.0),
    }
}

/// Greedy word wrap, so the paragraph reads well in an 80-column terminal.
/// A unit stays on the line of its number ("51 ms", never "51" / "ms").
fn wrap(text: &str, width: usize) -> String {
    let mut words: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        let bare = word.trim_end_matches([',', '.', ')', ':']);
        let unit = ["ms", "KiB", "MiB", "GiB"].contains(&bare);
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
    fn wrapping_keeps_units_with_their_numbers() {
        let text = wrap("aaaa 51 ms bbbb", 7);
        assert_eq!(text, "aaaa\n51 ms\nbbbb");
    }
}
