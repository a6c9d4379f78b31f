//! Precise wake-ups: ending a park within microseconds of a deadline.
//!
//! The loop parks in `epoll_wait`, whose timeout is a whole number of
//! milliseconds. mio rounds a timeout *up* (never early), so a sleep due
//! in 2.3 ms would park for 3 ms and end 0.7 ms late: on average a timer
//! would fire half a millisecond after its deadline, whatever the machine.
//!
//! The fix is a second clock that the kernel *can* set to the nanosecond:
//! a `timerfd`, a file descriptor that becomes readable when its timer
//! expires. It is registered with the same epoll instance as the sockets,
//! so arming it for the deadline ends the park then, as a socket event
//! would. The millisecond timeout stays as it was (it is never earlier
//! than the timerfd), so a missed timerfd can only make a timer as late
//! as it used to be, never lost.
//!
//! The cost is one `timerfd_settime` system call per park that has a
//! deadline (a park with no pending timer arms nothing), and one `read`
//! to reset the timerfd when it has fired. Nothing spins: the thread
//! sleeps in the kernel until the deadline, as before.
//!
//! `timerfd` is Linux's; std has no binding for it, and calling it by hand
//! would take `unsafe`. The `rustix` crate gives a safe one (and is what
//! smol's poller uses for the same purpose), which is why duet depends on
//! it, with only its `time` feature.
//!
//! Read next: `io_source.rs`.

use rustix::time::{
    Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec, timerfd_create,
    timerfd_settime,
};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// A timerfd on the monotonic clock (the one `Instant` reads).
pub(crate) struct PreciseWakeup {
    timer: OwnedFd,
}

impl PreciseWakeup {
    pub(crate) fn new() -> io::Result<PreciseWakeup> {
        let timer = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        )?;
        Ok(PreciseWakeup { timer })
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        self.timer.as_raw_fd()
    }

    /// Makes the timerfd readable `after` from now, replacing any earlier
    /// arming. A zero duration would disarm it, so it is never asked for
    /// (a zero-timeout park does not sleep at all).
    pub(crate) fn arm(&self, after: Duration) {
        debug_assert!(!after.is_zero());
        let value = Itimerspec {
            it_interval: Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: Timespec {
                tv_sec: after.as_secs().try_into().unwrap_or(i64::MAX),
                tv_nsec: after.subsec_nanos().into(),
            },
        };
        // This fails only for a bad descriptor or value, neither of which
        // can happen here; if it did, the park would simply end at the
        // millisecond timeout, as it would without a timerfd.
        let _ = timerfd_settime(&self.timer, TimerfdTimerFlags::empty(), &value);
    }

    /// The timerfd fired: read its expiry count, which makes it unreadable
    /// again, ready for the next arming.
    pub(crate) fn reset(&self) {
        let mut expirations = [0u8; 8];
        // `WouldBlock` means someone re-armed it meanwhile: nothing to do.
        let _ = rustix::io::read(&self.timer, &mut expirations);
    }
}
