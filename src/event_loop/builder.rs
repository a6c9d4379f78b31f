//! `Builder`: a runtime with a chosen clock and schedule.
//!
//! `Runtime::new()` builds the runtime programs normally want: the real
//! clock, and tasks polled first woken, first polled. A test author, or a
//! learner hunting a race, wants two more knobs:
//!
//! - `virtual_clock(true)`: time that jumps to the next deadline whenever
//!   nothing can run (`clock.rs`), so timer-heavy code runs at once and
//!   sees the same times on every run;
//! - `seed(n)`: the next task chosen at random among the runnable ones,
//!   from a sequence that `n` fixes (`schedule.rs`), so one program can be
//!   run in many orders, and a failing order replayed.
//!
//! The environment variable `DUET_SEED` sets the seed of every runtime
//! that `Builder::new()` (and so `Runtime::new()`) builds, without touching
//! the code: `DUET_SEED=42 cargo run --example ...`. An explicit
//! [`Builder::seed`] wins over it.
//!
//! docs/DETERMINISM.md puts both together. A runtime's diagnostics are
//! chosen here too ([`Builder::diagnostics`]).
//!
//! Read next: `diagnostics.rs`, how the loop notices a task's mistakes.

use super::clock::Clock;
use super::diagnostics::Diagnostics;
use super::executor::Executor;
use super::runtime::Runtime;
use super::schedule::Schedule;
use std::io;

/// The environment variable that seeds every `Builder::new()` runtime.
const SEED_VARIABLE: &str = "DUET_SEED";

/// Builds an event-loop [`Runtime`] with a chosen clock and schedule.
///
/// `Builder::new().build()` is what `Runtime::new()` gives:
///
/// ```
/// use duet::event_loop::Builder;
///
/// let rt = Builder::new().build().unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
#[derive(Clone, Debug)]
pub struct Builder {
    virtual_clock: bool,
    seed: Seed,
    diagnostics: Diagnostics,
}

/// Where the schedule comes from.
#[derive(Clone, Debug)]
enum Seed {
    Fifo,
    Seeded(u64),
    /// `DUET_SEED` held something that is not a number: `build` says so.
    Invalid(String),
}

impl Builder {
    /// The default runtime: real clock, FIFO schedule, unless `DUET_SEED`
    /// holds a number (decimal, or hexadecimal after `0x`), which seeds it.
    ///
    /// ```
    /// let rt = duet::event_loop::Builder::new().build().unwrap();
    /// rt.block_on(async {});
    /// ```
    pub fn new() -> Builder {
        let seed = match std::env::var(SEED_VARIABLE) {
            Ok(text) if !text.trim().is_empty() => match parse_seed(&text) {
                Some(seed) => Seed::Seeded(seed),
                None => Seed::Invalid(text),
            },
            _ => Seed::Fifo,
        };
        Builder {
            virtual_clock: false,
            seed,
            diagnostics: Diagnostics::default(),
        }
    }

    /// With `true`, the runtime's clock is virtual: it starts at the
    /// moment `build` is called and moves only when no task is runnable,
    /// straight to the earliest pending deadline. `sleep`, `sleep_until`,
    /// `timeout` and [`now`](super::now) all use it. With `false` (the
    /// default), the real clock.
    ///
    /// ```
    /// use duet::event_loop::{Builder, now, sleep, timeout};
    /// use std::time::Duration;
    ///
    /// let rt = Builder::new().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let start = now();
    ///     let day = Duration::from_secs(24 * 3600);
    ///     let late = timeout(day, sleep(2 * day)).await;
    ///     assert!(late.is_err());
    ///     assert_eq!(now() - start, day); // to the nanosecond, at once
    /// });
    /// ```
    pub fn virtual_clock(mut self, on: bool) -> Builder {
        self.virtual_clock = on;
        self
    }

    /// Picks the next task to poll uniformly at random among the runnable
    /// ones, from a pseudo-random sequence fixed by `seed`, instead of in
    /// the order they were woken. The same seed and the same program
    /// (under the virtual clock, with no real I/O or other threads) poll
    /// in the same order every time. Overrides `DUET_SEED`.
    ///
    /// ```
    /// use duet::event_loop::{Builder, spawn};
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    ///
    /// // The order in which three tasks first run, under one seed.
    /// fn order(seed: u64) -> Vec<u32> {
    ///     let rt = Builder::new().seed(seed).build().unwrap();
    ///     let order = Rc::new(RefCell::new(Vec::new()));
    ///     rt.block_on(async {
    ///         let handles: Vec<_> = (0..3)
    ///             .map(|i| {
    ///                 let order = order.clone();
    ///                 spawn(async move { order.borrow_mut().push(i) })
    ///             })
    ///             .collect();
    ///         for handle in handles {
    ///             handle.await.unwrap();
    ///         }
    ///     });
    ///     order.take()
    /// }
    /// assert_eq!(order(7), order(7)); // a seed replays its order
    /// ```
    pub fn seed(mut self, seed: u64) -> Builder {
        self.seed = Seed::Seeded(seed);
        self
    }

    /// What the runtime's diagnostics watch for and whether they print
    /// (see [`Diagnostics`]; the default follows the environment, and
    /// [`Runtime::set_diagnostics`] changes it later).
    ///
    /// ```
    /// use duet::event_loop::{Builder, Diagnostics};
    ///
    /// let rt = Builder::new().diagnostics(Diagnostics::off()).build().unwrap();
    /// assert_eq!(rt.diagnostics(), Diagnostics::off());
    /// ```
    pub fn diagnostics(mut self, diagnostics: Diagnostics) -> Builder {
        self.diagnostics = diagnostics;
        self
    }

    /// Builds the runtime.
    ///
    /// # Errors
    /// If the OS refuses the epoll/eventfd descriptors (as
    /// `Runtime::new()`), or if `DUET_SEED` is set to something that is not
    /// a number and no [`seed`](Builder::seed) replaced it
    /// (`ErrorKind::InvalidInput`).
    ///
    /// ```
    /// let rt = duet::event_loop::Builder::new().seed(1).build().unwrap();
    /// assert_eq!(rt.block_on(async { "seeded" }), "seeded");
    /// ```
    pub fn build(self) -> io::Result<Runtime> {
        let schedule = match self.seed {
            Seed::Fifo => Schedule::Fifo,
            Seed::Seeded(seed) => Schedule::seeded(seed),
            Seed::Invalid(text) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{SEED_VARIABLE}={text:?} is not a number; \
                         give a u64 in decimal or 0x-hexadecimal, or unset it"
                    ),
                ));
            }
        };
        let clock = if self.virtual_clock {
            Clock::new_virtual()
        } else {
            Clock::Real
        };
        Ok(Runtime::from_executor(Executor::new(
            clock,
            schedule,
            self.diagnostics,
        )?))
    }
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

fn parse_seed(text: &str) -> Option<u64> {
    let text = text.trim();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_seed;

    #[test]
    fn seeds_parse_in_decimal_and_hexadecimal() {
        assert_eq!(parse_seed("42"), Some(42));
        assert_eq!(parse_seed(" 0x2A\n"), Some(42));
        assert_eq!(parse_seed("forty-two"), None);
        assert_eq!(parse_seed("-1"), None);
    }
}
