//! The tour's reading of each table: one plain-language paragraph per
//! workload, answering the claim that workload was chosen to test.
//!
//! | workload | the claim it answers |
//! |---|---|
//! | timers | "async is multi-threaded" |
//! | cpu | "async is always faster" |
//! | network | "blocking code can't serve many clients" |
//!
//! Each paragraph quotes the measured numbers, not expected ones, and
//! picks its words from them ("about as long as", "faster than"), so it
//! stays true at any size and on any machine.
//!
//! Read next: `timeline.rs`, the picture.

use super::measure::Reading;
use super::report::{Row, duration, group, kib, wrap};
use super::workloads::{Params, RuntimeKind, Workload};

/// Prints the paragraph under a workload's table.
pub fn explain(workload: Workload, params: &Params, rows: &[Row]) {
    let reading = |kind: RuntimeKind| {
        rows.iter()
            .find(|(runtime, _)| *runtime == kind)
            .and_then(|(_, result)| result.as_ref().ok())
    };
    let readings = (
        reading(RuntimeKind::OneThread),
        reading(RuntimeKind::ThreadPerTask),
        reading(RuntimeKind::EventLoop),
    );
    let text = match (readings, workload) {
        ((Some(one), Some(threads), Some(event_loop)), workload) => {
            let three = Three {
                one,
                threads,
                event_loop,
            };
            match workload {
                Workload::Timers => timers(params, &three),
                Workload::Cpu => cpu(params, &three),
                Workload::Network => {
                    network(params, &three) + &per_core(reading(RuntimeKind::EventLoopPerCore))
                }
            }
        }
        _ => "A run failed, so there is nothing to compare; see its error above. If it \
              was a blocking run at a large size, that is a lesson too: every blocking task \
              needs a thread, and the system ran out, or one thread took too long."
            .to_string(),
    };
    println!("{}", wrap(&text, 76));
}

/// The three readings of one workload.
struct Three<'a> {
    one: &'a Reading,
    threads: &'a Reading,
    event_loop: &'a Reading,
}

fn timers(params: &Params, r: &Three) -> String {
    let n = group(params.tasks as u64);
    // With very many tasks, starting the threads outlasts one wait: the
    // first tasks are done before the last begin, and the peak is lower.
    let partial = match r.threads.peak_threads {
        Some(peak) if peak < params.tasks as u64 + 1 => format!(
            " (Fewer than {n} + 1: starting the threads took longer than one wait, so the \
             first tasks had finished before the last ones started.)"
        ),
        _ => String::new(),
    };
    format!(
        "Claim: \"async is multi-threaded.\" Waiting needs no CPU, so what matters is what a \
         waiting task costs. Straight-line code on one thread waits {n} times in a row: {ow} \
         in all, and half the tasks were done only after {op50}. A thread per task overlaps \
         the waits, but needs {tt} OS threads alive at once, one per waiting task plus the \
         main thread, each with a stack of its own: peak memory {tm}.{partial} The event loop \
         overlaps them too, in {ew}, on {et}: there a waiting task is a small future in a \
         timer table, not a sleeping thread, and peak memory is {em}. Async is not about more \
         threads; it is about not needing one per wait.",
        ow = duration(r.one.wall),
        op50 = p(r.one.p50),
        tt = threads(r.threads),
        tm = memory(r.threads),
        ew = duration(r.event_loop.wall),
        et = thread_count(r.event_loop),
        em = memory(r.event_loop),
    )
}

fn cpu(params: &Params, r: &Three) -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (ew, ow, tw) = (r.event_loop.wall, r.one.wall, r.threads.wall);
    let ratio = ew.as_secs_f64() / ow.as_secs_f64().max(1e-9);
    let like_one = if (0.8..1.25).contains(&ratio) {
        "about as long as"
    } else {
        "against"
    };
    let threads_line = if cores > 1 && tw.as_secs_f64() < 0.8 * ew.as_secs_f64() {
        format!(
            "A thread per task took {}: the OS ran the computations on this machine's {cores} \
             cores at once.",
            duration(tw)
        )
    } else if cores > 1 {
        format!(
            "A thread per task took {}: this machine has {cores} cores, but they were busy \
             with other work, so the threads could not run side by side.",
            duration(tw)
        )
    } else {
        format!(
            "A thread per task took {}: this machine has one core, so threads could not run \
             side by side either; on a machine with more cores they would.",
            duration(tw)
        )
    };
    format!(
        "Claim: \"async is always faster.\" Here {n} tasks compute and never wait. The event \
         loop took {ew}, {like_one} straight-line code on one thread ({ow}): it is one thread \
         too, and runs one computation at a time. Half its tasks were done only after {ep50}: a \
         task that does not reach an .await keeps the thread, and no other task, timer or \
         socket is served meanwhile. {threads_line} Async makes waiting cheap; it does not \
         make computing faster. On an event loop, give CPU-heavy work to a thread of its own \
         (spawn_blocking).",
        n = group(params.cpu_tasks as u64),
        ew = duration(ew),
        ow = duration(ow),
        ep50 = p(r.event_loop.p50),
    )
}

fn network(params: &Params, r: &Three) -> String {
    format!(
        "Claim: \"blocking code can't serve many clients.\" It can, with a thread each: \
         {c} clients were served at once, each request answered within {tp99} (p99), at the \
         cost of {tt} OS threads and {tm} of peak memory. The event loop served them all at \
         once as well, p99 {ep99}, on {et} in {em}. What cannot serve many clients is \
         blocking code on one thread: it serves one connection to its end before it accepts \
         the next, so the last clients waited for all the others: {ow} in all, p99 {op99}. \
         The limit is not the blocking call; it is having one thread that blocks.",
        c = group(params.clients as u64),
        tp99 = p(r.threads.p99),
        tt = threads(r.threads),
        tm = memory(r.threads),
        ep99 = p(r.event_loop.p99),
        et = thread_count(r.event_loop),
        em = memory(r.event_loop),
        ow = duration(r.one.wall),
        op99 = p(r.one.p99),
    )
}

/// The network's last words: the same server with a loop on each core.
fn per_core(r: Option<&Reading>) -> String {
    let Some(r) = r else {
        return String::new();
    };
    format!(
        " And async does not rule out threads: with one event loop per core ({n} here), each \
         connection handed in turn to a loop and served by a task there, the same clients \
         were served in \
         {w}, p99 {p99}. A loop per core is how async uses every core when there are cores \
         to use; whether it helps here depends on how many the machine has and how busy \
         they are.",
        n = std::thread::available_parallelism().map_or(1, |n| n.get()),
        w = duration(r.wall),
        p99 = p(r.p99),
    )
}

fn p(latency: Option<std::time::Duration>) -> String {
    latency.map_or("n/a".to_string(), duration)
}

fn threads(r: &Reading) -> String {
    r.peak_threads.map_or("n/a".to_string(), group)
}

/// "1 thread", "3 threads".
fn thread_count(r: &Reading) -> String {
    match r.peak_threads {
        Some(1) => "1 thread".to_string(),
        Some(n) => format!("{} threads", group(n)),
        None => "n/a threads".to_string(),
    }
}

fn memory(r: &Reading) -> String {
    r.vmhwm_kb.map_or("n/a".to_string(), kib)
}
