//! `select`: whichever finishes first, and the other is cancelled.
//!
//! `select(a, b)` polls both children like `join` does (each with its own
//! waker, so only a woken child is polled: see `child_wakers.rs`), but it
//! is `Ready` as soon as *one* of them is. The other is then dropped,
//! before `poll` returns. Dropping a future is how async Rust cancels it:
//! nothing more is run, its destructor takes back whatever it had left
//! behind (a timer entry, a place in a channel's line, a socket
//! registration), and the wait it was in is over. With tracing on, that
//! drop is an `EventKind::Cancelled` event in the polling task's lane,
//! when the loser had started waiting (been polled at least once). A side
//! may be a borrow (`select(rx.recv(), &mut tick)`): then only the borrow
//! is dropped, and the future itself lives on to be polled again.
//!
//! What a cancelled future loses depends on the future, and is why
//! "cancel safety" matters: a `recv` dropped while waiting loses nothing,
//! a `read_exact` dropped half-way loses the bytes it already read. See
//! `docs/CANCELLATION.md` for every future of duet.
//!
//! Fairness. If both children are woken, one must be polled first, and if
//! both are ready, that one wins. Always polling `a` first would let an
//! always-ready `a` (a busy channel) starve `b` forever in a loop of
//! `select`s. So when both are woken, a coin decides: a small
//! pseudo-random generator per thread (xorshift, fixed seed, so a run is
//! repeatable), as tokio's `select!` does. Why not simply alternate, with
//! a switch that flips at every `select` poll? Because selects nest: in
//! `select(a, select(b, c))` two selects are polled per turn, the switch
//! flips twice, and the outer one starts on the same side every turn, so
//! one of `b` and `c` may never win. A coin has no period for a pattern of
//! selects to fall into step with.
//!
//! As in `join.rs`, the children are boxed to avoid `unsafe` pin
//! projection; here no output is stored, so `Select` is `Unpin` as is.
//!
//! Read next: `docs/CANCELLATION.md`, then `clock.rs` and runs that repeat
//! exactly; after them `src/trace/mod.rs`, how both
//! runtimes report what they do.

use super::child_wakers::ChildWakers;
use crate::trace::{self, EventKind};
use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// One of two things: the output of [`select`]'s left or right future.
///
/// ```
/// use duet::event_loop::Either;
///
/// let won: Either<u8, &str> = Either::Right("timer");
/// let said = match won {
///     Either::Left(n) => format!("message {n}"),
///     Either::Right(what) => format!("{what} first"),
/// };
/// assert_eq!(said, "timer first");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Either<L, R> {
    /// The first future (`a`) finished first.
    Left(L),
    /// The second future (`b`) finished first.
    Right(R),
}

/// Waits for the first of `a` and `b` to finish and gives its output; the
/// other future is dropped (cancelled) before this returns. If both are
/// ready in the same poll, the side polled first wins, and a coin toss
/// picks that side (see the module notes on fairness).
///
/// ```
/// use duet::event_loop::{Either, Runtime, channel, select, sleep};
/// use std::time::Duration;
///
/// let rt = Runtime::new().unwrap();
/// let (tx, rx) = channel::unbounded::<&str>();
/// tx.try_send("hello").unwrap();
/// let first = rt.block_on(select(rx.recv(), sleep(Duration::from_secs(60))));
/// assert_eq!(first, Either::Left(Some("hello"))); // the 60 s sleep is dropped
/// ```
pub fn select<A: Future, B: Future>(a: A, b: B) -> Select<A, B> {
    Select {
        a: Some(Box::pin(a)),
        b: Some(Box::pin(b)),
        polled: [false; 2],
        wakers: ChildWakers::new(2),
        woken: Vec::new(),
    }
}

/// The future made by [`select`].
///
/// ```
/// use duet::event_loop::{Either, Runtime, Select, select};
/// use std::future::{Pending, Ready, pending, ready};
///
/// let first: Select<Pending<()>, Ready<&str>> = select(pending(), ready("right"));
/// assert_eq!(Runtime::new().unwrap().block_on(first), Either::Right("right"));
/// ```
#[must_use = "a Select does nothing unless you .await it"]
pub struct Select<A, B> {
    a: Option<Pin<Box<A>>>,
    b: Option<Pin<Box<B>>>,
    /// Whether each side has been polled: only a polled loser was waiting.
    polled: [bool; 2],
    wakers: ChildWakers,
    woken: Vec<usize>,
}

thread_local! {
    /// The coin's state: xorshift64 (Marsaglia), seeded with a constant.
    static COIN: Cell<u64> = const { Cell::new(0x9E37_79B9_7F4A_7C15) };
}

/// Heads or tails, from this thread's generator.
fn toss() -> bool {
    COIN.with(|coin| {
        let mut x = coin.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        coin.set(x);
        x >> 63 == 1
    })
}

impl<A: Future, B: Future> Future for Select<A, B> {
    type Output = Either<A::Output, B::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let (Some(a), Some(b)) = (&mut this.a, &mut this.b) else {
            panic!("a Select was polled after it completed");
        };
        this.wakers.set_parent(cx.waker());
        this.wakers.take_woken(&mut this.woken);
        let woken = [this.woken.contains(&0), this.woken.contains(&1)];
        this.woken.clear();
        // The coin only matters, and is only tossed, when both are woken.
        let left_first = !woken[1] || (woken[0] && toss());
        for side in if left_first { [0, 1] } else { [1, 0] } {
            if !woken[side] {
                continue;
            }
            this.polled[side] = true;
            let mut cx = Context::from_waker(this.wakers.waker(side));
            let output = if side == 0 {
                a.as_mut().poll(&mut cx).map(Either::Left)
            } else {
                b.as_mut().poll(&mut cx).map(Either::Right)
            };
            if output.is_ready() {
                this.cancel_loser(1 - side);
                return output;
            }
        }
        Poll::Pending
    }
}

impl<A, B> Select<A, B> {
    /// Drops both futures (the winner is done anyway), the loser first,
    /// and says so in the trace if the loser was waiting.
    fn cancel_loser(&mut self, loser: usize) {
        if loser == 0 {
            self.a = None;
        } else {
            self.b = None;
        }
        if self.polled[loser] {
            let what = if loser == 0 {
                "select: left side lost"
            } else {
                "select: right side lost"
            };
            trace::emit(|| (trace::current_task(), EventKind::Cancelled { what }));
        }
        self.a = None;
        self.b = None;
    }
}

impl<A, B> fmt::Debug for Select<A, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Select")
            .field("done", &(self.a.is_none()))
            .field("polled", &self.polled)
            .finish()
    }
}
