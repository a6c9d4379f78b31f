//! What the event loop costs in heap allocations, counted by a wrapping
//! global allocator. Run with `--nocapture` to see the numbers.
//!
//! The counter is per thread, so allocations by the test harness or by
//! other threads cannot disturb it; the measuring thread is one the test
//! starts for itself (under a watchdog, so a hang fails the test).
//!
//! (`unsafe` is needed to implement `GlobalAlloc`; the library itself
//! forbids it. This test crate only forwards to `System`.)

mod support;
use support::*;

use duet::event_loop::{Diagnostics, Runtime, spawn, timeout, yield_now};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

/// Forwards to the system allocator, counting allocations and
/// reallocations made by the current thread.
struct CountingAllocator;

thread_local! {
    // `const` and plain `Cell`s: no lazy initialisation and no destructor,
    // so touching them never allocates (which would recurse into the
    // allocator).
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static LIVE_BYTES: Cell<i64> = const { Cell::new(0) };
}

/// Records one allocation (or reallocation) changing live bytes by `delta`.
fn count(allocation: bool, delta: i64) {
    // `try_with`: during thread teardown the thread-locals may be gone.
    let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + u64::from(allocation)));
    let _ = LIVE_BYTES.try_with(|live| live.set(live.get() + delta));
}

fn size(bytes: usize) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

/// Allocations (and reallocations) this thread has made so far.
fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// Bytes allocated minus bytes freed by this thread so far.
fn live_bytes() -> i64 {
    LIVE_BYTES.with(Cell::get)
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees are ours.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(true, size(layout.size()));
        // SAFETY: forwarded unchanged; see above.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(true, size(layout.size()));
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(true, size(new_size) - size(layout.size()));
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(false, -size(layout.size()));
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

const WARM_UP: u64 = 10_000;
const SPAWNS: u64 = 10_000;
const YIELDS: u64 = 100_000;

/// A spawn costs at most two allocations (the boxed future and the waker's
/// `Arc`), and a finished, claimed task gives them back (nothing leaks);
/// waking and re-polling an existing task costs none: the run queue, task
/// table and timer buffers are reused, so a busy loop does not touch the
/// allocator at all.
#[test]
fn spawn_costs_at_most_two_allocations_and_a_wake_plus_poll_costs_none() {
    within_for(Duration::from_secs(30), || {
        let rt = Runtime::new().expect("the OS gave us an epoll instance");
        // The yield loop below busy-waits on purpose (it measures what a
        // wake costs), and a busy-wait report would add its own
        // allocations to what is counted: that check is off here.
        rt.set_diagnostics(Diagnostics {
            busy_wait: None,
            ..Diagnostics::default()
        });
        let bound = Duration::from_secs(10);

        // One spawn-and-await of an empty task, averaged after a warm-up that
        // lets the table, queue and free list reach their working size.
        let (spawn_allocations, spawn_leak) = rt
            .block_on(timeout(bound, async {
                for _ in 0..WARM_UP {
                    spawn(async {}).await.unwrap();
                }
                let (before, live_before) = (allocations(), live_bytes());
                for _ in 0..SPAWNS {
                    spawn(async {}).await.unwrap();
                }
                (allocations() - before, live_bytes() - live_before)
            }))
            .expect("spawning finished in time");
        let per_spawn = spawn_allocations as f64 / SPAWNS as f64;

        // A task that yields: each iteration is one wake (onto the local run
        // queue) and one re-poll.
        let yield_allocations = rt
            .block_on(timeout(bound, async {
                spawn(async {
                    for _ in 0..WARM_UP {
                        yield_now().await;
                    }
                    let before = allocations();
                    for _ in 0..YIELDS {
                        yield_now().await;
                    }
                    allocations() - before
                })
                .await
                .unwrap()
            }))
            .expect("yielding finished in time");
        let per_poll = yield_allocations as f64 / YIELDS as f64;

        println!(
            "allocations per spawn + complete + await of an empty task: {per_spawn:.4} \
             ({spawn_allocations} for {SPAWNS})"
        );
        println!("heap bytes still held after {SPAWNS} spawned tasks finished: {spawn_leak}");
        println!(
            "allocations per wake + re-poll (yield_now): {per_poll:.6} \
             ({yield_allocations} for {YIELDS})"
        );
        assert!(per_spawn <= 2.0, "a spawn costs {per_spawn} allocations");
        assert!(
            spawn_leak < 4096,
            "{SPAWNS} finished tasks left {spawn_leak} bytes allocated: a leak"
        );
        assert!(
            per_poll < 0.01,
            "a wake + poll costs {per_poll} allocations"
        );
    });
}
