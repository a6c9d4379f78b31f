//! `cargo bench -- scaling`: how each cost grows with the count, for
//! duet, tokio and smol. A cost that stays flat from 1k to 1M is O(1) per
//! item; one that climbs shows a structure whose per-item work grows
//! (a timer heap's O(log n)) or caches that no longer hold the working set.
//!
//! - spawn: ns per task to spawn N empty tasks and await them all.
//! - timers: process CPU ns per sleeping task: spawn it, set a deadline
//!   0–50 ms apart from the others (all still pending when set), wake it.
//!   The spawn row is the part of that which is not the timer.
//! - idle: RSS bytes per connection with N idle connections open. Each
//!   connection costs one descriptor in the server and one in the client
//!   process, and one local port of 127.0.0.1: the largest N is capped by
//!   the hard descriptor limit and the ephemeral port range, and the row
//!   says which N it measured.

use super::child;
use super::plan::{group, measure};
use super::table::{Column, Section};

const COLUMNS: [Column; 3] = [
    Column {
        runtime: "duet",
        label: "duet",
        peer: false,
    },
    Column {
        runtime: "tokio",
        label: "tokio ct",
        peer: true,
    },
    Column {
        runtime: "smol",
        label: "smol",
        peer: true,
    },
];

pub fn run(quick: bool) {
    let repeats = if quick { 1 } else { 3 };
    let mut section = Section::new("Scaling: cost per item as the count grows", &COLUMNS);
    let counts: &[usize] = if quick {
        &[1_000, 10_000, 100_000]
    } else {
        &[1_000, 10_000, 100_000, 1_000_000]
    };
    for &n in counts {
        let m = [measure(
            "ns",
            &format!("spawn {}", label(n)),
            "ns/task",
            true,
        )];
        group(&mut section, repeats, "spawn_many", &n.to_string(), &[], &m);
    }
    for &n in counts {
        let m = [measure(
            "ns",
            &format!("timers {}", label(n)),
            "ns/timer",
            true,
        )];
        group(
            &mut section,
            repeats,
            "timer_scaling",
            &n.to_string(),
            &[],
            &m,
        );
    }
    let wanted: &[usize] = if quick {
        &[1_000, 10_000]
    } else {
        &[1_000, 10_000, 50_000]
    };
    let most = most_connections();
    let mut measured = Vec::new();
    for &asked in wanted {
        let n = asked.min(most);
        if n < asked {
            println!(
                "  ({} idle connections do not fit here: {} is the most that the \
                 descriptor limit and the local port range allow)",
                label(asked),
                label(n)
            );
        }
        if n == 0 || measured.contains(&n) {
            continue;
        }
        measured.push(n);
        let m = [measure(
            "bytes",
            &format!("idle {}", label(n)),
            "B/conn",
            true,
        )];
        group(
            &mut section,
            repeats,
            "idle_connections",
            &n.to_string(),
            &[],
            &m,
        );
    }
    println!("\n\n==== scaling summary ====");
    section.print();
}

fn label(n: usize) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

/// The most idle connections one run can hold, rounded down to a
/// thousand: each side of a connection takes a descriptor (plus a few
/// for the process itself), and each client a local port.
fn most_connections() -> usize {
    let descriptors = child::descriptor_limit()
        .unwrap_or(1_024)
        .saturating_sub(64);
    let ports = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| {
            let mut bounds = text.split_whitespace().map(|b| b.parse::<usize>());
            Some(bounds.next()?.ok()?..=bounds.next()?.ok()?)
        })
        .map_or(28_000, |range| range.count());
    descriptors.min(ports) / 1_000 * 1_000
}
