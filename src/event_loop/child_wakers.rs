//! Child wakers: how a combinator learns *which* of its futures was woken.
//!
//! A combinator (`join`, `join_all`, `select`) is polled with its task's
//! waker. If it passed that same waker down to every child, a wake would
//! say "something in this task changed" and nothing more: the combinator
//! would have to poll every child again to find out which. That is a poll
//! per child per wake, and with `join_all` over a thousand futures it adds
//! up to a thousand wasted polls for each message that arrives.
//!
//! So each child gets its own waker. It is a tiny `Arc` (made with
//! `std::task::Wake`, no `unsafe`) holding the child's index and a handle
//! to a list shared by all the children. Waking it does two things:
//!
//! 1. puts the index on the *woken list* (once: a flag per child
//!    coalesces repeated wakes, exactly as the executor's `queued` flag
//!    does for tasks, in `waker.rs`);
//! 2. wakes the parent task, through the waker the combinator stored at
//!    its last poll.
//!
//! On its next poll the combinator takes the list and polls only those
//! children. It is a small executor inside a future: a run queue of child
//! indices, fed by wakers. Before the first poll every child counts as
//! woken, because every future must be polled once to start.
//!
//! The parent waker is replaced whenever the combinator is polled with a
//! different one (it may be moved to another task), so a child's wake
//! always reaches the task that polls the combinator now.
//!
//! The price is paid once per combinator, in allocations: the shared part
//! (an `Arc`, with its list and its flags) and one small `Arc` per child,
//! on top of the box each child is pinned in. A combinator that passed its
//! own waker down would need none of these, and would pay in polls instead.
//!
//! Read next: `join.rs`.

use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Wake, Waker};

/// The list and the parent waker, shared by the combinator and every child
/// waker. Child wakers may be called from any thread, hence the locks.
struct Shared {
    parent: Mutex<Option<Waker>>,
    woken: Mutex<Vec<usize>>,
    /// `queued[i]`: child `i` is on the woken list already.
    queued: Box<[AtomicBool]>,
}

/// What one child's `Waker` points to.
struct Child {
    shared: Arc<Shared>,
    index: usize,
}

impl Wake for Child {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let shared = &self.shared;
        if !shared.queued[self.index].swap(true, Ordering::AcqRel) {
            shared.woken.lock().push(self.index);
        }
        // Clone out of the lock, wake after it: the parent's waker is
        // foreign code and must not run under our lock.
        let parent = shared.parent.lock().clone();
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

/// One waker per child, and the list they fill.
pub(crate) struct ChildWakers {
    shared: Arc<Shared>,
    wakers: Vec<Waker>,
}

impl ChildWakers {
    /// Wakers for `count` children, every one of them counted as woken.
    pub(crate) fn new(count: usize) -> ChildWakers {
        let shared = Arc::new(Shared {
            parent: Mutex::new(None),
            woken: Mutex::new((0..count).collect()),
            queued: (0..count).map(|_| AtomicBool::new(true)).collect(),
        });
        let wakers = (0..count)
            .map(|index| {
                Waker::from(Arc::new(Child {
                    shared: shared.clone(),
                    index,
                }))
            })
            .collect();
        ChildWakers { shared, wakers }
    }

    /// Remembers the waker of the task polling the combinator now. Call it
    /// at the start of every poll, before polling any child.
    pub(crate) fn set_parent(&self, waker: &Waker) {
        let mut parent = self.shared.parent.lock();
        match &mut *parent {
            Some(stored) if stored.will_wake(waker) => {}
            _ => *parent = Some(waker.clone()),
        }
    }

    /// Moves the indices woken since the last call into `into` (which
    /// should be empty), in the order they were woken. A child woken again
    /// after this call goes back on the list, to be polled next time.
    pub(crate) fn take_woken(&self, into: &mut Vec<usize>) {
        let mut woken = self.shared.woken.lock();
        std::mem::swap(&mut *woken, into);
        for &index in into.iter() {
            self.shared.queued[index].store(false, Ordering::Release);
        }
    }

    /// The waker to poll child `index` with. The same one every time, so
    /// `Waker::will_wake` lets a child skip re-storing it.
    pub(crate) fn waker(&self, index: usize) -> &Waker {
        &self.wakers[index]
    }
}
