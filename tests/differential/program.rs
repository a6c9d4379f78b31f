//! The programs of the differential test, how to generate them, and how to
//! run them on each runtime (see `tests/differential.rs`).

use proptest::prelude::*;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// One task: a list of steps.
#[derive(Clone)]
pub struct Program {
    steps: Vec<Step>,
}

// Debug is derived only because proptest's strategies need it; the
// program's own Debug (below) is what a failure prints.
#[derive(Clone, Debug)]
enum Step {
    Sleep(u64),
    Yield,
    Compute(u64),
    /// Starts a child task that also sends `messages` to this task on a
    /// channel of `capacity`, one after each of its steps (and the rest at
    /// the end). The parent drains the channel, then joins the child.
    Spawn {
        child: Program,
        messages: Vec<u64>,
        capacity: usize,
    },
    /// Drains and joins the child spawned by the `index`-th `Spawn`.
    Join(usize),
}

/// Folds a value into a running result. Order matters, as it should.
fn fold(result: u64, value: u64) -> u64 {
    result.wrapping_mul(1_000_003).wrapping_add(value)
}

/// A little CPU work whose answer is easy to predict.
fn compute(seed: u64) -> u64 {
    (0..seed % 1_000).fold(seed, |acc, i| acc.rotate_left(5) ^ i)
}

pub fn program() -> impl Strategy<Value = Program> {
    let leaf = steps(Just(None).boxed());
    leaf.prop_recursive(3, 24, 4, |inner| steps(inner.prop_map(Some).boxed()))
}

/// Steps for one task; `child` makes the programs of spawned children.
fn steps(child: BoxedStrategy<Option<Program>>) -> impl Strategy<Value = Program> {
    let step = prop_oneof![
        (0u64..4).prop_map(Step::Sleep),
        Just(Step::Yield),
        any::<u64>().prop_map(Step::Compute),
        (child, prop::collection::vec(any::<u64>(), 0..6), 1usize..4).prop_map(
            |(child, messages, capacity)| match child {
                Some(child) => Step::Spawn {
                    child,
                    messages,
                    capacity
                },
                None => Step::Yield,
            }
        ),
    ];
    prop::collection::vec(step, 0..6).prop_map(Program::with_joins)
}

impl Program {
    /// Inserts a `Join` for every `Spawn` at the end, so that every child
    /// is joined; moving some joins earlier is left to the generator's
    /// `Yield`s and `Sleep`s around them.
    fn with_joins(mut steps: Vec<Step>) -> Program {
        let spawned = steps
            .iter()
            .filter(|s| matches!(s, Step::Spawn { .. }))
            .count();
        steps.extend((0..spawned).rev().map(Step::Join));
        Program { steps }
    }

    pub fn example() -> Program {
        Program::with_joins(vec![
            Step::Sleep(2),
            Step::Spawn {
                child: Program {
                    steps: vec![Step::Compute(7), Step::Yield],
                },
                messages: vec![1, 2, 3],
                capacity: 1,
            },
            Step::Compute(5),
        ])
    }

    /// The answer, computed with no runtime at all.
    pub fn expected(&self) -> u64 {
        let mut result = 0;
        let mut children = Vec::new();
        for step in &self.steps {
            match step {
                Step::Sleep(ms) => result = fold(result, *ms),
                Step::Yield => result = fold(result, 1),
                Step::Compute(seed) => result = fold(result, compute(*seed)),
                Step::Spawn {
                    child, messages, ..
                } => children.push((child, messages)),
                Step::Join(index) => {
                    let (child, messages) = children[*index];
                    for message in messages {
                        result = fold(result, *message);
                    }
                    result = fold(result, child.expected());
                }
            }
        }
        result
    }

    /// Runs the program on `duet::blocking`: children are threads.
    pub fn run_blocking(&self) -> u64 {
        self.run_blocking_with(None)
    }

    /// `outbox`: the channel to this task's parent, and the messages to
    /// send on it, one before each step and the rest at the end.
    fn run_blocking_with(
        &self,
        outbox: Option<Outbox<duet::blocking::channel::Sender<u64>>>,
    ) -> u64 {
        use duet::blocking::channel::bounded;
        let mut outbox = outbox;
        let mut result = 0;
        let mut children = Vec::new();
        for step in &self.steps {
            if let Some(message) = outbox.as_mut().and_then(Outbox::next) {
                outbox.as_ref().unwrap().sender.send(message).unwrap();
            }
            match step {
                Step::Sleep(ms) => {
                    duet::blocking::sleep(Duration::from_millis(*ms));
                    result = fold(result, *ms);
                }
                Step::Yield => {
                    duet::blocking::yield_now();
                    result = fold(result, 1);
                }
                Step::Compute(seed) => result = fold(result, compute(*seed)),
                Step::Spawn {
                    child,
                    messages,
                    capacity,
                } => {
                    let (sender, receiver) = bounded(*capacity);
                    let child = child.clone();
                    let outbox = Outbox::new(sender, messages.clone());
                    let handle =
                        duet::blocking::spawn(move || child.run_blocking_with(Some(outbox)));
                    children.push(Some((handle, receiver)));
                }
                Step::Join(index) => {
                    let (handle, receiver) = children[*index].take().unwrap();
                    while let Some(message) = receiver.recv() {
                        result = fold(result, message);
                    }
                    result = fold(result, handle.join().unwrap());
                }
            }
        }
        if let Some(mut outbox) = outbox {
            while let Some(message) = outbox.next() {
                outbox.sender.send(message).unwrap();
            }
        }
        result
    }

    /// Runs the program on `duet::event_loop`: children are tasks.
    pub fn run_event_loop(&self) -> Pin<Box<dyn Future<Output = u64>>> {
        self.clone().run_event_loop_with(None)
    }

    fn run_event_loop_with(
        self,
        outbox: Option<Outbox<duet::event_loop::channel::Sender<u64>>>,
    ) -> Pin<Box<dyn Future<Output = u64>>> {
        use duet::event_loop::channel::bounded;
        Box::pin(async move {
            let mut outbox = outbox;
            let mut result = 0;
            let mut children = Vec::new();
            for step in &self.steps {
                if let Some(message) = outbox.as_mut().and_then(Outbox::next) {
                    outbox.as_ref().unwrap().sender.send(message).await.unwrap();
                }
                match step {
                    Step::Sleep(ms) => {
                        duet::event_loop::sleep(Duration::from_millis(*ms)).await;
                        result = fold(result, *ms);
                    }
                    Step::Yield => {
                        duet::event_loop::yield_now().await;
                        result = fold(result, 1);
                    }
                    Step::Compute(seed) => result = fold(result, compute(*seed)),
                    Step::Spawn {
                        child,
                        messages,
                        capacity,
                    } => {
                        let (sender, receiver) = bounded(*capacity);
                        let outbox = Outbox::new(sender, messages.clone());
                        let handle = duet::event_loop::spawn(
                            child.clone().run_event_loop_with(Some(outbox)),
                        );
                        children.push(Some((handle, receiver)));
                    }
                    Step::Join(index) => {
                        let (handle, receiver) = children[*index].take().unwrap();
                        while let Some(message) = receiver.recv().await {
                            result = fold(result, message);
                        }
                        result = fold(result, handle.await.unwrap());
                    }
                }
            }
            if let Some(mut outbox) = outbox {
                while let Some(message) = outbox.next() {
                    outbox.sender.send(message).await.unwrap();
                }
            }
            result
        })
    }
}

/// A child's way back to its parent: a sender and the messages left to send.
struct Outbox<S> {
    sender: S,
    messages: std::vec::IntoIter<u64>,
}

impl<S> Outbox<S> {
    fn new(sender: S, messages: Vec<u64>) -> Outbox<S> {
        Outbox {
            sender,
            messages: messages.into_iter(),
        }
    }

    fn next(&mut self) -> Option<u64> {
        self.messages.next()
    }
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, 0)
    }
}

impl Program {
    fn write(&self, f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
        let pad = "    ".repeat(depth + 1);
        writeln!(f, "task {{")?;
        let mut spawned = 0;
        for step in &self.steps {
            write!(f, "{pad}")?;
            match step {
                Step::Sleep(ms) => writeln!(f, "sleep({ms}ms);")?,
                Step::Yield => writeln!(f, "yield_now();")?,
                Step::Compute(seed) => writeln!(f, "compute({seed});")?,
                Step::Spawn {
                    child,
                    messages,
                    capacity,
                } => {
                    write!(f, "let child{spawned} = spawn(")?;
                    child.write(f, depth + 1)?;
                    writeln!(f, ").sending({messages:?}, bounded({capacity}));")?;
                    spawned += 1;
                }
                Step::Join(index) => writeln!(f, "drain(child{index}); join(child{index});")?,
            }
        }
        write!(f, "{}}}", "    ".repeat(depth))?;
        if depth == 0 {
            writeln!(f)?;
        }
        Ok(())
    }
}
