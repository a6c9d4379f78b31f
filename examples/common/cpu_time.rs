//! How much CPU time this process has used, so the learning stages can
//! show which executor burns a core and which one sleeps.
//!
//! Included by `learn_1_busy_loop.rs`, `learn_2_wakers.rs` and
//! `learn_3_epoll.rs` with `#[path = "common/cpu_time.rs"] mod cpu_time;`.
//! Linux only: it reads `/proc/self/stat`.

use std::time::Duration;

/// User plus system CPU time of the whole process (every thread, those
/// that have exited too), from fields 14 and 15 of `/proc/self/stat`.
/// They count clock ticks of 10 ms (Linux's `USER_HZ` is 100), so the
/// answer is exact to 10 ms.
pub fn used() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("Linux has /proc/self/stat");
    // The command name (field 2) may contain spaces; it ends at the last ')'.
    let after_name = &stat[stat.rfind(')').expect("(comm)") + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // fields[0] is field 3 (the state), so utime (14) is fields[11].
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

/// The line every stage ends with: CPU time against wall time.
pub fn report(wall: Duration) {
    let cpu = used();
    println!(
        "cpu: {} ms in {} ms of wall time ({}% of one core)",
        cpu.as_millis(),
        wall.as_millis(),
        cpu.as_millis() * 100 / wall.as_millis().max(1)
    );
}
