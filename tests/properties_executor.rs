//! The executor's rules, checked on random programs.
//!
//! `tests/event_loop_executor.rs` shows each rule once, on a hand-picked
//! case. Here proptest generates many cases, shrinks any that fails to a
//! small one, and prints it as the code it stands for. The rules:
//!
//! 1. every spawned task is polled until it is ready, and never after;
//! 2. a task is polled only by the loop, on the thread that called
//!    `block_on`: never while it is already being polled, nor from inside
//!    another task's poll (by a `wake` that polls);
//! 3. wakes coalesce: however many wakes land before a task runs again, it
//!    runs once; and it is never polled without having been woken;
//! 4. `abort` gives the finished result or `Cancelled`, never both; an
//!    aborted future is never polled again and is dropped exactly once;
//! 5. timers fire in deadline order, and never early;
//! 6. dropping a `Runtime` drops every future it holds exactly once,
//!    whatever the future holds (its own handle, its own waker, a timer)
//!    and whether or not it ever ran.
//!
//! Rules 1 to 4 share one kind of program, a list of operations that a
//! driver (the `block_on` future) carries out: spawn a *probe*, yield,
//! abort a handle, drop a handle, await a handle. A probe is an
//! instrumented future that counts its polls and checks each one. Each
//! time it returns `Pending` it arranges its next wake in one of four ways:
//! it wakes itself, another task wakes it, a thread wakes it while the
//! poll is still running, or a thread wakes it whenever it gets there. Once
//! ready it hands its waker out for *late* wakes, which must never poll it
//! again (docs/PITFALLS.md #5), nor the task that reuses its slot in the table.
//!
//! Every case runs several times: in FIFO order, and under a few seeded
//! schedules (`Builder::seed`), which poll the runnable tasks in random
//! orders, so a rule that holds only in FIFO order fails here, and the
//! failure names the seed that reproduces it (docs/DETERMINISM.md). Rule 5
//! runs on the real clock in FIFO order, and on the virtual clock in FIFO
//! and seeded orders (on the real clock a seeded schedule may poll two
//! sleepers that fired in the same turn in either order: see
//! DETERMINISM.md).
//!
//! Nothing here waits on the clock except the sleeps that rule 5 is about:
//! steps are synchronised with channels, joins and wakers. Every case runs
//! on a watchdog'd thread (`within_for`) and every wait inside it is
//! bounded by `timeout` (`bounded_as`), so a lost wake fails instead of
//! hanging.
//!
//! Read next: `tests/properties_reactor.rs`, the same idea for sockets.

mod support;
use support::*;

use duet::JoinError;
use duet::event_loop::{Builder, JoinHandle, Runtime, now, sleep, sleep_until, spawn, yield_now};
use proptest::prelude::*;
use proptest::sample::Index;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::task::{Context, Poll, Waker};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

/// How long one whole case may take before the watchdog fails it.
const CASE_PATIENCE: Duration = THREAD_PATIENCE;

// ====================================================================
// Schedules
// ====================================================================

/// How many seeded schedules each case runs under, besides FIFO.
const SEEDS_PER_CASE: usize = 2;

/// The seeds of one case: generated (and shrunk, and printed) by proptest
/// with the program they run.
fn seeds() -> impl Strategy<Value = Vec<u64>> {
    prop::collection::vec(any::<u64>(), SEEDS_PER_CASE)
}

/// FIFO first, then each seed.
fn schedules(seeds: &[u64]) -> impl Iterator<Item = Option<u64>> + '_ {
    std::iter::once(None).chain(seeds.iter().copied().map(Some))
}

/// A runtime with the given schedule (FIFO for `None`) and clock.
fn runtime_with(seed: Option<u64>, virtual_clock: bool) -> Runtime {
    let builder = Builder::new().virtual_clock(virtual_clock);
    let builder = match seed {
        Some(seed) => builder.seed(seed),
        None => builder,
    };
    builder.build().expect("the OS gave us an epoll instance")
}

/// Says which schedule and clock a failure happened under, so that it can
/// be replayed.
fn under(
    seed: Option<u64>,
    virtual_clock: bool,
    checked: Result<(), TestCaseError>,
) -> Result<(), TestCaseError> {
    checked.map_err(|error| {
        let schedule = match seed {
            Some(seed) => format!("Builder::new().seed({seed})"),
            None => "FIFO".to_string(),
        };
        let clock = if virtual_clock { "virtual" } else { "real" };
        TestCaseError::fail(format!("under {schedule}, {clock} clock: {error}"))
    })
}

// ====================================================================
// Programs of probes (rules 1 to 4)
// ====================================================================

/// How a probe that returns `Pending` arranges to be polled again.
#[derive(Clone, Copy)]
enum WakeBy {
    /// It wakes itself this many times before returning `Pending`, as
    /// `yield_now` does once.
    Itself(u8),
    /// It hands its waker to the *waker task*, another task on the same
    /// loop, which wakes it this many times in a row at its next turn.
    OtherTask(u8),
    /// It hands its waker to a std thread and waits, inside this very
    /// poll, until the thread has woken it this many times: every wake
    /// lands before the task can possibly run again.
    ThreadDuringPoll(u8),
    /// It hands its waker to a std thread, which wakes it once whenever
    /// it gets there: the loop may be running other tasks, or asleep in
    /// `epoll_wait`.
    ThreadLater,
}

impl fmt::Debug for WakeBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WakeBy::Itself(k) => write!(f, "wakes_itself x{k}"),
            WakeBy::OtherTask(k) => write!(f, "task_wakes_it x{k}"),
            WakeBy::ThreadDuringPoll(k) => write!(f, "thread_wakes_it_during_poll x{k}"),
            WakeBy::ThreadLater => write!(f, "thread_wakes_it_later"),
        }
    }
}

/// One thing the driver does. `usize`s name tasks by spawn order: `t0`,
/// `t1`, ...
#[derive(Clone)]
enum Op {
    /// `let tN = spawn(probe(plan))`: the probe returns `Pending` once per
    /// entry of `plan`, arranging its wake as the entry says, then `Ready`.
    Spawn(Vec<WakeBy>),
    /// `yield_now()` this many times (first waking the late wakers of
    /// the probes that have finished so far).
    Yield(u8),
    /// `tN.abort()`; the driver keeps the handle.
    Abort(usize),
    /// `drop(tN)`: detaches the task, which must still run to the end.
    Drop(usize),
    /// `tN.await`.
    Await(usize),
}

/// What proptest generates; [`Program::from_raw`] resolves the `Index`es
/// to handles the driver still holds.
#[derive(Clone, Debug)]
enum RawOp {
    Spawn(Vec<WakeBy>),
    Yield(u8),
    Abort(Index),
    Drop(Index),
    Await(Index),
}

/// A list of operations whose handle operations all name a handle the
/// driver still holds at that point.
#[derive(Clone)]
struct Program {
    ops: Vec<Op>,
}

impl Program {
    fn from_raw(raw: Vec<RawOp>) -> Program {
        let mut held: Vec<usize> = Vec::new();
        let mut spawned = 0;
        let mut ops = Vec::new();
        for op in raw {
            match op {
                RawOp::Spawn(plan) => {
                    held.push(spawned);
                    spawned += 1;
                    ops.push(Op::Spawn(plan));
                }
                RawOp::Yield(n) => ops.push(Op::Yield(n)),
                // With no handle held, a handle operation means nothing.
                RawOp::Abort(_) | RawOp::Drop(_) | RawOp::Await(_) if held.is_empty() => {}
                RawOp::Abort(pick) => ops.push(Op::Abort(held[pick.index(held.len())])),
                RawOp::Drop(pick) => ops.push(Op::Drop(held.remove(pick.index(held.len())))),
                RawOp::Await(pick) => ops.push(Op::Await(held.remove(pick.index(held.len())))),
            }
        }
        Program { ops }
    }
}

/// Prints the program as the driver's code.
impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "block_on(async {{")?;
        let mut spawned = 0;
        for op in &self.ops {
            match op {
                Op::Spawn(plan) => {
                    writeln!(f, "    let t{spawned} = spawn(probe({plan:?}));")?;
                    spawned += 1;
                }
                Op::Yield(n) => writeln!(f, "    wake_late_wakers(); yield_now() x{n};")?,
                Op::Abort(t) => writeln!(f, "    t{t}.abort();")?,
                Op::Drop(t) => writeln!(f, "    drop(t{t});")?,
                Op::Await(t) => writeln!(f, "    t{t}.await;")?,
            }
        }
        writeln!(f, "    // await every handle still held, in order;")?;
        writeln!(f, "    // wait until every detached probe is ready;")?;
        writeln!(
            f,
            "    // wake every late waker, from this task and from the thread."
        )?;
        write!(f, "}})")
    }
}

fn wake_by() -> impl Strategy<Value = WakeBy> {
    prop_oneof![
        (1u8..=4).prop_map(WakeBy::Itself),
        (1u8..=4).prop_map(WakeBy::OtherTask),
        (1u8..=4).prop_map(WakeBy::ThreadDuringPoll),
        Just(WakeBy::ThreadLater),
    ]
}

fn program() -> impl Strategy<Value = Program> {
    let op = prop_oneof![
        4 => prop::collection::vec(wake_by(), 0..=4).prop_map(RawOp::Spawn),
        2 => (1u8..=3).prop_map(RawOp::Yield),
        2 => any::<Index>().prop_map(RawOp::Abort),
        1 => any::<Index>().prop_map(RawOp::Drop),
        1 => any::<Index>().prop_map(RawOp::Await),
    ];
    prop::collection::vec(op, 1..=20).prop_map(Program::from_raw)
}

/// The output of probe `task` with `steps` planned `Pending`s: distinct
/// per task, so a handle that returned another task's output would show.
fn output_of(task: usize, steps: usize) -> u64 {
    (task as u64) << 8 | steps as u64
}

// -------------------------------------------------------- the machinery

/// A request to wake a waker: to the waker thread or the waker task.
struct Job {
    waker: Waker,
    times: u8,
    /// Set just before the first wake, so the probe can tell a poll that
    /// this job caused from one that nothing asked for.
    woken: Arc<AtomicBool>,
    /// Told once every wake is delivered (for `ThreadDuringPoll`).
    done: Option<mpsc::Sender<()>>,
}

impl Job {
    fn new(waker: &Waker, times: u8, woken: &Arc<AtomicBool>) -> Job {
        Job {
            waker: waker.clone(),
            times,
            woken: woken.clone(),
            done: None,
        }
    }

    fn deliver(self) {
        self.woken.store(true, Ordering::Release);
        for _ in 0..self.times {
            self.waker.wake_by_ref();
        }
        if let Some(done) = self.done {
            let _ = done.send(());
        }
    }
}

/// What the driver, the probes and the waker task share.
struct Env {
    loop_thread: ThreadId,
    /// To the waker thread, which delivers jobs in the order sent
    /// (`None`: stop).
    thread_jobs: mpsc::Sender<Option<Job>>,
    /// Jobs for the waker task, and its waker.
    task_jobs: RefCell<Vec<Job>>,
    waker_task: RefCell<Option<Waker>>,
    closing: Cell<bool>,
    /// Wakers of probes that have finished: waking them must do nothing.
    late_wakers: RefCell<Vec<Waker>>,
    /// The driver, while it waits for detached probes to finish.
    driver: RefCell<Option<Waker>>,
    /// How many polls are running right now, of the driver, the waker
    /// task and the probes. A probe whose poll starts while this is not
    /// 0 was polled from inside another poll: by a `wake`, say.
    polls_running: Cell<u32>,
    /// Polls of the driver or the waker task that began inside another
    /// poll.
    nested_helper_polls: Cell<u32>,
}

impl Env {
    fn to_thread(&self, job: Job) {
        self.thread_jobs
            .send(Some(job))
            .expect("the waker thread runs until the case ends");
    }

    fn to_waker_task(&self, job: Job) {
        self.task_jobs.borrow_mut().push(job);
        let waker = self.waker_task.borrow().clone();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// A probe returned `Ready`: keep its waker for late wakes, from this
    /// thread (`wake_late`) and from the waker thread (at once), and tell
    /// the driver.
    fn finished(&self, waker: &Waker) {
        self.late_wakers.borrow_mut().push(waker.clone());
        self.to_thread(Job::new(waker, 1, &Arc::default()));
        let driver = self.driver.borrow_mut().take();
        if let Some(driver) = driver {
            driver.wake();
        }
    }

    fn wake_late(&self) {
        let late = self.late_wakers.take();
        for waker in late {
            waker.wake();
        }
    }
}

/// The waker task: delivers the jobs probes leave it, until told to stop.
/// (A `poll_fn`, not an `async fn`: polled again after `Ready`, it says
/// `Ready` again rather than panicking, so that such a bug is reported by
/// the probes' checks.)
fn waker_task(env: Rc<Env>) -> impl Future<Output = ()> {
    let counted = env.clone();
    let waker_task = poll_fn(move |cx| {
        let jobs = env.task_jobs.take();
        for job in jobs {
            job.deliver();
        }
        if env.closing.get() {
            return Poll::Ready(());
        }
        env.waker_task.replace(Some(cx.waker().clone()));
        Poll::Pending
    });
    counting_polls(counted, waker_task)
}

/// A helper `future` (the driver, the waker task), counted in
/// `env.polls_running` while it is being polled, and in
/// `env.nested_helper_polls` if a poll of it begins inside another poll.
fn counting_polls<F: Future>(env: Rc<Env>, future: F) -> impl Future<Output = F::Output> {
    let mut future = Box::pin(future);
    poll_fn(move |cx| {
        if env.polls_running.get() > 0 {
            bump(&env.nested_helper_polls);
        }
        env.polls_running.set(env.polls_running.get() + 1);
        let poll = future.as_mut().poll(cx);
        env.polls_running.set(env.polls_running.get() - 1);
        poll
    })
}

/// Waits until the waker thread has delivered every job sent before this
/// call: the thread wakes us after them, and a wake from another thread
/// reaches the run queue in the order it was sent.
async fn thread_barrier(env: &Env) {
    let woken = Arc::new(AtomicBool::new(false));
    let mut sent = false;
    poll_fn(|cx| {
        if woken.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        if !sent {
            env.to_thread(Job::new(cx.waker(), 1, &woken));
            sent = true;
        }
        Poll::Pending
    })
    .await
}

/// What a probe saw of its own polls.
#[derive(Default)]
struct ProbeRecord {
    polls: Cell<u32>,
    polls_after_ready: Cell<u32>,
    /// Polls that began while another poll of this probe was running.
    reentrant_polls: Cell<u32>,
    /// Polls that began while a poll of another task (or of the driver)
    /// was running.
    nested_polls: Cell<u32>,
    /// Polls on a thread other than the one running `block_on`.
    foreign_thread_polls: Cell<u32>,
    /// Polls that came although the wake it had arranged had not happened.
    unwoken_polls: Cell<u32>,
    in_poll: Cell<bool>,
    ready: Cell<bool>,
    drops: Cell<u32>,
}

fn bump(counter: &Cell<u32>) {
    counter.set(counter.get() + 1);
}

/// The instrumented future.
struct Probe {
    task: usize,
    plan: Vec<WakeBy>,
    steps_taken: usize,
    /// The flag of the wake arranged by the last `Pending`.
    woken: Option<Arc<AtomicBool>>,
    record: Rc<ProbeRecord>,
    env: Rc<Env>,
}

impl Future for Probe {
    type Output = u64;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        let this = self.get_mut();
        let record = this.record.clone();
        bump(&record.polls);
        if thread::current().id() != this.env.loop_thread {
            bump(&record.foreign_thread_polls);
        }
        if record.in_poll.replace(true) {
            bump(&record.reentrant_polls);
        } else if this.env.polls_running.get() > 0 {
            bump(&record.nested_polls);
        }
        let running = &this.env.polls_running;
        running.set(running.get() + 1);
        let poll = this.step(cx);
        let running = &this.env.polls_running;
        running.set(running.get() - 1);
        record.in_poll.set(false);
        poll
    }
}

impl Probe {
    fn step(&mut self, cx: &mut Context<'_>) -> Poll<u64> {
        let record = &self.record;
        if record.ready.get() {
            bump(&record.polls_after_ready);
            return Poll::Pending;
        }
        if let Some(woken) = self.woken.take()
            && !woken.load(Ordering::Acquire)
        {
            bump(&record.unwoken_polls);
        }
        let Some(&wake_by) = self.plan.get(self.steps_taken) else {
            record.ready.set(true);
            self.env.finished(cx.waker());
            return Poll::Ready(output_of(self.task, self.plan.len()));
        };
        self.steps_taken += 1;
        let woken = Arc::new(AtomicBool::new(false));
        match wake_by {
            WakeBy::Itself(k) => Job::new(cx.waker(), k, &woken).deliver(),
            WakeBy::OtherTask(k) => self.env.to_waker_task(Job::new(cx.waker(), k, &woken)),
            WakeBy::ThreadDuringPoll(k) => {
                let (done, all_delivered) = mpsc::channel();
                self.env.to_thread(Job {
                    done: Some(done),
                    ..Job::new(cx.waker(), k, &woken)
                });
                all_delivered
                    .recv_timeout(PATIENCE)
                    .expect("the waker thread delivers its wakes");
            }
            WakeBy::ThreadLater => self.env.to_thread(Job::new(cx.waker(), 1, &woken)),
        }
        self.woken = Some(woken);
        Poll::Pending
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        bump(&self.record.drops);
    }
}

/// What the driver saw when it aborted a probe.
#[derive(Clone, Copy, Debug)]
struct AbortSeen {
    ready_then: bool,
    polls_then: u32,
}

/// What a probe's handle gave.
#[derive(Clone, Debug, PartialEq)]
enum Joined {
    /// Not awaited: dropped (detached).
    No,
    Output(u64),
    /// `Err(is_cancelled)`, and how often the future had been dropped by
    /// the time the handle said so.
    Cancelled {
        drops_then: u32,
    },
    Other(String),
}

impl Joined {
    fn of(result: Result<u64, JoinError>, record: &ProbeRecord) -> Joined {
        match result {
            Ok(output) => Joined::Output(output),
            Err(error) if error.is_cancelled() => Joined::Cancelled {
                drops_then: record.drops.get(),
            },
            Err(error) => Joined::Other(error.to_string()),
        }
    }
}

/// The driver's view of one probe.
struct Slot {
    handle: Option<JoinHandle<u64>>,
    record: Rc<ProbeRecord>,
    steps: usize,
    abort: Option<AbortSeen>,
    joined: Joined,
}

impl Slot {
    /// Aborted before it was ready: it must never become ready.
    fn cancelled(&self) -> bool {
        matches!(self.abort, Some(seen) if !seen.ready_then)
    }
}

/// Everything a case learnt about one probe, sent out of the case's thread.
#[derive(Debug)]
struct ProbeReport {
    task: usize,
    steps: usize,
    polls: u32,
    polls_after_ready: u32,
    reentrant_polls: u32,
    nested_polls: u32,
    foreign_thread_polls: u32,
    unwoken_polls: u32,
    ready: bool,
    drops: u32,
    abort: Option<AbortSeen>,
    joined: Joined,
}

impl ProbeReport {
    fn cancelled(&self) -> bool {
        matches!(self.abort, Some(seen) if !seen.ready_then)
    }

    fn expected_output(&self) -> u64 {
        output_of(self.task, self.steps)
    }
}

/// Everything a case learnt.
#[derive(Debug)]
struct CaseReport {
    probes: Vec<ProbeReport>,
    nested_helper_polls: u32,
}

/// The `block_on` future: carries out the program, then winds it down.
async fn drive(program: Program, env: Rc<Env>) -> Vec<Slot> {
    let waker_task = spawn(waker_task(env.clone()));
    let mut slots: Vec<Slot> = Vec::new();
    for op in program.ops {
        match op {
            Op::Spawn(plan) => {
                let record = Rc::new(ProbeRecord::default());
                let steps = plan.len();
                let handle = spawn(Probe {
                    task: slots.len(),
                    plan,
                    steps_taken: 0,
                    woken: None,
                    record: record.clone(),
                    env: env.clone(),
                });
                slots.push(Slot {
                    handle: Some(handle),
                    record,
                    steps,
                    abort: None,
                    joined: Joined::No,
                });
            }
            Op::Yield(n) => {
                env.wake_late();
                for _ in 0..n {
                    yield_now().await;
                }
            }
            Op::Abort(t) => {
                let slot = &mut slots[t];
                slot.abort.get_or_insert(AbortSeen {
                    ready_then: slot.record.ready.get(),
                    polls_then: slot.record.polls.get(),
                });
                slot.handle.as_ref().expect("a held handle").abort();
            }
            Op::Drop(t) => drop(slots[t].handle.take()),
            Op::Await(t) => await_slot(&mut slots[t]).await,
        }
    }
    for slot in &mut slots {
        if slot.handle.is_some() {
            await_slot(slot).await;
        }
    }
    bounded_as(
        "every detached probe that was not aborted to finish",
        poll_fn(|cx| {
            if slots.iter().all(|s| s.record.ready.get() || s.cancelled()) {
                return Poll::Ready(());
            }
            env.driver.replace(Some(cx.waker().clone()));
            Poll::Pending
        }),
    )
    .await;
    // Late wakes: from this thread, then from the waker thread. The
    // barrier returns only after the thread's wakes reached the run queue
    // ahead of ours, so the loop has dealt with them when we go on.
    env.wake_late();
    bounded_as("the waker thread's late wakes", thread_barrier(&env)).await;
    yield_now().await;
    env.closing.set(true);
    let waker_task_waker = env.waker_task.take();
    if let Some(waker) = waker_task_waker {
        waker.wake();
    }
    bounded_as("the waker task to end", waker_task)
        .await
        .expect("the waker task ends normally");
    slots
}

async fn await_slot(slot: &mut Slot) {
    let handle = slot.handle.take().expect("a held handle");
    let result = bounded_as("awaiting a probe's JoinHandle", handle).await;
    slot.joined = Joined::of(result, &slot.record);
}

/// Runs one program on a fresh runtime and reports on every probe, after
/// the runtime (and with it every probe) has been dropped.
fn run_program(program: &Program, seed: Option<u64>) -> CaseReport {
    let program = program.clone();
    within_for(CASE_PATIENCE, move || {
        let (thread_jobs, jobs) = mpsc::channel::<Option<Job>>();
        let waker_thread = thread::Builder::new()
            .name("waker-thread".into())
            .spawn(move || {
                while let Ok(Some(job)) = jobs.recv() {
                    job.deliver();
                }
            })
            .expect("the OS gave us a thread");
        let env = Rc::new(Env {
            loop_thread: thread::current().id(),
            thread_jobs,
            task_jobs: RefCell::default(),
            waker_task: RefCell::default(),
            closing: Cell::new(false),
            late_wakers: RefCell::default(),
            driver: RefCell::default(),
            polls_running: Cell::new(0),
            nested_helper_polls: Cell::new(0),
        });
        let rt = runtime_with(seed, false);
        let driver = counting_polls(env.clone(), drive(program, env.clone()));
        let slots = rt.block_on(driver);
        let nested_helper_polls = env.nested_helper_polls.get();
        drop(rt);
        // Told to stop, not left to find every sender gone: a probe that
        // the runtime leaked would keep a sender, and the report must
        // still come out and say so.
        let _ = env.thread_jobs.send(None);
        drop(env);
        waker_thread
            .join()
            .expect("the waker thread does not panic");
        let probes = slots
            .into_iter()
            .enumerate()
            .map(|(task, slot)| ProbeReport {
                task,
                steps: slot.steps,
                polls: slot.record.polls.get(),
                polls_after_ready: slot.record.polls_after_ready.get(),
                reentrant_polls: slot.record.reentrant_polls.get(),
                nested_polls: slot.record.nested_polls.get(),
                foreign_thread_polls: slot.record.foreign_thread_polls.get(),
                unwoken_polls: slot.record.unwoken_polls.get(),
                ready: slot.record.ready.get(),
                drops: slot.record.drops.get(),
                abort: slot.abort,
                joined: slot.joined,
            })
            .collect();
        CaseReport {
            probes,
            nested_helper_polls,
        }
    })
}

// ------------------------------------------------------------ the rules

/// Rule 1, on one case's probes.
fn polled_until_ready_and_never_after(reports: &[ProbeReport]) -> Result<(), TestCaseError> {
    for r in reports {
        prop_assert_eq!(
            r.polls_after_ready,
            0,
            "t{} was polled after it returned Ready: {:?}",
            r.task,
            r
        );
        if !r.cancelled() {
            prop_assert!(r.ready, "t{} was never polled to Ready: {:?}", r.task, r);
        }
        if r.abort.is_none() && r.joined != Joined::No {
            prop_assert_eq!(
                &r.joined,
                &Joined::Output(r.expected_output()),
                "t{}'s handle did not give its output",
                r.task
            );
        }
        prop_assert_eq!(
            r.drops,
            1,
            "t{}'s future was not dropped exactly once",
            r.task
        );
    }
    Ok(())
}

/// Rule 2, on one case.
fn never_polled_concurrently(report: &CaseReport) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        report.nested_helper_polls,
        0,
        "the waker task or block_on's future was polled from inside another poll \
         (a wake that polls?)"
    );
    for r in &report.probes {
        prop_assert_eq!(
            r.reentrant_polls,
            0,
            "t{} was polled while its poll was running: {:?}",
            r.task,
            r
        );
        prop_assert_eq!(
            r.nested_polls,
            0,
            "t{} was polled from inside another task's poll (a wake that polls?): {:?}",
            r.task,
            r
        );
        prop_assert_eq!(
            r.foreign_thread_polls,
            0,
            "t{} was polled off the block_on thread: {:?}",
            r.task,
            r
        );
    }
    Ok(())
}

/// Rule 3, on one case's probes.
fn wakes_coalesce(reports: &[ProbeReport]) -> Result<(), TestCaseError> {
    for r in reports {
        prop_assert_eq!(
            r.unwoken_polls,
            0,
            "t{} was polled without having been woken: {:?}",
            r.task,
            r
        );
        if r.ready {
            prop_assert_eq!(
                r.polls as usize,
                r.steps + 1,
                "t{} planned {} Pendings, each followed by its wakes, so {} polls: {:?}",
                r.task,
                r.steps,
                r.steps + 1,
                r
            );
        }
    }
    Ok(())
}

/// Rule 4, on one case's probes.
fn abort_is_result_or_cancelled(reports: &[ProbeReport]) -> Result<(), TestCaseError> {
    for r in reports {
        let Some(seen) = r.abort else { continue };
        prop_assert_eq!(
            r.polls,
            seen.polls_then,
            "t{} was polled after abort(): {:?}",
            r.task,
            r
        );
        prop_assert_eq!(
            r.ready,
            seen.ready_then,
            "t{} became ready after abort(): {:?}",
            r.task,
            r
        );
        match &r.joined {
            Joined::No => {}
            Joined::Output(output) => {
                prop_assert!(
                    seen.ready_then,
                    "t{} was aborted before it was ready, yet its handle gave an output: {:?}",
                    r.task,
                    r
                );
                prop_assert_eq!(*output, r.expected_output());
            }
            Joined::Cancelled { drops_then } => {
                prop_assert!(
                    !seen.ready_then,
                    "t{} had finished, yet abort() threw its output away: {:?}",
                    r.task,
                    r
                );
                prop_assert_eq!(
                    *drops_then,
                    1,
                    "t{}'s handle said Cancelled before the future was dropped: {:?}",
                    r.task,
                    r
                );
            }
            Joined::Other(error) => {
                prop_assert!(false, "t{}: {}", r.task, error);
            }
        }
        prop_assert_eq!(
            r.drops,
            1,
            "t{} was not dropped exactly once: {:?}",
            r.task,
            r
        );
    }
    Ok(())
}

// ====================================================================
// Sleepers (rule 5)
// ====================================================================

/// Every deadline is this far after the start, so that every timer is
/// registered before the first one is due (on a healthy machine; a
/// sleeper whose first poll came too late is left out of the order).
const START_MARGIN: Duration = Duration::from_millis(10);

#[derive(Clone, Copy, Debug)]
struct Sleeper {
    after_ms: u64,
    abort: bool,
}

#[derive(Clone)]
struct Sleepers(Vec<Sleeper>);

impl fmt::Debug for Sleepers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "block_on(async {{")?;
        writeln!(f, "    let start = now() + {START_MARGIN:?};")?;
        for (i, s) in self.0.iter().enumerate() {
            writeln!(
                f,
                "    let s{i} = spawn(sleep_until(start + {}ms));",
                s.after_ms
            )?;
        }
        writeln!(f, "    yield_now(); // every sleeper registers its timer")?;
        for (i, s) in self.0.iter().enumerate() {
            if s.abort {
                writeln!(f, "    s{i}.abort();")?;
            }
        }
        writeln!(f, "    // await every handle")?;
        write!(f, "}})")
    }
}

fn sleepers() -> impl Strategy<Value = Sleepers> {
    let sleeper = (0u64..=30, prop::bool::weighted(0.2))
        .prop_map(|(after_ms, abort)| Sleeper { after_ms, abort });
    prop::collection::vec(sleeper, 1..=12).prop_map(Sleepers)
}

/// One sleeper's wake-up.
#[derive(Clone, Copy, Debug)]
struct Woke {
    sleeper: usize,
    deadline: Instant,
    at: Instant,
    /// Its first poll returned `Pending`: its timer was registered before
    /// its deadline, so the order rule applies to it.
    waited: bool,
}

/// What a sleeper's handle gave.
#[derive(Debug, PartialEq)]
enum SleeperJoined {
    Done,
    Cancelled,
    Other(String),
}

#[derive(Debug)]
struct TimerReport {
    /// In the order the sleepers woke.
    woke: Vec<Woke>,
    /// Per aborted sleeper: had it woken when `abort` was called?
    woken_at_abort: Vec<Option<bool>>,
    joined: Vec<SleeperJoined>,
    timers_left: usize,
}

fn run_sleepers(sleepers: &Sleepers, seed: Option<u64>, virtual_clock: bool) -> TimerReport {
    let sleepers = sleepers.clone();
    within_for(CASE_PATIENCE, move || {
        let rt = runtime_with(seed, virtual_clock);
        let (woke, woken_at_abort, joined) = rt.block_on(async {
            let start = now() + START_MARGIN;
            let woke: Rc<RefCell<Vec<Woke>>> = Rc::default();
            let handles: Vec<JoinHandle<()>> = (sleepers.0.iter().enumerate())
                .map(|(i, s)| {
                    let deadline = start + Duration::from_millis(s.after_ms);
                    let woke = woke.clone();
                    spawn(async move {
                        let mut sleep = pin!(sleep_until(deadline));
                        let first = poll_fn(|cx| Poll::Ready(sleep.as_mut().poll(cx))).await;
                        let waited = first.is_pending();
                        if waited {
                            sleep.await;
                        }
                        woke.borrow_mut().push(Woke {
                            sleeper: i,
                            deadline,
                            at: now(),
                            waited,
                        });
                    })
                })
                .collect();
            yield_now().await;
            let woken_at_abort: Vec<Option<bool>> = (sleepers.0.iter().enumerate())
                .map(|(i, s)| {
                    s.abort.then(|| {
                        let woken = woke.borrow().iter().any(|w| w.sleeper == i);
                        handles[i].abort();
                        woken
                    })
                })
                .collect();
            let mut joined = Vec::new();
            for handle in handles {
                joined.push(match bounded_as("a sleeper's JoinHandle", handle).await {
                    Ok(()) => SleeperJoined::Done,
                    Err(error) if error.is_cancelled() => SleeperJoined::Cancelled,
                    Err(error) => SleeperJoined::Other(error.to_string()),
                });
            }
            (woke.take(), woken_at_abort, joined)
        });
        TimerReport {
            woke,
            woken_at_abort,
            joined,
            timers_left: debug_count(&rt, "timers"),
        }
    })
}

// ====================================================================
// Doomed tasks (rule 6)
// ====================================================================

/// How far a task gets before its runtime is dropped.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Life {
    /// Spawned after everything else, just before `block_on` returns: it is
    /// queued, never polled.
    NeverPolled,
    /// Polled once, then `Pending` for good.
    Waiting,
    /// Ran to its end; its output (which holds a guard too) waits in the
    /// task table for a handle to claim it.
    Finished,
}

/// What the task takes hold of in its first poll.
#[derive(Clone, Copy, Debug)]
enum Holds {
    Nothing,
    /// A clone of its own waker, kept inside its own future.
    OwnWaker,
    /// A one-hour `Sleep`, registered with the runtime's timers.
    Sleep,
    /// Its waker goes to a std thread, which keeps it until the runtime is
    /// gone and then wakes it.
    WakerOnThread,
    /// A value whose destructor wakes the task itself.
    WakeOnDrop,
}

/// Where the task's `JoinHandle` goes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum HandleTo {
    /// The driver hands it out of `block_on`: it outlives the runtime.
    Kept,
    Detached,
    /// Into the task's own future: task and handle own each other.
    ItsOwn,
    /// Into the next task's future: a chain of owners.
    NextTask,
}

#[derive(Clone, Copy, Debug)]
struct Doomed {
    life: Life,
    holds: Holds,
    handle: HandleTo,
}

#[derive(Clone)]
struct DoomedTasks(Vec<Doomed>);

impl DoomedTasks {
    /// Never-polled tasks go last, since they must be spawned after the
    /// driver's last `.await`; the last task has no next task to own its
    /// handle, so it keeps it.
    fn new(mut tasks: Vec<Doomed>) -> DoomedTasks {
        tasks.sort_by_key(|t| t.life == Life::NeverPolled);
        if let Some(last) = tasks.last_mut()
            && last.handle == HandleTo::NextTask
        {
            last.handle = HandleTo::Kept;
        }
        DoomedTasks(tasks)
    }
}

impl fmt::Debug for DoomedTasks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "let rt = Runtime::new(); let kept = rt.block_on(async {{"
        )?;
        let wait = "    // run until every task above is at its `.await` or done";
        let mut waited = false;
        for (i, t) in self.0.iter().enumerate() {
            if t.life == Life::NeverPolled && !waited {
                writeln!(f, "{wait}")?;
                writeln!(f, "    // spawned last, never polled:")?;
                waited = true;
            }
            let holds = match t.holds {
                Holds::Nothing => "",
                Holds::OwnWaker => " keep_own_waker();",
                Holds::Sleep => " poll(sleep(1 hour));",
                Holds::WakerOnThread => " send_own_waker_to_thread();",
                Holds::WakeOnDrop => " let _w = on_drop(wake_self);",
            };
            let end = match t.life {
                Life::Finished => "yield_now().await; guard()",
                Life::NeverPolled | Life::Waiting => "pending().await",
            };
            write!(
                f,
                "    let t{i} = spawn(async {{ let _g = guard();{holds} {end} }});"
            )?;
            match t.handle {
                HandleTo::Kept => writeln!(f, " kept.push(t{i});")?,
                HandleTo::Detached => writeln!(f, " drop(t{i});")?,
                HandleTo::ItsOwn => writeln!(f, " // t{i} moves into itself")?,
                HandleTo::NextTask => writeln!(f, " // t{i} moves into t{}", i + 1)?,
            }
        }
        if !waited {
            writeln!(f, "{wait}")?;
        }
        writeln!(f, "    kept")?;
        write!(
            f,
            "}}); drop(rt); // then the thread wakes its wakers; drop(kept);"
        )
    }
}

fn doomed_tasks() -> impl Strategy<Value = DoomedTasks> {
    let life = prop_oneof![
        Just(Life::NeverPolled),
        Just(Life::Waiting),
        Just(Life::Finished)
    ];
    let holds = prop_oneof![
        Just(Holds::Nothing),
        Just(Holds::OwnWaker),
        Just(Holds::Sleep),
        Just(Holds::WakerOnThread),
        Just(Holds::WakeOnDrop),
    ];
    let handle = prop_oneof![
        Just(HandleTo::Kept),
        Just(HandleTo::Detached),
        Just(HandleTo::ItsOwn),
        Just(HandleTo::NextTask),
    ];
    let task = (life, holds, handle).prop_map(|(life, holds, handle)| Doomed {
        life,
        holds,
        handle,
    });
    prop::collection::vec(task, 1..=10).prop_map(DoomedTasks::new)
}

/// The output of a doomed task: a guard for `Finished` tasks.
type DoomedHandle = JoinHandle<Option<Guard>>;

/// How far the doomed tasks have got.
#[derive(Default)]
struct Progress {
    /// Tasks that have had their first poll.
    started: Cell<usize>,
    /// Tasks that have returned `Ready`.
    finished: Cell<usize>,
}

/// What the task-holding thread is told.
enum ToHolder {
    Hold(Waker),
    WakeThemAll,
}

/// A doomed task's future. Every value it owns is in the `poll_fn`
/// closure, so they are dropped when (and only when) the future is.
fn doomed_future(
    task: Doomed,
    log: &DropLog,
    own_handle: Option<Rc<RefCell<Option<DoomedHandle>>>>,
    carried: Option<DoomedHandle>,
    holder: mpsc::Sender<ToHolder>,
    progress: Rc<Progress>,
) -> impl Future<Output = Option<Guard>> + 'static {
    let guard = log.guard();
    let mut output = (task.life == Life::Finished).then(|| log.guard());
    let mut first_poll = true;
    let mut own_waker: Option<Waker> = None;
    let mut timer: Option<Pin<Box<duet::event_loop::Sleep>>> = None;
    let mut wake_on_drop: Option<OnDrop<Box<dyn FnOnce()>>> = None;
    poll_fn(move |cx| {
        // Everything the future owns, kept until the future is dropped.
        let _owned = (
            &guard,
            &own_handle,
            &carried,
            &own_waker,
            &timer,
            &wake_on_drop,
        );
        if !first_poll {
            progress.finished.set(progress.finished.get() + 1);
            return Poll::Ready(output.take());
        }
        first_poll = false;
        progress.started.set(progress.started.get() + 1);
        match task.holds {
            Holds::Nothing => {}
            Holds::OwnWaker => own_waker = Some(cx.waker().clone()),
            Holds::Sleep => {
                let mut sleep = Box::pin(sleep(Duration::from_secs(3600)));
                assert!(sleep.as_mut().poll(cx).is_pending());
                timer = Some(sleep);
            }
            Holds::WakerOnThread => {
                let _ = holder.send(ToHolder::Hold(cx.waker().clone()));
            }
            Holds::WakeOnDrop => {
                let waker = cx.waker().clone();
                wake_on_drop = Some(on_drop(Box::new(move || waker.wake())));
            }
        }
        if task.life == Life::Finished {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    })
}

#[derive(Debug)]
struct DropReport {
    /// Per task: guards made, guards dropped while `block_on` had
    /// returned but the runtime still lived, right after the runtime was
    /// dropped, and at the very end (wakers and kept handles gone too).
    created: Vec<usize>,
    dropped_before: Vec<usize>,
    dropped_after_runtime: Vec<usize>,
    dropped_at_end: Vec<usize>,
    /// How many never-polled tasks were polled anyway.
    never_polled_that_ran: usize,
}

/// Yields until `started` tasks have had their first poll and `finished`
/// have finished; returns how many had started.
async fn run_until(progress: &Progress, started: usize, finished: usize) -> usize {
    bounded_as(
        "every task to reach its .await or its end",
        poll_fn(|cx| {
            if progress.started.get() == started && progress.finished.get() == finished {
                return Poll::Ready(());
            }
            cx.waker().wake_by_ref();
            Poll::Pending
        }),
    )
    .await;
    progress.started.get()
}

fn run_doomed(tasks: &DoomedTasks, seed: Option<u64>) -> DropReport {
    let tasks = tasks.clone();
    within_for(CASE_PATIENCE, move || {
        let logs: Vec<DropLog> = tasks.0.iter().map(|_| DropLog::default()).collect();
        // Holds the wakers it is sent until told, then wakes them all:
        // wakers that outlive their runtime.
        let (holder, held) = mpsc::channel::<ToHolder>();
        let holder_thread = thread::spawn(move || {
            let mut wakers = Vec::new();
            while let Ok(ToHolder::Hold(waker)) = held.recv_timeout(CASE_PATIENCE) {
                wakers.push(waker);
            }
            for waker in wakers {
                waker.wake();
            }
        });
        let progress: Rc<Progress> = Rc::default();
        let rt = runtime_with(seed, false);
        // Never-polled tasks come last (see `DoomedTasks::new`).
        let polled = tasks.0.iter().take_while(|t| t.life != Life::NeverPolled);
        let must_start = polled.clone().count();
        let must_finish = polled.filter(|t| t.life == Life::Finished).count();
        #[allow(clippy::async_yields_async)] // the handles go out on purpose
        let (kept, started_before_the_rest) = rt.block_on(async {
            let mut kept: Vec<DoomedHandle> = Vec::new();
            let mut carry: Option<DoomedHandle> = None;
            let mut started_before_the_rest = None;
            for (i, (task, log)) in tasks.0.iter().zip(&logs).enumerate() {
                if i == must_start {
                    started_before_the_rest =
                        Some(run_until(&progress, must_start, must_finish).await);
                }
                let own = (task.handle == HandleTo::ItsOwn).then(Rc::default);
                let future = doomed_future(
                    *task,
                    log,
                    own.clone(),
                    carry.take(),
                    holder.clone(),
                    progress.clone(),
                );
                let handle = spawn(future);
                match task.handle {
                    HandleTo::Kept => kept.push(handle),
                    HandleTo::Detached => drop(handle),
                    HandleTo::ItsOwn => *own.expect("made above").borrow_mut() = Some(handle),
                    HandleTo::NextTask => carry = Some(handle),
                }
            }
            let started = match started_before_the_rest {
                Some(started) => started,
                None => run_until(&progress, must_start, must_finish).await,
            };
            // No `.await` after the never-polled spawns: block_on returns now.
            (kept, started)
        });
        let never_polled_that_ran = progress.started.get() - started_before_the_rest;
        let dropped = |logs: &[DropLog]| logs.iter().map(DropLog::dropped).collect::<Vec<_>>();
        let dropped_before = dropped(&logs);
        drop(rt);
        let dropped_after_runtime = dropped(&logs);
        let _ = holder.send(ToHolder::WakeThemAll);
        holder_thread.join().expect("the holder does not panic");
        drop(kept);
        DropReport {
            created: logs.iter().map(DropLog::created).collect(),
            dropped_before,
            dropped_after_runtime,
            dropped_at_end: dropped(&logs),
            never_polled_that_ran,
        }
    })
}

// ====================================================================
// The properties
// ====================================================================

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        // A case that hangs costs seconds: shrink for a bounded time.
        max_shrink_time: 60_000,
        ..ProptestConfig::default()
    })]

    /// Every spawned task is polled until it returns `Ready` and never
    /// after, and its handle gives its output: an executor that loses a
    /// task strands its awaiter, and one that polls a finished `async`
    /// block makes it panic (docs/PITFALLS.md #5).
    #[test]
    fn every_task_is_polled_until_it_is_ready_and_never_after(program in program(), seeds in seeds()) {
        for seed in schedules(&seeds) {
            under(seed, false, polled_until_ready_and_never_after(&run_program(&program, seed).probes))?;
        }
    }

    /// A task is polled only by the loop, on the `block_on` thread: never
    /// while a poll of it is running, nor from inside another task's poll
    /// (a `wake` that polls). `poll` takes `&mut self` and tasks may be
    /// `!Send`; and a wake that polls runs user code under the waker's
    /// locks, which is how executors deadlock (docs/PITFALLS.md #9).
    #[test]
    fn a_task_is_never_polled_concurrently_with_itself_or_inside_another(program in program(), seeds in seeds()) {
        for seed in schedules(&seeds) {
            under(seed, false, never_polled_concurrently(&run_program(&program, seed)))?;
        }
    }

    /// Wakes coalesce: k wakes before a task runs again cause exactly one
    /// more poll, and no poll comes without a wake. Otherwise a chatty
    /// waker floods the run queue (docs/PITFALLS.md #6), or a late wake polls a
    /// stranger in a reused slot.
    #[test]
    fn k_wakes_before_the_next_run_cause_exactly_one_poll(program in program(), seeds in seeds()) {
        for seed in schedules(&seeds) {
            under(seed, false, wakes_coalesce(&run_program(&program, seed).probes))?;
        }
    }

    /// `abort` gives the finished result or `Cancelled`, never both; after
    /// `abort` the future is never polled again and is dropped exactly once,
    /// before the handle says `Cancelled`: cancellation must be a promise
    /// that no more of the task's code runs and its resources are freed.
    #[test]
    fn abort_gives_the_result_or_cancelled_and_stops_all_polling(program in program(), seeds in seeds()) {
        for seed in schedules(&seeds) {
            under(seed, false, abort_is_result_or_cancelled(&run_program(&program, seed).probes))?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 32,
        max_shrink_time: 60_000,
        ..ProptestConfig::default()
    })]

    /// Timers fire in deadline order (equal deadlines in any order) and
    /// never before their deadline, and an aborted sleeper never wakes and
    /// leaves no timer behind: programs rely on a sleep meaning "at least
    /// this long", and on the earlier deadline coming first.
    #[test]
    fn timers_fire_in_deadline_order_and_never_early(sleepers in sleepers(), seeds in seeds()) {
        check_sleepers(&sleepers, None, false)?;
        for seed in schedules(&seeds) {
            check_sleepers(&sleepers, seed, true)?;
        }
    }

    /// Dropping a `Runtime` drops every future it holds exactly once (and
    /// every unclaimed output), including tasks that hold their own handle
    /// or waker and tasks that never ran; and none before: a runtime that
    /// leaks a task leaks its sockets and memory, and a cycle through a
    /// task's own handle or waker is the usual way to leak one.
    #[test]
    fn dropping_the_runtime_drops_every_future_exactly_once(tasks in doomed_tasks(), seeds in seeds()) {
        for seed in schedules(&seeds) {
            under(seed, false, check_doomed(&tasks, seed))?;
        }
    }
}

/// Rule 5 on one case, one schedule and one clock.
fn check_sleepers(
    sleepers: &Sleepers,
    seed: Option<u64>,
    virtual_clock: bool,
) -> Result<(), TestCaseError> {
    under(
        seed,
        virtual_clock,
        sleepers_rule(sleepers, seed, virtual_clock),
    )
}

fn sleepers_rule(
    sleepers: &Sleepers,
    seed: Option<u64>,
    virtual_clock: bool,
) -> Result<(), TestCaseError> {
    let report = run_sleepers(sleepers, seed, virtual_clock);
    for w in &report.woke {
        prop_assert!(
            w.at >= w.deadline,
            "s{} woke {:?} before its deadline",
            w.sleeper,
            w.deadline - w.at
        );
    }
    let in_order: Vec<&Woke> = report.woke.iter().filter(|w| w.waited).collect();
    for pair in in_order.windows(2) {
        prop_assert!(
            pair[0].deadline <= pair[1].deadline,
            "s{} woke before s{}, whose deadline is {:?} earlier",
            pair[0].sleeper,
            pair[1].sleeper,
            pair[0].deadline - pair[1].deadline
        );
    }
    for (i, s) in sleepers.0.iter().enumerate() {
        let woke = report.woke.iter().filter(|w| w.sleeper == i).count();
        match report.woken_at_abort[i] {
            // Aborted after it woke: abort changes nothing.
            Some(true) | None => {
                prop_assert_eq!(woke, 1, "s{} woke {} times", i, woke);
                prop_assert_eq!(&report.joined[i], &SleeperJoined::Done, "s{}", i);
            }
            Some(false) => {
                prop_assert!(s.abort);
                prop_assert_eq!(woke, 0, "s{} woke after abort()", i);
                prop_assert_eq!(&report.joined[i], &SleeperJoined::Cancelled, "s{}", i);
            }
        }
    }
    prop_assert_eq!(report.timers_left, 0, "timers left behind: {:?}", report);
    Ok(())
}

/// Rule 6 on one case and one schedule.
fn check_doomed(tasks: &DoomedTasks, seed: Option<u64>) -> Result<(), TestCaseError> {
    let report = run_doomed(tasks, seed);
    prop_assert_eq!(
        report.never_polled_that_ran,
        0,
        "block_on ran on after its future was done"
    );
    for (i, t) in tasks.0.iter().enumerate() {
        let created = report.created[i];
        match t.life {
            Life::NeverPolled | Life::Waiting => prop_assert_eq!(
                report.dropped_before[i],
                0,
                "t{} was dropped while the runtime lived: {:?}",
                i,
                report
            ),
            Life::Finished => prop_assert!(
                report.dropped_before[i] >= 1,
                "t{} finished, yet its future was not dropped: {:?}",
                i,
                report
            ),
        }
        prop_assert_eq!(
            report.dropped_after_runtime[i],
            created,
            "t{} was not dropped with its runtime: {:?}",
            i,
            report
        );
        prop_assert_eq!(
            report.dropped_at_end[i],
            created,
            "t{} was dropped twice: {:?}",
            i,
            report
        );
    }
    Ok(())
}
