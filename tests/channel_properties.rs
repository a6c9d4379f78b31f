//! One property, checked on random programs: whatever the interleaving,
//! both runtimes' channels deliver every message exactly once, each
//! sender's messages in the order it sent them, and the same messages on
//! both runtimes.
//!
//! A program is a channel capacity, a script per sender (send, try_send,
//! yield, swap for a clone of itself; the sender is dropped at the end of
//! its script) and a script per receiver (recv, yield, start a recv and
//! drop it while it waits; then drain until `None`). On the event loop the
//! scripts run as tasks on one thread, interleaved by their yields; on the
//! blocking runtime as threads, interleaved by the OS. The blocking run is
//! the oracle: crossbeam is not the code under test here.
//!
//! Every wait is bounded: each run happens on its own thread, watched with
//! `recv_timeout`, and the event-loop run is under a `timeout` as well.
//! Set `PROPTEST_CASES` to try more programs than the default 64.

use duet::event_loop::channel as ec;
use duet::event_loop::{self, timeout, yield_now};
use proptest::prelude::*;
use std::cell::RefCell;
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex, mpsc};
use std::task::Poll;
use std::thread;
use std::time::Duration;

/// How long one run of one program may take before the test fails. A
/// healthy run takes milliseconds.
const PATIENCE: Duration = Duration::from_secs(10);

/// The event loop gives up a little earlier, so that its own timer (not
/// the watchdog) reports a future that waits forever.
const LOOP_PATIENCE: Duration = Duration::from_secs(5);

/// A message: (which sender, its value).
type Message = (usize, u8);

/// One step of a sender's script.
#[derive(Clone, Copy, Debug)]
enum SendStep {
    /// `send`: waits while the channel is full.
    Send(u8),
    /// `try_send`; if the channel is full, falls back to `send`, so every
    /// message is delivered on both runtimes alike.
    TrySend(u8),
    /// Lets the others run this many times.
    Yield(u8),
    /// `let tx = tx.clone();` dropping the old handle: the count of live
    /// senders goes up, then down, and must never reach 0 on the way.
    Reclone,
}

/// One step of a receiver's script.
#[derive(Clone, Copy, Debug)]
enum RecvStep {
    /// `recv` once (a `None` is simply noted as nothing).
    Recv,
    /// Lets the others run this many times.
    Yield(u8),
    /// Starts a `recv`; if it has to wait, lets the others run this many
    /// times (a send may choose it meanwhile) and then drops it unfinished.
    /// On the blocking runtime this is a `try_recv`.
    CancelRecv(u8),
}

#[derive(Clone)]
struct Program {
    /// `None`: unbounded.
    capacity: Option<usize>,
    senders: Vec<Vec<SendStep>>,
    receivers: Vec<Vec<RecvStep>>,
}

impl Program {
    /// What sender `k` sends, in order.
    fn messages_of(&self, k: usize) -> Vec<u8> {
        self.senders[k]
            .iter()
            .filter_map(|step| match *step {
                SendStep::Send(v) | SendStep::TrySend(v) => Some(v),
                _ => None,
            })
            .collect()
    }
}

/// Reads like the program it stands for, so a shrunk failure can be
/// replayed by hand.
impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.capacity {
            None => writeln!(f, "let (tx, rx) = unbounded();")?,
            Some(n) => writeln!(f, "let (tx, rx) = bounded({n});")?,
        }
        for (k, script) in self.senders.iter().enumerate() {
            write!(f, "sender {k}: let tx = tx.clone();")?;
            for step in script {
                match step {
                    SendStep::Send(v) => write!(f, " tx.send(({k}, {v}));")?,
                    SendStep::TrySend(v) => write!(f, " tx.try_send(({k}, {v})) or else send;")?,
                    SendStep::Yield(n) => write!(f, " yield_now() x{n};")?,
                    SendStep::Reclone => write!(f, " let tx = tx.clone();")?,
                }
            }
            writeln!(f, " drop(tx);")?;
        }
        writeln!(f, "drop(tx);")?;
        for (r, script) in self.receivers.iter().enumerate() {
            write!(f, "receiver {r}:")?;
            for step in script {
                match step {
                    RecvStep::Recv => write!(f, " rx.recv();")?,
                    RecvStep::Yield(n) => write!(f, " yield_now() x{n};")?,
                    RecvStep::CancelRecv(n) => {
                        write!(f, " drop(rx.recv()) if still waiting after {n} yields;")?
                    }
                }
            }
            writeln!(f, " while let Some(_) = rx.recv() {{}}")?;
        }
        Ok(())
    }
}

fn send_step() -> impl Strategy<Value = SendStep> {
    prop_oneof![
        4 => (0u8..100).prop_map(SendStep::Send),
        2 => (0u8..100).prop_map(SendStep::TrySend),
        2 => (1u8..=5).prop_map(SendStep::Yield),
        1 => Just(SendStep::Reclone),
    ]
}

fn recv_step() -> impl Strategy<Value = RecvStep> {
    prop_oneof![
        3 => Just(RecvStep::Recv),
        2 => (1u8..=5).prop_map(RecvStep::Yield),
        2 => (0u8..=3).prop_map(RecvStep::CancelRecv),
    ]
}

fn program() -> impl Strategy<Value = Program> {
    (
        prop_oneof![Just(None), (1usize..=4).prop_map(Some)],
        // At most 4 senders × 12 steps: never more than 48 messages.
        prop::collection::vec(prop::collection::vec(send_step(), 0..=12), 1..=4),
        prop::collection::vec(prop::collection::vec(recv_step(), 0..=6), 1..=3),
    )
        .prop_map(|(capacity, senders, receivers)| Program {
            capacity,
            senders,
            receivers,
        })
}

/// Runs `f` on its own thread, giving up after `PATIENCE`.
fn within<T: Send + 'static>(
    side: &'static str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = mpsc::channel();
    let thread = thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(PATIENCE) {
        Ok(value) => {
            let _ = thread.join();
            Ok(value)
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let payload = thread.join().expect_err("it sent nothing, so it panicked");
            let text = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("{side}: panicked: {text}"))
        }
        Err(mpsc::RecvTimeoutError::Timeout) => Err(format!("{side}: hung for {PATIENCE:?}")),
    }
}

/// Polls `future` exactly once, from inside a task.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}

/// The program on the event loop: one thread, a task per script. Returns
/// the messages in the order they were taken out of the channel.
fn run_on_event_loop(program: Program) -> Vec<Message> {
    let runtime = event_loop::Runtime::new().expect("an epoll instance");
    let work = async move {
        let (tx, rx) = match program.capacity {
            None => ec::unbounded(),
            Some(n) => ec::bounded(n),
        };
        let rx = Rc::new(rx);
        let log = Rc::new(RefCell::new(Vec::new()));

        let mut tasks = Vec::new();
        for (k, script) in program.senders.iter().cloned().enumerate() {
            let mut tx = tx.clone();
            tasks.push(event_loop::spawn(async move {
                for step in script {
                    match step {
                        SendStep::Send(v) => tx.send((k, v)).await.expect("the receiver lives"),
                        SendStep::TrySend(v) => match tx.try_send((k, v)) {
                            Ok(()) => {}
                            Err(ec::TrySendError::Full(m)) => {
                                tx.send(m).await.expect("the receiver lives")
                            }
                            Err(ec::TrySendError::Closed(_)) => panic!("closed too early"),
                        },
                        SendStep::Yield(n) => {
                            for _ in 0..n {
                                yield_now().await;
                            }
                        }
                        SendStep::Reclone => tx = tx.clone(),
                    }
                }
            }));
        }
        drop(tx);

        for script in program.receivers.iter().cloned() {
            let rx = rx.clone();
            let log = log.clone();
            tasks.push(event_loop::spawn(async move {
                for step in script {
                    match step {
                        RecvStep::Recv => {
                            if let Some(m) = rx.recv().await {
                                log.borrow_mut().push(m);
                            }
                        }
                        RecvStep::Yield(n) => {
                            for _ in 0..n {
                                yield_now().await;
                            }
                        }
                        RecvStep::CancelRecv(n) => {
                            let mut recv = Box::pin(rx.recv());
                            match poll_once(&mut recv).await {
                                Poll::Ready(Some(m)) => log.borrow_mut().push(m),
                                Poll::Ready(None) => {}
                                Poll::Pending => {
                                    for _ in 0..n {
                                        yield_now().await;
                                    }
                                    drop(recv); // unfinished, maybe chosen
                                }
                            }
                        }
                    }
                }
                while let Some(m) = rx.recv().await {
                    log.borrow_mut().push(m);
                }
            }));
        }

        for task in tasks {
            task.await.expect("no task panics");
        }
        let gauges = format!("{rx:?}");
        assert!(
            gauges.contains("queued: 0, receivers_waiting: 0, senders_waiting: 0"),
            "a waker or value was left behind: {gauges}"
        );
        log.take()
    };
    runtime
        .block_on(timeout(LOOP_PATIENCE, work))
        .expect("the event-loop program timed out")
}

/// The program on the blocking runtime: a thread per script. Returns the
/// messages in the order they were taken out of the channel.
fn run_on_blocking(program: Program) -> Vec<Message> {
    use duet::blocking::channel as bc;
    let (tx, rx) = match program.capacity {
        None => bc::unbounded(),
        Some(n) => bc::bounded(n),
    };
    let rx = Arc::new(rx);
    // Held across each recv, so the log's order is the channel's order.
    let log = Arc::new(Mutex::new(Vec::new()));

    let mut threads = Vec::new();
    for (k, script) in program.senders.iter().cloned().enumerate() {
        let mut tx = tx.clone();
        threads.push(duet::blocking::spawn(move || {
            for step in script {
                match step {
                    SendStep::Send(v) => tx.send((k, v)).expect("the receiver lives"),
                    SendStep::TrySend(v) => match tx.try_send((k, v)) {
                        Ok(()) => {}
                        Err(bc::TrySendError::Full(m)) => tx.send(m).expect("the receiver lives"),
                        Err(bc::TrySendError::Closed(_)) => panic!("closed too early"),
                    },
                    SendStep::Yield(n) => (0..n).for_each(|_| duet::blocking::yield_now()),
                    SendStep::Reclone => tx = tx.clone(),
                }
            }
        }));
    }
    drop(tx);

    for script in program.receivers.iter().cloned() {
        let rx = rx.clone();
        let log = log.clone();
        threads.push(duet::blocking::spawn(move || {
            for step in script {
                match step {
                    RecvStep::Recv => {
                        let mut log = log.lock().unwrap();
                        if let Some(m) = rx.recv() {
                            log.push(m);
                        }
                    }
                    RecvStep::Yield(n) => (0..n).for_each(|_| duet::blocking::yield_now()),
                    RecvStep::CancelRecv(_) => {
                        let mut log = log.lock().unwrap();
                        if let Some(m) = rx.try_recv() {
                            log.push(m);
                        }
                    }
                }
            }
            loop {
                let mut log = log.lock().unwrap();
                match rx.recv() {
                    Some(m) => log.push(m),
                    None => break,
                }
            }
        }));
    }

    for thread in threads {
        thread.join().expect("no thread panics");
    }
    std::mem::take(&mut *log.lock().unwrap())
}

/// Every sender's messages arrive exactly once and in its order.
fn check_delivery(
    side: &str,
    program: &Program,
    received: &[Message],
) -> Result<(), TestCaseError> {
    let expected_total: usize = (0..program.senders.len())
        .map(|k| program.messages_of(k).len())
        .sum();
    prop_assert_eq!(
        received.len(),
        expected_total,
        "{}: received {:?}",
        side,
        received
    );
    for k in 0..program.senders.len() {
        let from_k: Vec<u8> = received
            .iter()
            .filter(|(sender, _)| *sender == k)
            .map(|(_, v)| *v)
            .collect();
        prop_assert_eq!(
            from_k,
            program.messages_of(k),
            "{}: sender {}'s messages lost, duplicated or reordered",
            side,
            k
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(64),
        // A hanging program costs seconds per run: shrink for a bounded time.
        max_shrink_time: 30_000,
        ..ProptestConfig::default()
    })]

    // Any interleaving of sends, try_sends, clones, drops, recvs and cancelled recvs
    // keeps the channel contract, on both runtimes alike: what a program sends, it receives.
    #[test]
    fn both_runtimes_deliver_every_message_once_in_per_sender_order(program in program()) {
        let on_event_loop = within("event_loop", {
            let program = program.clone();
            move || run_on_event_loop(program)
        });
        let on_blocking = within("blocking", {
            let program = program.clone();
            move || run_on_blocking(program)
        });
        let on_event_loop = on_event_loop.map_err(TestCaseError::fail)?;
        let on_blocking = on_blocking.map_err(TestCaseError::fail)?;

        check_delivery("event_loop", &program, &on_event_loop)?;
        check_delivery("blocking", &program, &on_blocking)?;

        let mut a = on_event_loop;
        let mut b = on_blocking;
        a.sort_unstable();
        b.sort_unstable();
        prop_assert_eq!(a, b, "the runtimes delivered different messages");
    }
}
