//! A task: one spawned future plus the little the loop must know about it.
//!
//! The loop keeps every task in a [`TaskTable`], a vector of slots indexed
//! by a [`TaskKey`]. A key is an index *and* a generation: when a task is
//! removed its slot's generation goes up, so a key (held by a stale waker
//! or a `JoinHandle`) can never reach the next task that reuses the slot.
//!
//! Why a table and not `Arc<Task>` holding the future? Tasks here need not
//! be `Send` (an `Rc` inside a task must work), but wakers must be `Send +
//! Sync` because any thread may wake a task. So the future stays in this
//! table, owned by the loop thread, and a waker carries only the key.
//!
//! Read next: `waker.rs`, which turns a key into a wake-up.

use super::waker::TaskWaker;
use crate::JoinError;
use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Waker;

/// A task's future with its output type erased, so futures of every output
/// type fit in one table. The `JoinHandle<T>` knows `T` and downcasts back.
/// (A `Box<dyn Any>` of a zero-sized value such as `()` allocates nothing.)
pub(crate) type TaskFuture = Pin<Box<dyn Future<Output = Box<dyn Any>>>>;

/// What a finished task leaves for its `JoinHandle`.
pub(crate) type Outcome = Result<Box<dyn Any>, JoinError>;

/// Where a task is in its life. Every task goes `Idle ⇄ Polling → Finished`.
pub(crate) enum Stage {
    /// Waiting to be polled; the loop owns the future.
    Idle(TaskFuture),
    /// Being polled right now: the future is out of the table, in the
    /// loop's hands. A task can therefore never be polled twice at once,
    /// and anything the task does to the table meanwhile (spawn, abort
    /// itself, drop its own handle) finds the slot free to borrow.
    Polling,
    /// Done. The future has been dropped; the outcome waits for the
    /// `JoinHandle` (`None` once the handle has taken it).
    Finished(Option<Outcome>),
}

/// One task's entry in the table.
pub(crate) struct Task {
    pub(crate) stage: Stage,
    /// Shared with every `Waker` of this task; see `waker.rs`.
    pub(crate) waker: Arc<TaskWaker>,
    /// The waker of whoever awaits the `JoinHandle`, woken on finish.
    pub(crate) join_waker: Option<Waker>,
    /// False once the `JoinHandle` is dropped: the task is detached and its
    /// output is dropped as soon as it is made.
    pub(crate) has_handle: bool,
    /// Set by `JoinHandle::abort`; the loop drops the future at its next
    /// turn instead of polling it.
    pub(crate) abort_requested: bool,
}

/// Names a slot in the [`TaskTable`] and the generation of its occupant.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct TaskKey {
    index: u32,
    generation: u32,
}

impl TaskKey {
    /// The key of the future given to `block_on`, which lives on the
    /// caller's stack, not in the table. Each `block_on` call gets a new
    /// generation so a leftover wake from an earlier call is ignored.
    pub(crate) fn main(generation: u32) -> TaskKey {
        TaskKey {
            index: u32::MAX,
            generation,
        }
    }
}

struct Slot {
    generation: u32,
    task: Option<Task>,
}

/// A slab of tasks: O(1) insert, lookup and remove, and freed slots are
/// reused, so a long-running loop does not grow without bound.
#[derive(Default)]
pub(crate) struct TaskTable {
    slots: Vec<Slot>,
    free: Vec<u32>,
    len: usize,
}

impl TaskTable {
    /// Stores the task that `make` builds. `make` is given the task's key
    /// first, because the task's waker must carry it.
    pub(crate) fn insert(&mut self, make: impl FnOnce(TaskKey) -> Task) -> TaskKey {
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                let index = u32::try_from(self.slots.len())
                    .ok()
                    .filter(|&i| i < u32::MAX)
                    .expect("more than 4 billion live tasks");
                self.slots.push(Slot {
                    generation: 0,
                    task: None,
                });
                index
            }
        };
        let slot = &mut self.slots[index as usize];
        let key = TaskKey {
            index,
            generation: slot.generation,
        };
        slot.task = Some(make(key));
        self.len += 1;
        key
    }

    pub(crate) fn get(&self, key: TaskKey) -> Option<&Task> {
        let slot = self.slots.get(key.index as usize)?;
        if slot.generation != key.generation {
            return None;
        }
        slot.task.as_ref()
    }

    pub(crate) fn get_mut(&mut self, key: TaskKey) -> Option<&mut Task> {
        let slot = self.slots.get_mut(key.index as usize)?;
        if slot.generation != key.generation {
            return None;
        }
        slot.task.as_mut()
    }

    /// Takes the task out and retires its key. The caller drops the task
    /// *after* releasing its borrow of the table: dropping a future runs
    /// user code, which may reach back into the table.
    pub(crate) fn remove(&mut self, key: TaskKey) -> Option<Task> {
        let slot = self.slots.get_mut(key.index as usize)?;
        if slot.generation != key.generation {
            return None;
        }
        let task = slot.task.take()?;
        // Wrapping is fine: a stale key would have to survive 2^32 reuses
        // of one slot to be mistaken for a live one.
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(key.index);
        self.len -= 1;
        Some(task)
    }

    /// Removes every task (for shutdown), leaving the table empty.
    pub(crate) fn drain(&mut self) -> Vec<Task> {
        let mut tasks = Vec::with_capacity(self.len);
        for index in 0..self.slots.len() {
            let slot = &self.slots[index];
            let key = TaskKey {
                index: index as u32,
                generation: slot.generation,
            };
            tasks.extend(self.remove(key));
        }
        tasks
    }

    /// How many tasks are in the table (running or finished-but-unclaimed).
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}
