//! What `cargo bench` measures, in which order, at which sizes, and how a
//! row is gathered: every repetition runs each runtime once, in turns,
//! each in a fresh process (`child.rs`).

use super::child;
use super::echo::cores;
use super::table::{Column, Row, Section, Stats};
use std::time::Duration;

/// Repetitions per cell in a full run.
pub const REPEATS: usize = 5;

/// One measure of a row group: the child's metric, shown as `name`.
pub struct Measure {
    pub metric: &'static str,
    pub name: String,
    pub unit: &'static str,
    pub lower_is_better: bool,
}

pub fn measure(metric: &'static str, name: &str, unit: &'static str, lower: bool) -> Measure {
    Measure {
        metric,
        name: name.to_string(),
        unit,
        lower_is_better: lower,
    }
}

/// Runs `workload` of `size` `repeats` times on each column's runtime
/// (those in `skip` excepted), taking the runtimes in turns, and adds one
/// row per measure.
pub fn group(
    section: &mut Section,
    repeats: usize,
    workload: &str,
    size: &str,
    skip: &[&str],
    measures: &[Measure],
) {
    let runtimes: Vec<&str> = section
        .columns
        .iter()
        .map(|c| c.runtime)
        .filter(|r| !skip.contains(r))
        .collect();
    let mut values: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); measures.len()]; runtimes.len()];
    for _ in 0..repeats {
        for (r, runtime) in runtimes.iter().enumerate() {
            let limit = Duration::from_secs(300);
            let Some(metrics) = child::run(workload, runtime, size, limit) else {
                continue;
            };
            for (m, measure) in measures.iter().enumerate() {
                if let Some((_, v)) = metrics.iter().find(|(name, _)| name == measure.metric) {
                    values[r][m].push(*v);
                }
            }
        }
    }
    for (m, measure) in measures.iter().enumerate() {
        let cells = section
            .columns
            .iter()
            .map(|c| {
                let r = runtimes.iter().position(|r| *r == c.runtime)?;
                Stats::of(values[r][m].clone())
            })
            .collect();
        section.add(Row {
            workload: measure.name.clone(),
            unit: measure.unit,
            lower_is_better: measure.lower_is_better,
            cells,
        });
    }
}

const DUET: Column = Column {
    runtime: "duet",
    label: "duet",
    peer: false,
};
const TOKIO: Column = Column {
    runtime: "tokio",
    label: "tokio ct",
    peer: true,
};
const SMOL: Column = Column {
    runtime: "smol",
    label: "smol",
    peer: true,
};
const BLOCKING: Column = Column {
    runtime: "blocking",
    label: "duet blocking",
    peer: false,
};

/// The single-thread columns.
pub const ONE_THREAD: [Column; 4] = [DUET, TOKIO, SMOL, BLOCKING];

pub fn run(quick: bool, wanted: &dyn Fn(&str) -> bool) {
    let repeats = if quick { 1 } else { REPEATS };
    let mut sections = Vec::new();

    let mut tasks = Section::new("Tasks and timers, one thread", &ONE_THREAD);
    let only_async = ["blocking"];
    if wanted("spawn_many") {
        let m = [measure("ns", "spawn_many 100k", "ns/task", true)];
        group(&mut tasks, repeats, "spawn_many", "100000", &only_async, &m);
    }
    if wanted("yield_many") {
        let m = [measure("ns", "yield_many 100 x 1k", "ns/yield", true)];
        group(&mut tasks, repeats, "yield_many", "1000", &[], &m);
    }
    if wanted("ping_pong") {
        let m = [measure("ns", "ping_pong 100k", "ns/trip", true)];
        group(&mut tasks, repeats, "ping_pong", "100000", &[], &m);
    }
    if wanted("chained_spawn") {
        let m = [measure("ns", "chained_spawn 10k", "ns/spawn", true)];
        group(
            &mut tasks,
            repeats,
            "chained_spawn",
            "10000",
            &only_async,
            &m,
        );
    }
    if wanted("select") {
        let m = [measure(
            "ns",
            "select: ready channel vs far timer",
            "ns/iter",
            true,
        )];
        group(
            &mut tasks,
            repeats,
            "select",
            "100000",
            &["smol", "blocking"],
            &m,
        );
    }
    if wanted("timers") {
        let m = [
            measure("overhead_ms", "timers 10k: past last deadline", "ms", true),
            measure("p50_us", "timers 10k: lateness p50", "us", true),
            measure("p99_us", "timers 10k: lateness p99", "us", true),
        ];
        group(&mut tasks, repeats, "timers", "10000", &[], &m);
    }
    if wanted("join_many") {
        // What the timers row's main task does once the last deadline has
        // passed: claim finished tasks' outputs, one after another.
        let m = [measure(
            "ns",
            "join_many 10k finished: claim",
            "ns/task",
            true,
        )];
        group(&mut tasks, repeats, "join_many", "10000", &only_async, &m);
    }
    if wanted("sleep_cpu") {
        // The same cost at both lengths means no CPU while asleep: what is
        // left is waking the thousand tasks.
        let long = if quick { 200 } else { 1_000 };
        for ms in [10, long] {
            let name = format!("sleep_cpu: 1k tasks asleep {ms} ms");
            let m = [measure("cpu_us", &name, "us CPU", true)];
            group(
                &mut tasks,
                repeats,
                "sleep_cpu",
                &ms.to_string(),
                &only_async,
                &m,
            );
        }
    }
    sections.push(tasks);

    let mut net = Section::new(
        "Network, one thread (blocking: a thread per connection)",
        &ONE_THREAD,
    );
    let shapes: [(usize, usize); 2] = if quick {
        [(100, 100), (1_000, 10)]
    } else {
        [(100, 1_000), (1_000, 100)]
    };
    if wanted("tcp_echo") {
        for (c, r) in shapes {
            echo_rows(&mut net, repeats, c, r);
        }
    }
    if wanted("idle_connections") {
        let n = if quick { 2_000 } else { 10_000 };
        let m = [measure(
            "bytes",
            &format!("idle_connections {n}"),
            "B/conn",
            true,
        )];
        // Three repetitions at most: memory moves little from run to run,
        // and each run opens N connections per runtime.
        group(
            &mut net,
            repeats.min(3),
            "idle_connections",
            &n.to_string(),
            &[],
            &m,
        );
    }
    sections.push(net);

    let mut every_core = Section::new(
        &format!("Every core: echo servers on {} threads", cores()),
        &[
            Column {
                runtime: "duet-per-core",
                label: "duet loop/core",
                peer: false,
            },
            Column {
                runtime: "tokio-mt",
                label: "tokio mt",
                peer: true,
            },
            Column {
                runtime: "duet",
                label: "duet 1 loop",
                peer: false,
            },
        ],
    );
    if wanted("per_core") {
        for (c, r) in shapes {
            echo_rows(&mut every_core, repeats, c, r);
        }
    }
    sections.push(every_core);

    let mut tracing = Section::new(
        "Tracing: duet's event loop with trace capture off and on",
        &[
            Column {
                runtime: "duet",
                label: "trace off",
                peer: false,
            },
            Column {
                runtime: "duet-traced",
                label: "trace on",
                peer: false,
            },
        ],
    );
    if wanted("tracing") {
        let m = [measure("ns", "spawn_many 100k", "ns/task", true)];
        group(&mut tracing, repeats, "spawn_many", "100000", &[], &m);
        let m = [measure("ns", "yield_many 100 x 1k", "ns/yield", true)];
        group(&mut tracing, repeats, "yield_many", "1000", &[], &m);
    }
    sections.push(tracing);

    if sections.iter().any(|section| !section.rows.is_empty()) {
        println!("\n\n==== summary ====");
        for section in &sections {
            section.print();
        }
    }
}

fn echo_rows(section: &mut Section, repeats: usize, connections: usize, rounds: usize) {
    let name = format!("tcp_echo {connections} x {rounds}");
    let m = [
        measure("per_s", &format!("{name}: rate"), "trips/s", false),
        measure("p99_us", &format!("{name}: p99"), "us", true),
        measure("cpu_us", &format!("{name}: server CPU"), "us/trip", true),
    ];
    group(
        section,
        repeats,
        "tcp_echo",
        &format!("{connections}x{rounds}"),
        &[],
        &m,
    );
}
