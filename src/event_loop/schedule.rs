//! The schedule: which runnable task the loop polls next.
//!
//! By default the run queue is first in, first out: tasks run in the order
//! they were woken. Every run of a program then polls its tasks in the same
//! order, and a program that is only correct in that order looks correct.
//!
//! A *seeded* schedule ([`Builder::seed`](super::Builder::seed), or the
//! `DUET_SEED` environment variable) instead picks the next task uniformly
//! at random among all the queued ones, from a pseudo-random sequence that
//! the seed fixes. Different seeds give different orders, so running one
//! program under many seeds explores many interleavings of its tasks; and
//! the same seed gives the same order again, so an interleaving that breaks
//! the program can be replayed from its seed. This is the idea behind
//! loom, shuttle and deterministic simulation testing, on one thread: any
//! state a task reads before an `.await` and uses after it may have been
//! changed by another task in between, and some order will show it.
//!
//! The generator is SplitMix64 (Steele, Lea and Flood, 2014): one `u64` of
//! state, an add and three xor-shift-multiplies per number, every seed
//! (zero included) good. A teaching runtime needs no `rand` dependency for
//! that.
//!
//! What stays true under any seed: every woken task is polled, once per
//! wake, and timers, I/O and deferred yields go on as before. What does not:
//! the order among tasks that are runnable at the same time. A yield still
//! lets every task that was queued before it run first, unless the loop's
//! periodic look at the reactor (`executor.rs`) wakes the yielder while
//! others are still queued: then the draw may pick it ahead of them.
//!
//! When FIFO, `pick` is an untaken branch and a `pop_front`.
//!
//! Read next: `builder.rs`, where a runtime's clock and schedule are
//! chosen.

use super::task::TaskKey;
use std::cell::Cell;
use std::collections::VecDeque;

/// How the loop picks the next runnable task.
pub(crate) enum Schedule {
    /// The run queue's order: first woken, first polled.
    Fifo,
    /// Uniformly at random among the queued keys; the state of a
    /// SplitMix64 generator.
    Seeded(Cell<u64>),
}

impl Schedule {
    /// A seeded schedule.
    pub(crate) fn seeded(seed: u64) -> Schedule {
        Schedule::Seeded(Cell::new(seed))
    }

    /// Takes the next key off `queue`, or `None` if it is empty.
    #[inline]
    pub(crate) fn pick(&self, queue: &mut VecDeque<TaskKey>) -> Option<TaskKey> {
        // Seeded, the drawn key is first swapped to the front; either
        // way the key at the front is the one taken. (So FIFO costs one
        // untaken branch more than the plain `pop_front`.)
        if let Schedule::Seeded(state) = self {
            draw_to_front(state, queue);
        }
        queue.pop_front()
    }
}

/// Swaps a key drawn uniformly from `queue` to its front. Out of line
/// (and marked cold, so laid out apart), to keep the loop's FIFO path
/// small: only the branch and the call's setup remain there.
#[cold]
#[inline(never)]
fn draw_to_front(state: &Cell<u64>, queue: &mut VecDeque<TaskKey>) {
    if queue.len() > 1 {
        let index = below(next(state), queue.len());
        queue.swap(0, index);
    }
}

/// The next number of a SplitMix64 sequence.
fn next(state: &Cell<u64>) -> u64 {
    let s = state.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
    state.set(s);
    let mut z = s;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Maps a random `u64` onto `0..n` by taking the high half of the
/// 128-bit product: no division, and the bias (at most n / 2^64) is far
/// below anything a test could notice.
fn below(random: u64, n: usize) -> usize {
    ((u128::from(random) * n as u128) >> 64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_its_reference_sequence() {
        // The first outputs for seed 1234567, from the reference C code.
        let state = Cell::new(1_234_567);
        let first: Vec<u64> = (0..3).map(|_| next(&state)).collect();
        assert_eq!(
            first,
            [
                6_457_827_717_110_365_317,
                3_203_168_211_198_807_973,
                9_817_491_932_198_370_423
            ]
        );
    }

    #[test]
    fn below_covers_the_whole_range_evenly() {
        let state = Cell::new(7);
        let mut counts = [0u32; 5];
        for _ in 0..50_000 {
            counts[below(next(&state), 5)] += 1;
        }
        for count in counts {
            assert!((9_000..11_000).contains(&count), "{counts:?}");
        }
    }
}
