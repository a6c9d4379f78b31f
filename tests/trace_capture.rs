//! `duet::trace::capture`: what both runtimes record, and the rules every
//! recorded list keeps.
//!
//! Four small programs run under `capture`, each chosen to make one kind of
//! waiting happen for sure:
//!
//! - **TCP on the event loop**: a server and a client task on one loop. The
//!   server waits to accept, to read, and (writing 8 MiB to a client that
//!   is not reading yet) to write; the test finds each socket's file
//!   descriptor in `/proc` and checks every wait names the right one.
//! - **a timer**: a task sleeps 40 ms; the loop parks for about that long,
//!   the timer fires and wakes the task.
//! - **a channel**: a receiver waits twice, woken once by a sender task on
//!   the loop and once by a plain std thread (a wake from another thread).
//! - **the blocking runtime**: threads that accept, connect, read, write,
//!   sleep, receive and join.
//!
//! Every capture is checked against the same rules, each a small function
//! over the whole event list that returns the offending events (see
//! "The rules"): time never runs backwards; each poll ends before the
//! task's next one starts; every poll after the first was caused by a wake;
//! a poll that returns `Pending` says what it now waits for (or woke
//! itself); parks end in unparks; a blocking thread starts, blocks and
//! unblocks in pairs, and exits. A last group of tests checks `capture`
//! itself: nesting panics, captures on two threads take turns, and nothing
//! is recorded when no capture runs.
//!
//! `capture` records the whole process, so an event loop running in a
//! parallel test would leak its events into ours. Every test here first
//! takes [`serial`], a lock of this file.
//!
//! Read next: `tests/trace_output.rs` (the `DUET_TRACE` log and the SVG
//! timeline), then `src/trace/svg.rs`.

mod support;
use support::*;

use duet::TaskId;
use duet::blocking;
use duet::event_loop::channel;
use duet::event_loop::net::{TcpListener, TcpStream};
use duet::event_loop::{sleep, spawn, spawn_named, yield_now};
use duet::trace::{Event, EventKind, WaitOn, WokenBy, capture};
use std::collections::{HashMap, HashSet};
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// The loop thread of every program here: `within` runs the body on a
/// thread of this name.
const LOOP_THREAD: &str = "test-body";

/// One test at a time in this binary (see the module comment).
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

// ------------------------------------------------------------- reading

/// One event, numbered by its place in the capture, as `DUET_TRACE`
/// would print it.
fn show(events: &[Event], index: usize) -> String {
    format!("#{index:<4}{}", events[index])
}

/// The whole capture, numbered, for failure messages.
fn listing(events: &[Event]) -> String {
    const MOST: usize = 400;
    let mut text: Vec<String> = (0..events.len().min(MOST))
        .map(|i| show(events, i))
        .collect();
    if events.len() > MOST {
        text.push(format!("... and {} more", events.len() - MOST));
    }
    text.join("\n")
}

/// Fails the test with `rule`'s complaint and the whole capture.
fn enforce(rule: &str, verdict: Result<(), String>, events: &[Event]) {
    if let Err(complaint) = verdict {
        panic!(
            "rule broken: {rule}\n{complaint}\n\nthe whole capture:\n{}",
            listing(events)
        );
    }
}

/// The id of the task whose events carry `name`.
fn task_named(events: &[Event], name: &str) -> TaskId {
    events
        .iter()
        .find(|e| e.task_name.as_deref() == Some(name))
        .and_then(|e| e.task)
        .unwrap_or_else(|| panic!("no event names task {name:?}:\n{}", listing(events)))
}

/// Indices of `task`'s events that match `kind`.
fn find(events: &[Event], task: Option<TaskId>, kind: impl Fn(&EventKind) -> bool) -> Vec<usize> {
    (0..events.len())
        .filter(|&i| events[i].task == task && kind(&events[i].kind))
        .collect()
}

/// What one task waited for, in order.
fn waits_of(events: &[Event], task: TaskId) -> Vec<WaitOn> {
    events
        .iter()
        .filter(|e| e.task == Some(task))
        .filter_map(|e| match e.kind {
            EventKind::Wait { on } => Some(on),
            _ => None,
        })
        .collect()
}

/// One poll: where it started and ended in the list, and how.
#[derive(Clone, Copy, Debug)]
struct PollSpan {
    task: TaskId,
    start: usize,
    end: usize,
    ready: bool,
}

/// Every complete poll in the list, in order of their starts.
fn polls(events: &[Event]) -> Vec<PollSpan> {
    let mut open: HashMap<TaskId, usize> = HashMap::new();
    let mut spans = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let Some(task) = e.task else { continue };
        match e.kind {
            EventKind::PollStart => {
                open.insert(task, i);
            }
            EventKind::PollEnd { ready } => {
                if let Some(start) = open.remove(&task) {
                    spans.push(PollSpan {
                        task,
                        start,
                        end: i,
                        ready,
                    });
                }
            }
            _ => {}
        }
    }
    spans.sort_by_key(|span| span.start);
    spans
}

fn is_wake_of(e: &Event, task: TaskId) -> bool {
    e.task == Some(task) && matches!(e.kind, EventKind::Wake { .. })
}

// ------------------------------------------------------------- the rules
//
// Each rule reads the whole list and returns `Err` naming the events that
// break it. `the_rule_checks_catch_broken_lists` shows that each one does
// fail on a list that breaks it, so a pass means something.

/// `at` never decreases: the recorder reads the clock under the lock that
/// orders the events, on every thread.
fn rule_time_never_runs_backwards(events: &[Event]) -> Result<(), String> {
    for i in 1..events.len() {
        if events[i].at < events[i - 1].at {
            return Err(format!(
                "event #{i} is earlier than the one before it:\n{}\n{}",
                show(events, i - 1),
                show(events, i)
            ));
        }
    }
    Ok(())
}

/// Every `PollStart` of a task is followed by its `PollEnd`, on the same
/// thread, before that task's next `PollStart`; a thread polls one task at
/// a time; nothing polls a task again after a `Ready`.
fn rule_every_poll_ends_before_the_next_starts(events: &[Event]) -> Result<(), String> {
    let mut open: HashMap<TaskId, usize> = HashMap::new();
    let mut polling_on: HashMap<&str, usize> = HashMap::new();
    let mut finished: HashMap<TaskId, usize> = HashMap::new();
    for (i, e) in events.iter().enumerate() {
        match e.kind {
            EventKind::PollStart => {
                let task = e
                    .task
                    .ok_or_else(|| format!("a poll of no task:\n{}", show(events, i)))?;
                if let Some(&earlier) = open.get(&task) {
                    return Err(format!(
                        "{task} starts a poll while its previous poll has not ended:\n{}\n{}",
                        show(events, earlier),
                        show(events, i)
                    ));
                }
                if let Some(&done) = finished.get(&task) {
                    return Err(format!(
                        "{task} is polled again after its poll returned Ready:\n{}\n{}",
                        show(events, done),
                        show(events, i)
                    ));
                }
                if let Some(&other) = polling_on.get(e.thread.as_str()) {
                    return Err(format!(
                        "thread {} starts a poll inside another task's poll:\n{}\n{}",
                        e.thread,
                        show(events, other),
                        show(events, i)
                    ));
                }
                open.insert(task, i);
                polling_on.insert(&e.thread, i);
            }
            EventKind::PollEnd { ready } => {
                let task = e
                    .task
                    .ok_or_else(|| format!("a poll end of no task:\n{}", show(events, i)))?;
                let Some(start) = open.remove(&task) else {
                    return Err(format!(
                        "{task}'s poll ends but never started:\n{}",
                        show(events, i)
                    ));
                };
                if events[start].thread != e.thread {
                    return Err(format!(
                        "{task}'s poll starts and ends on different threads:\n{}\n{}",
                        show(events, start),
                        show(events, i)
                    ));
                }
                polling_on.remove(e.thread.as_str());
                if ready {
                    finished.insert(task, i);
                }
            }
            _ => {}
        }
    }
    if let Some(&start) = open.values().min() {
        return Err(format!("this poll never ends:\n{}", show(events, start)));
    }
    Ok(())
}

/// A task's first poll follows its `Spawn` (the future given to
/// `block_on`, which is not spawned, is exempt; a task spawned before the
/// capture began must have been woken in it), and every later poll
/// follows a `Wake` of that task since its previous poll started. (A wake
/// *during* a poll counts: it queues the task again, as `yield_now` does.)
fn rule_a_wake_precedes_every_poll_after_the_first(events: &[Event]) -> Result<(), String> {
    let mut spawned: HashSet<TaskId> = HashSet::new();
    let mut woken_before_first_poll: HashSet<TaskId> = HashSet::new();
    // For each task: its latest poll start, and whether a wake came since.
    let mut last_start: HashMap<TaskId, (usize, bool)> = HashMap::new();
    for (i, e) in events.iter().enumerate() {
        let Some(task) = e.task else { continue };
        match e.kind {
            EventKind::Spawn => {
                spawned.insert(task);
            }
            EventKind::Wake { .. } => match last_start.get_mut(&task) {
                Some((_, woken)) => *woken = true,
                None => {
                    woken_before_first_poll.insert(task);
                }
            },
            EventKind::PollStart => {
                match last_start.get(&task) {
                    None => {
                        let is_block_on = e.task_name.as_deref() == Some("main");
                        if spawned.contains(&task) || is_block_on {
                            // Queued by its spawn, or by block_on itself.
                        } else if !woken_before_first_poll.contains(&task) {
                            return Err(format!(
                                "{task}'s first poll comes before any Spawn of it \
                                 (or, spawned before the capture, any Wake):\n{}",
                                show(events, i)
                            ));
                        }
                    }
                    Some(&(previous, false)) => {
                        return Err(format!(
                            "{task} is polled again with no Wake since its previous poll:\n{}\n{}",
                            show(events, previous),
                            show(events, i)
                        ));
                    }
                    Some(&(_, true)) => {}
                }
                last_start.insert(task, (i, false));
            }
            _ => {}
        }
    }
    Ok(())
}

/// A poll that ends `Pending` has, during that poll, either a `Wait`
/// saying what the task now waits for or a `Wake` of the task on its own
/// thread: it woke itself to yield its turn (`yield_now`, or the budget).
/// And every `Wait` happens inside a poll of its task.
fn rule_a_pending_poll_says_what_it_waits_for(events: &[Event]) -> Result<(), String> {
    let spans = polls(events);
    for span in spans.iter().filter(|span| !span.ready) {
        let thread = &events[span.start].thread;
        let reason = events[span.start + 1..span.end].iter().any(|e| {
            e.task == Some(span.task)
                && match e.kind {
                    EventKind::Wait { .. } => true,
                    EventKind::Wake { .. } => e.thread == *thread,
                    _ => false,
                }
        });
        if !reason {
            return Err(format!(
                "{}'s poll ends Pending but says nothing it waits for, and did not wake itself:\n{}\n{}",
                span.task,
                show(events, span.start),
                show(events, span.end)
            ));
        }
    }
    for (i, e) in events.iter().enumerate() {
        if !matches!(e.kind, EventKind::Wait { .. }) {
            continue;
        }
        let Some(task) = e.task else {
            return Err(format!("a wait by no task:\n{}", show(events, i)));
        };
        let in_a_poll = spans
            .iter()
            .any(|span| span.task == task && span.start < i && i < span.end);
        if !in_a_poll {
            return Err(format!(
                "{task} says it waits outside any poll of its own:\n{}",
                show(events, i)
            ));
        }
    }
    Ok(())
}

/// On each thread `Park` and `Unpark` alternate, starting with a `Park`
/// and ending unparked (the loop is awake again when `block_on` returns),
/// and nothing is polled while parked.
fn rule_every_park_ends_in_an_unpark(events: &[Event]) -> Result<(), String> {
    let mut parked: HashMap<&str, usize> = HashMap::new();
    for (i, e) in events.iter().enumerate() {
        match e.kind {
            EventKind::Park { .. } => {
                if let Some(&earlier) = parked.get(e.thread.as_str()) {
                    return Err(format!(
                        "a second park with no unpark between:\n{}\n{}",
                        show(events, earlier),
                        show(events, i)
                    ));
                }
                parked.insert(&e.thread, i);
            }
            EventKind::Unpark if parked.remove(e.thread.as_str()).is_none() => {
                return Err(format!("an unpark with no park:\n{}", show(events, i)));
            }
            EventKind::PollStart => {
                if let Some(&park) = parked.get(e.thread.as_str()) {
                    return Err(format!(
                        "a poll on a parked loop thread:\n{}\n{}",
                        show(events, park),
                        show(events, i)
                    ));
                }
            }
            _ => {}
        }
    }
    if let Some(&park) = parked.values().min() {
        return Err(format!("this park never ends:\n{}", show(events, park)));
    }
    Ok(())
}

/// Blocking tasks: `Spawn`, then `ThreadStart` first and `ThreadExit` last
/// among the task's events, all on one thread; and on every thread `Block`
/// and `Unblock` alternate, ending unblocked.
fn rule_threads_start_block_unblock_and_exit_in_order(events: &[Event]) -> Result<(), String> {
    let mut blocked: HashMap<&str, usize> = HashMap::new();
    for (i, e) in events.iter().enumerate() {
        match e.kind {
            EventKind::Block { .. } => {
                if let Some(&earlier) = blocked.get(e.thread.as_str()) {
                    return Err(format!(
                        "a thread blocks twice with no unblock between:\n{}\n{}",
                        show(events, earlier),
                        show(events, i)
                    ));
                }
                blocked.insert(&e.thread, i);
            }
            EventKind::Unblock if blocked.remove(e.thread.as_str()).is_none() => {
                return Err(format!("an unblock with no block:\n{}", show(events, i)));
            }
            _ => {}
        }
    }
    if let Some(&block) = blocked.values().min() {
        return Err(format!("this block never ends:\n{}", show(events, block)));
    }
    let starts = find_all(events, |k| *k == EventKind::ThreadStart);
    for start in starts {
        let task = events[start]
            .task
            .ok_or_else(|| format!("a thread start of no task:\n{}", show(events, start)))?;
        let mine: Vec<usize> = (0..events.len())
            .filter(|&i| events[i].task == Some(task))
            .collect();
        let spawn = mine
            .iter()
            .copied()
            .find(|&i| events[i].kind == EventKind::Spawn)
            .ok_or_else(|| format!("{task} starts a thread but was never spawned"))?;
        if spawn > start {
            return Err(format!(
                "{task}'s thread starts before its spawn:\n{}\n{}",
                show(events, start),
                show(events, spawn)
            ));
        }
        let exit = mine
            .iter()
            .copied()
            .find(|&i| events[i].kind == EventKind::ThreadExit)
            .ok_or_else(|| format!("{task}'s thread never exits:\n{}", show(events, start)))?;
        for &i in &mine {
            if i == spawn {
                continue;
            }
            if i < start || i > exit || events[i].thread != events[start].thread {
                return Err(format!(
                    "{task}'s event is outside its thread's life (start #{start}, exit #{exit}) \
                     or on another thread:\n{}",
                    show(events, i)
                ));
            }
        }
    }
    Ok(())
}

fn find_all(events: &[Event], kind: impl Fn(&EventKind) -> bool) -> Vec<usize> {
    (0..events.len())
        .filter(|&i| kind(&events[i].kind))
        .collect()
}

/// The rules every event-loop capture keeps.
fn check_event_loop_rules(events: &[Event]) {
    enforce(
        "time never runs backwards",
        rule_time_never_runs_backwards(events),
        events,
    );
    enforce(
        "every poll ends before the next starts",
        rule_every_poll_ends_before_the_next_starts(events),
        events,
    );
    enforce(
        "a wake precedes every poll after the first",
        rule_a_wake_precedes_every_poll_after_the_first(events),
        events,
    );
    enforce(
        "a pending poll says what it waits for",
        rule_a_pending_poll_says_what_it_waits_for(events),
        events,
    );
    enforce(
        "every park ends in an unpark",
        rule_every_park_ends_in_an_unpark(events),
        events,
    );
}

/// The rules every blocking-runtime capture keeps.
fn check_blocking_rules(events: &[Event]) {
    enforce(
        "time never runs backwards",
        rule_time_never_runs_backwards(events),
        events,
    );
    enforce(
        "threads start, block, unblock and exit in order",
        rule_threads_start_block_unblock_and_exit_in_order(events),
        events,
    );
}

// ------------------------------------------------------------- sockets

/// The file descriptor, in this process, of the TCP socket from `local`
/// to `peer`: its inode from `/proc/net/tcp`, then the `/proc/self/fd`
/// entry that links to that inode. The event loop's sockets do not show
/// their descriptors, and the trace speaks of nothing else.
fn socket_fd(local: SocketAddr, peer: SocketAddr) -> i32 {
    fn hex(addr: SocketAddr) -> String {
        let SocketAddr::V4(v4) = addr else {
            panic!("an IPv4 address: {addr}")
        };
        // The kernel prints the address as the raw 32-bit word.
        let word = u32::from_ne_bytes(v4.ip().octets());
        format!("{word:08X}:{:04X}", v4.port())
    }
    let (local, peer) = (hex(local), hex(peer));
    let table = std::fs::read_to_string("/proc/net/tcp").expect("Linux's /proc/net/tcp");
    let inode = table
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find(|fields| fields.len() > 9 && fields[1] == local && fields[2] == peer)
        .map(|fields| fields[9].to_string())
        .unwrap_or_else(|| panic!("no socket {local} -> {peer} in /proc/net/tcp"));
    let target = format!("socket:[{inode}]");
    for entry in std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd") {
        let entry = entry.expect("a /proc/self/fd entry");
        if std::fs::read_link(entry.path()).is_ok_and(|link| link.as_os_str() == target.as_str()) {
            return entry
                .file_name()
                .to_str()
                .and_then(|name| name.parse().ok())
                .expect("fd entries are numbers");
        }
    }
    panic!("no descriptor of this process is {target}")
}

// ------------------------------------------------------------- the TCP program

/// Enough that the kernel's buffers fill while the client is not reading,
/// so the server must wait to write.
const BIG: usize = 8 << 20;

struct TcpRun {
    events: Vec<Event>,
    server: TaskId,
    client: TaskId,
    listener_fd: i32,
    server_fd: i32,
    client_fd: i32,
}

/// A server and a client task on one loop. The server accepts, says "hi",
/// reads "ping", echoes it, then writes `BIG` bytes. The client connects,
/// reads "hi", writes "ping", reads the echo, then reads the `BIG` bytes.
///
/// The order makes every wait certain: the server tries to accept before
/// the client (spawned second) has connected; it reads before the client
/// has read "hi" and so before "ping" was sent; and its `BIG` write fills
/// the kernel's buffers during one poll, before the client runs again.
fn run_tcp_program() -> TcpRun {
    within_for(THREAD_PATIENCE, || {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let listener_fd = std_listener.as_raw_fd();
        let addr = std_listener.local_addr().unwrap();
        let listener = TcpListener::from_std(std_listener).unwrap();
        let rt = runtime();
        let (ids, events) = capture(|| {
            rt.block_on(async move {
                let server = spawn_named("server", async move {
                    let (mut stream, _) = listener.accept().await?;
                    let fd = socket_fd(stream.local_addr()?, stream.peer_addr()?);
                    stream.write_all(b"hi").await?;
                    let mut ping = [0u8; 4];
                    stream.read_exact(&mut ping).await?;
                    stream.write_all(&ping).await?;
                    stream.write_all(&vec![7u8; BIG]).await?;
                    io::Result::Ok(fd)
                });
                let client = spawn_named("client", async move {
                    let mut stream = TcpStream::connect(addr).await?;
                    let fd = socket_fd(stream.local_addr()?, stream.peer_addr()?);
                    let mut hi = [0u8; 2];
                    stream.read_exact(&mut hi).await?;
                    assert_eq!(&hi, b"hi");
                    stream.write_all(b"ping").await?;
                    let mut echo = [0u8; 4];
                    stream.read_exact(&mut echo).await?;
                    assert_eq!(&echo, b"ping");
                    let mut big = vec![0u8; BIG];
                    stream.read_exact(&mut big).await?;
                    assert!(big.iter().all(|&b| b == 7), "the big write arrived intact");
                    io::Result::Ok(fd)
                });
                let (server_id, client_id) = (server.id(), client.id());
                let server_fd = bounded_as("the server", server).await.unwrap().unwrap();
                let client_fd = bounded_as("the client", client).await.unwrap().unwrap();
                (server_id, client_id, server_fd, client_fd)
            })
        });
        let (server, client, server_fd, client_fd) = ids;
        TcpRun {
            events,
            server,
            client,
            listener_fd,
            server_fd,
            client_fd,
        }
    })
}

#[test]
fn a_tcp_program_on_the_event_loop_records_spawns_polls_waits_on_its_sockets_readiness_and_parks() {
    let _serial = serial();
    let run = run_tcp_program();
    let events = &run.events;
    check_event_loop_rules(events);

    for (task, name) in [(run.server, "server"), (run.client, "client")] {
        let spawns = find(events, Some(task), |k| *k == EventKind::Spawn);
        assert_eq!(
            spawns.len(),
            1,
            "{name} is spawned once:\n{}",
            listing(events)
        );
        let pending = find(events, Some(task), |k| {
            *k == EventKind::PollEnd { ready: false }
        });
        let ready = find(events, Some(task), |k| {
            *k == EventKind::PollEnd { ready: true }
        });
        assert!(
            !pending.is_empty(),
            "{name} had to wait:\n{}",
            listing(events)
        );
        assert_eq!(ready.len(), 1, "{name} finished once:\n{}", listing(events));
        assert!(
            ready[0] > pending[pending.len() - 1],
            "{name} finished last"
        );
        for i in find(events, Some(task), |_| true) {
            assert_eq!(
                events[i].thread, LOOP_THREAD,
                "{name} lives on the loop thread"
            );
        }
    }

    // The server waited to accept (readable listener), to read "ping"
    // (readable stream) and to write (writable stream); on no other fd.
    let server_waits = waits_of(events, run.server);
    for expected in [
        WaitOn::Readable {
            fd: run.listener_fd,
        },
        WaitOn::Readable { fd: run.server_fd },
        WaitOn::Writable { fd: run.server_fd },
    ] {
        assert!(
            server_waits.contains(&expected),
            "the server waits for {expected}; it waited for {server_waits:?}\n{}",
            listing(events)
        );
    }
    for wait in &server_waits {
        if let WaitOn::Readable { fd } | WaitOn::Writable { fd } = *wait {
            assert!(
                fd == run.listener_fd || fd == run.server_fd,
                "the server waited on fd {fd}, not its own"
            );
        }
    }
    // The accept wait comes first: the client had not connected yet.
    assert_eq!(
        server_waits.first(),
        Some(&WaitOn::Readable {
            fd: run.listener_fd
        }),
        "the server's first wait is for a connection"
    );

    // The client waited to read, on its own socket only.
    let client_waits = waits_of(events, run.client);
    assert!(
        client_waits.contains(&WaitOn::Readable { fd: run.client_fd }),
        "the client waits to read fd {}; it waited for {client_waits:?}",
        run.client_fd
    );
    for wait in &client_waits {
        if let WaitOn::Readable { fd } | WaitOn::Writable { fd } = *wait {
            assert_eq!(fd, run.client_fd, "the client waited on another socket");
        }
    }
    assert_ne!(run.client_fd, run.server_fd);

    // mio reported readiness both ways.
    let io_ready: Vec<(bool, bool)> = events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::IoReady {
                readable, writable, ..
            } => Some((readable, writable)),
            _ => None,
        })
        .collect();
    assert!(io_ready.iter().any(|&(r, _)| r), "a readable event");
    assert!(io_ready.iter().any(|&(_, w)| w), "a writable event");
    for i in find_all(events, |k| matches!(k, EventKind::IoReady { .. })) {
        assert_eq!(events[i].task, None, "readiness belongs to the loop");
        assert_eq!(events[i].thread, LOOP_THREAD);
    }

    // Each wait on a socket ended with a wake that readiness in that
    // direction caused: between the pending poll and the task's next wake,
    // mio reported it.
    for span in polls(events).iter().filter(|span| !span.ready) {
        let waited: Vec<WaitOn> = events[span.start..span.end]
            .iter()
            .filter(|e| e.task == Some(span.task))
            .filter_map(|e| match e.kind {
                EventKind::Wait { on } => Some(on),
                _ => None,
            })
            .collect();
        let (read, write, waited_fd) = match waited.as_slice() {
            [WaitOn::Readable { fd }] => (true, false, *fd),
            [WaitOn::Writable { fd }] => (false, true, *fd),
            _ => continue,
        };
        let wake = (span.end..events.len())
            .find(|&i| is_wake_of(&events[i], span.task))
            .unwrap_or_else(|| panic!("{} is woken after:\n{}", span.task, show(events, span.end)));
        // The readiness names the socket waited for and the task it wakes;
        // the wake names the socket as its cause.
        let reported = events[span.end..wake].iter().any(|e| match &e.kind {
            EventKind::IoReady {
                fd,
                readable,
                writable,
                wakes,
            } => {
                *fd == waited_fd
                    && wakes.contains(&span.task)
                    && ((read && *readable) || (write && *writable))
            }
            _ => false,
        });
        assert_eq!(
            events[wake].kind,
            EventKind::Wake {
                from_other_thread: false,
                by: WokenBy::Socket { fd: waited_fd }
            },
            "{}",
            show(events, wake)
        );
        assert!(
            reported,
            "no readiness event ({}) came between the wait and its wake:\n{}\n{}\n{}",
            if read { "readable" } else { "writable" },
            show(events, span.start),
            show(events, span.end),
            show(events, wake)
        );
    }

    // Every wake came from the loop thread itself: readiness and finished
    // tasks are noticed there.
    let wakes = find_all(events, |k| matches!(k, EventKind::Wake { .. }));
    assert!(!wakes.is_empty());
    for i in wakes {
        assert!(
            matches!(
                events[i].kind,
                EventKind::Wake {
                    from_other_thread: false,
                    ..
                }
            ),
            "{}",
            show(events, i)
        );
        assert_eq!(events[i].thread, LOOP_THREAD);
    }

    // The loop parked while waiting, always with the `bounded` timer's
    // deadline as its limit, and woke up again.
    let parks = find_all(events, |k| matches!(k, EventKind::Park { .. }));
    assert!(!parks.is_empty(), "the loop parked:\n{}", listing(events));
    for i in parks {
        let EventKind::Park { timeout } = events[i].kind else {
            unreachable!()
        };
        let timeout = timeout.unwrap_or_else(|| {
            panic!(
                "a timer was pending, so the park has a timeout:\n{}",
                show(events, i)
            )
        });
        assert!(timeout <= PATIENCE, "no park outlasts the earliest timer");
    }
}

// ------------------------------------------------------------- the timer program

struct TimerRun {
    events: Vec<Event>,
    sleeper: TaskId,
    main: TaskId,
}

const NAP: Duration = Duration::from_millis(40);

/// A task sleeps `NAP`; `block_on`'s future awaits it.
fn run_timer_program() -> TimerRun {
    within(|| {
        let rt = runtime();
        let (sleeper, events) = capture(|| {
            rt.block_on(async {
                let sleeper = spawn_named("sleeper", sleep(NAP));
                let id = sleeper.id();
                bounded_as("the sleeper", sleeper).await.unwrap();
                id
            })
        });
        let main = task_named(&events, "main");
        TimerRun {
            events,
            sleeper,
            main,
        }
    })
}

#[test]
fn a_timer_program_records_the_wait_with_its_deadline_a_park_until_then_and_the_timer_firing() {
    let _serial = serial();
    let TimerRun {
        events,
        sleeper,
        main,
    } = run_timer_program();
    let events = &events;
    check_event_loop_rules(events);

    // The sleeper's one wait: a timer, due in (almost all of) NAP.
    let waits = find(events, Some(sleeper), |k| {
        matches!(
            k,
            EventKind::Wait {
                on: WaitOn::Timer { .. }
            }
        )
    });
    assert_eq!(
        waits.len(),
        1,
        "the sleeper waits once:\n{}",
        listing(events)
    );
    let wait = waits[0];
    let EventKind::Wait {
        on: WaitOn::Timer { remaining },
    } = events[wait].kind
    else {
        unreachable!()
    };
    assert!(
        remaining <= NAP && remaining > NAP / 2,
        "the timer is due in about {NAP:?}, not {remaining:?}"
    );
    // Where the deadline falls on the capture's clock: `remaining` was
    // measured between the poll's start and the wait's own time stamp, so
    // the deadline lies between these two.
    let poll_start = find(events, Some(sleeper), |k| *k == EventKind::PollStart)[0];
    let earliest_deadline = events[poll_start].at + remaining;
    let deadline = events[wait].at + remaining;

    // The loop then parked, for at most the time left, ending close to the
    // deadline (the earliest timer: `bounded`'s is seconds away).
    let park = (wait..events.len())
        .find(|&i| matches!(events[i].kind, EventKind::Park { .. }))
        .unwrap_or_else(|| panic!("the loop parks after the wait:\n{}", listing(events)));
    let EventKind::Park {
        timeout: Some(timeout),
    } = events[park].kind
    else {
        panic!(
            "a timer is pending, so the park has a timeout:\n{}",
            show(events, park)
        )
    };
    assert!(
        timeout <= remaining,
        "{timeout:?} is longer than the {remaining:?} left"
    );
    let parks_until = events[park].at + timeout;
    let off_by = parks_until.abs_diff(deadline);
    assert!(
        off_by <= Duration::from_millis(10),
        "the park should end at the deadline; it is {off_by:?} off:\n{}\n{}",
        show(events, wait),
        show(events, park)
    );
    assert!(
        find(events, None, |k| *k == EventKind::Unpark)
            .iter()
            .any(|&i| i > park),
        "the park ends"
    );

    // The timer fired once, not early, and woke the sleeper on the loop
    // thread: the next event there is that wake.
    let fired = find_all(events, |k| matches!(k, EventKind::TimerFired { .. }));
    assert_eq!(fired.len(), 1, "one timer fired:\n{}", listing(events));
    let fired = fired[0];
    assert!(fired > park);
    assert_eq!(
        events[fired].kind,
        EventKind::TimerFired {
            wakes: Some(sleeper)
        },
        "the firing names the task it wakes"
    );
    assert!(
        events[fired].at >= earliest_deadline,
        "the timer fired {:?} before its deadline",
        earliest_deadline - events[fired].at
    );
    let next = (fired + 1..events.len())
        .find(|&i| events[i].thread == events[fired].thread)
        .expect("something follows the firing");
    assert_eq!(
        (events[next].task, &events[next].kind),
        (
            Some(sleeper),
            &EventKind::Wake {
                from_other_thread: false,
                by: WokenBy::Timer
            }
        ),
        "the firing wakes the sleeper:\n{}\n{}",
        show(events, fired),
        show(events, next)
    );

    // The sleeper's second poll finishes it, and that wakes block_on's
    // future, which waited for the sleeper's handle.
    let done = find(events, Some(sleeper), |k| {
        *k == EventKind::PollEnd { ready: true }
    });
    assert_eq!(done.len(), 1);
    assert!(done[0] > next);
    assert!(
        waits_of(events, main).contains(&WaitOn::Task(sleeper)),
        "block_on's future waits for the sleeper to finish"
    );
    assert!(
        find(events, Some(main), |k| matches!(k, EventKind::Wake { .. }))
            .iter()
            .any(|&i| i > done[0]),
        "the sleeper's end wakes block_on's future"
    );
}

// ------------------------------------------------------------- the channel program

struct ChannelRun {
    events: Vec<Event>,
    receiver: TaskId,
    sender: TaskId,
}

/// A receiver task waits for two values. The first comes from a sender
/// task on the loop; the second from a std thread ("feeder"), which
/// `try_send`s only once the sender task tells it to. The sender tells it
/// after a `yield_now`, by which time the receiver (woken by the first
/// send, so queued ahead of the yielding sender) has taken the first value
/// and waits again: the feeder's send must wake it across threads.
fn run_channel_program() -> ChannelRun {
    within(|| {
        let rt = runtime();
        let (tx, rx) = channel::unbounded::<u32>();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let feeder_tx = tx.clone();
        let feeder = thread::Builder::new()
            .name("feeder".into())
            .spawn(move || {
                go_rx
                    .recv_timeout(PATIENCE)
                    .expect("the sender task says go");
                feeder_tx.try_send(2).expect("the receiver is alive");
            })
            .unwrap();
        let (ids, events) = capture(|| {
            rt.block_on(async move {
                let receiver = spawn_named("receiver", async move {
                    let first = rx.recv().await;
                    let second = rx.recv().await;
                    (first, second)
                });
                let sender = spawn_named("sender", async move {
                    tx.send(1).await.unwrap();
                    yield_now().await;
                    go_tx.send(()).unwrap();
                });
                let ids = (receiver.id(), sender.id());
                bounded_as("the sender", sender).await.unwrap();
                let got = bounded_as("the receiver", receiver).await.unwrap();
                assert_eq!(got, (Some(1), Some(2)));
                ids
            })
        });
        feeder.join().expect("the feeder did not panic");
        let (receiver, sender) = ids;
        ChannelRun {
            events,
            receiver,
            sender,
        }
    })
}

#[test]
fn a_channel_program_records_waits_on_the_channel_and_wakes_from_the_sender_on_either_thread() {
    let _serial = serial();
    let ChannelRun {
        events,
        receiver,
        sender,
    } = run_channel_program();
    let events = &events;
    check_event_loop_rules(events);

    // The receiver waited on the channel twice, each in a pending poll.
    let waits = waits_of(events, receiver);
    assert_eq!(
        waits,
        vec![WaitOn::Channel, WaitOn::Channel],
        "the receiver waits on the channel for each value:\n{}",
        listing(events)
    );

    // The first wake: the sender task's send, on the loop thread, during
    // the sender's poll.
    let sender_polls: Vec<PollSpan> = polls(events)
        .into_iter()
        .filter(|span| span.task == sender)
        .collect();
    let local = find(events, Some(receiver), |k| {
        matches!(
            k,
            EventKind::Wake {
                from_other_thread: false,
                ..
            }
        )
    });
    let by_sender: Vec<usize> = local
        .iter()
        .copied()
        .filter(|&i| {
            sender_polls
                .iter()
                .any(|span| span.start < i && i < span.end)
        })
        .collect();
    assert_eq!(
        by_sender.len(),
        1,
        "the sender task's send wakes the receiver once, during the sender's poll:\n{}",
        listing(events)
    );
    assert_eq!(events[by_sender[0]].thread, LOOP_THREAD);
    assert_eq!(
        events[by_sender[0]].kind,
        EventKind::Wake {
            from_other_thread: false,
            by: WokenBy::Channel { from: Some(sender) }
        },
        "the wake names the channel and the sending task"
    );

    // The second: the feeder thread's try_send, marked as a wake from
    // another thread, recorded on the feeder's thread, after the receiver
    // said it waits; and it gets the receiver polled on the loop.
    let remote = find(events, Some(receiver), |k| {
        matches!(
            k,
            EventKind::Wake {
                from_other_thread: true,
                ..
            }
        )
    });
    assert_eq!(
        remote.len(),
        1,
        "the feeder's send is a wake from another thread:\n{}",
        listing(events)
    );
    let remote = remote[0];
    assert_eq!(events[remote].thread, "feeder", "{}", show(events, remote));
    assert_eq!(
        events[remote].kind,
        EventKind::Wake {
            from_other_thread: true,
            by: WokenBy::Channel { from: None }
        },
        "a plain thread's send: the channel, and no task"
    );
    let second_wait = find(events, Some(receiver), |k| {
        matches!(k, EventKind::Wait { .. })
    })[1];
    assert!(
        second_wait < remote,
        "the receiver waited before the feeder woke it"
    );
    let next_poll = find(events, Some(receiver), |k| *k == EventKind::PollStart)
        .into_iter()
        .find(|&i| i > remote)
        .expect("the receiver is polled after the remote wake");
    assert_eq!(events[next_poll].thread, LOOP_THREAD);
    // If the loop was asleep when the feeder woke the receiver, that wake
    // is what unparked it.
    let loop_state = (0..remote).rev().find(|&i| {
        events[i].thread == LOOP_THREAD
            && matches!(events[i].kind, EventKind::Park { .. } | EventKind::Unpark)
    });
    if let Some(i) = loop_state
        && matches!(events[i].kind, EventKind::Park { .. })
    {
        assert!(
            (remote..next_poll).any(|j| events[j].kind == EventKind::Unpark),
            "the remote wake unparks the sleeping loop:\n{}",
            listing(events)
        );
    }

    // Every other wake stayed on the loop thread.
    for i in find_all(events, |k| matches!(k, EventKind::Wake { .. })) {
        if i != remote {
            assert_eq!(events[i].thread, LOOP_THREAD, "{}", show(events, i));
            assert!(matches!(
                events[i].kind,
                EventKind::Wake {
                    from_other_thread: false,
                    ..
                }
            ));
        }
    }
}

// ------------------------------------------------------------- the blocking program

/// Blocking threads: "server" accepts, reads "ping", writes it back;
/// "client" connects, writes, reads; "sleeper" sleeps; "waiter" receives
/// on a oneshot that the main thread fills last. The main thread joins
/// them all.
fn run_blocking_program() -> Vec<Event> {
    within(|| {
        let rt = blocking::Runtime::new();
        let ((), events) = capture(|| {
            rt.block_on(|| {
                let listener = blocking::net::TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = listener.local_addr().unwrap();
                let server = blocking::spawn_named("server", move || {
                    let (mut stream, _) = listener.accept().unwrap();
                    stream.set_read_timeout(Some(PATIENCE)).unwrap();
                    stream.set_write_timeout(Some(PATIENCE)).unwrap();
                    let mut ping = [0u8; 4];
                    stream.read_exact(&mut ping).unwrap();
                    stream.write_all(&ping).unwrap();
                });
                let client = blocking::spawn_named("client", move || {
                    let mut stream = blocking::net::TcpStream::connect(addr).unwrap();
                    stream.set_read_timeout(Some(PATIENCE)).unwrap();
                    stream.set_write_timeout(Some(PATIENCE)).unwrap();
                    stream.write_all(b"ping").unwrap();
                    let mut echo = [0u8; 4];
                    stream.read_exact(&mut echo).unwrap();
                    echo
                });
                let sleeper = blocking::spawn_named("sleeper", || blocking::sleep(NAP));
                let (tx, rx) = blocking::channel::oneshot::<u32>();
                let waiter = blocking::spawn_named("waiter", move || rx.recv());
                assert_eq!(&client.join().unwrap(), b"ping");
                server.join().unwrap();
                sleeper.join().unwrap();
                tx.send(7).unwrap();
                assert_eq!(waiter.join().unwrap(), Some(7));
            })
        });
        events
    })
}

/// The `on` of each `Block` of `task`, in order, with its index and the
/// index of the `Unblock` that ends it.
fn blocks_of(
    events: &[Event],
    task: Option<TaskId>,
    thread: &str,
) -> Vec<(&'static str, usize, usize)> {
    let mut out = Vec::new();
    for i in 0..events.len() {
        if events[i].task != task || events[i].thread != thread {
            continue;
        }
        if let EventKind::Block { on, .. } = events[i].kind {
            let unblock = (i + 1..events.len())
                .find(|&j| events[j].thread == thread && events[j].kind == EventKind::Unblock)
                .unwrap_or_else(|| panic!("this block ends:\n{}", show(events, i)));
            out.push((on, i, unblock));
        }
    }
    out
}

#[test]
fn a_blocking_program_records_thread_start_and_exit_and_what_each_thread_blocks_in() {
    let _serial = serial();
    let events = run_blocking_program();
    let events = &events;
    check_blocking_rules(events);

    // No event-loop vocabulary on the blocking runtime.
    for e in events {
        assert!(
            !matches!(
                e.kind,
                EventKind::PollStart
                    | EventKind::PollEnd { .. }
                    | EventKind::Wake { .. }
                    | EventKind::Wait { .. }
                    | EventKind::Park { .. }
                    | EventKind::Unpark
                    | EventKind::IoReady { .. }
                    | EventKind::TimerFired { .. }
            ),
            "an event-loop event from the blocking runtime: {e}"
        );
    }

    let mut exits = HashMap::new();
    let mut blocks = HashMap::new();
    for name in ["server", "client", "sleeper", "waiter"] {
        let task = task_named(events, name);
        let spawn = find(events, Some(task), |k| *k == EventKind::Spawn);
        let start = find(events, Some(task), |k| *k == EventKind::ThreadStart);
        let exit = find(events, Some(task), |k| *k == EventKind::ThreadExit);
        assert_eq!(
            (spawn.len(), start.len(), exit.len()),
            (1, 1, 1),
            "{name}: one spawn, one start, one exit:\n{}",
            listing(events)
        );
        assert_eq!(
            events[spawn[0]].thread, LOOP_THREAD,
            "spawned by the main thread"
        );
        // `spawn_named` names the thread too.
        assert_eq!(events[start[0]].thread, name);
        exits.insert(name, exit[0]);
        blocks.insert(name, blocks_of(events, Some(task), name));
    }
    let ons = |name: &str| -> Vec<&'static str> { blocks[name].iter().map(|b| b.0).collect() };
    assert_eq!(
        ons("server"),
        ["accept", "read", "write"],
        "{}",
        listing(events)
    );
    assert_eq!(
        ons("client"),
        ["connect", "write", "read"],
        "{}",
        listing(events)
    );
    assert_eq!(ons("sleeper"), ["sleep"]);
    assert_eq!(ons("waiter"), ["recv"]);

    // The blocks agree with cause and effect across threads.
    let (server, client) = (&blocks["server"], &blocks["client"]);
    assert!(
        server[0].2 > client[0].1,
        "accept returns after the client began to connect"
    );
    assert!(
        server[1].2 > client[1].1,
        "the server's read returns after the client began to write"
    );
    assert!(
        client[2].2 > server[2].1,
        "the client's read returns after the server began to write"
    );
    // A sleep never ends early.
    let (_, sleep_start, sleep_end) = blocks["sleeper"][0];
    assert!(
        events[sleep_end].at - events[sleep_start].at >= NAP,
        "the sleeper slept {:?}",
        events[sleep_end].at - events[sleep_start].at
    );

    // The main thread (task 0, "main", inside block_on) blocked in join
    // once per task, each naming the task joined and returning only after
    // that task's thread exited.
    let main = task_named(events, "main");
    assert_eq!(main.as_u64(), 0, "block_on's thread is task 0");
    let joins = blocks_of(events, Some(main), LOOP_THREAD);
    let join_ons: Vec<&str> = joins.iter().map(|b| b.0).collect();
    assert_eq!(join_ons, ["join"; 4], "{}", listing(events));
    for ((_, block, unblock), name) in joins.iter().zip(["client", "server", "sleeper", "waiter"]) {
        assert_eq!(
            events[*block].kind,
            EventKind::Block {
                on: "join",
                target: Some(task_named(events, name))
            },
            "{}",
            show(events, *block)
        );
        assert!(
            *unblock > exits[name],
            "the join of {name} returns after its thread exits:\n{}\n{}",
            show(events, exits[name]),
            show(events, *unblock)
        );
    }
}

// ------------------------------------------------------------- the rules at scale

#[test]
fn the_pairing_rules_hold_for_many_tasks_that_sleep_yield_send_and_join() {
    let _serial = serial();
    let events = within_for(THREAD_PATIENCE, || {
        let rt = runtime();
        let ((), events) = capture(|| {
            rt.block_on(async {
                let (tx, rx) = channel::bounded::<usize>(2);
                let mut handles = Vec::new();
                for i in 0..30 {
                    let tx = tx.clone();
                    handles.push(spawn(async move {
                        for _ in 0..(i % 4) {
                            yield_now().await;
                        }
                        sleep(Duration::from_millis((i % 5) as u64)).await;
                        tx.send(i).await.unwrap();
                    }));
                }
                drop(tx);
                let total = spawn(async move {
                    let mut total = 0;
                    while let Some(i) = rx.recv().await {
                        total += i;
                    }
                    total
                });
                for handle in handles {
                    bounded(handle).await.unwrap();
                }
                assert_eq!(bounded(total).await.unwrap(), (0..30).sum::<usize>());
            })
        });
        events
    });
    check_event_loop_rules(&events);
    // The program made every rule matter: many polls, waits and wakes.
    let count = |kind: fn(&EventKind) -> bool| events.iter().filter(|e| kind(&e.kind)).count();
    assert_eq!(count(|k| *k == EventKind::Spawn), 31);
    assert!(count(|k| *k == EventKind::PollEnd { ready: false }) > 31);
    assert!(
        count(|k| matches!(
            k,
            EventKind::Wait {
                on: WaitOn::Channel
            }
        )) > 0
    );
    assert!(
        count(|k| matches!(
            k,
            EventKind::Wait {
                on: WaitOn::Timer { .. }
            }
        )) > 0
    );
    assert!(
        count(|k| matches!(
            k,
            EventKind::Wait {
                on: WaitOn::Task(_)
            }
        )) > 0
    );
}

#[test]
fn the_rule_checks_catch_broken_lists() {
    let _serial = serial();
    let TimerRun {
        events, sleeper, ..
    } = run_timer_program();
    check_event_loop_rules(&events);
    let without = |index: usize| {
        let mut broken = events.clone();
        broken.remove(index);
        broken
    };
    let first = |kind: &dyn Fn(&EventKind) -> bool| {
        find(&events, Some(sleeper), kind)
            .first()
            .copied()
            .expect("the sleeper has such an event")
    };

    // Two events swapped in time.
    let mut swapped = events.clone();
    swapped[1].at = swapped[0].at + Duration::from_secs(1);
    let complaint = rule_time_never_runs_backwards(&swapped).unwrap_err();
    assert!(
        complaint.contains("earlier than the one before"),
        "{complaint}"
    );

    // A poll that never ends: its start meets the next start.
    let end = first(&|k| *k == EventKind::PollEnd { ready: false });
    let complaint = rule_every_poll_ends_before_the_next_starts(&without(end)).unwrap_err();
    assert!(complaint.contains(&sleeper.to_string()), "{complaint}");

    // A second poll with no wake before it.
    let wake = first(&|k| matches!(k, EventKind::Wake { .. }));
    let complaint = rule_a_wake_precedes_every_poll_after_the_first(&without(wake)).unwrap_err();
    assert!(
        complaint.contains("no Wake since its previous poll"),
        "{complaint}"
    );

    // A first poll with no spawn before it.
    let spawn = first(&|k| *k == EventKind::Spawn);
    let complaint = rule_a_wake_precedes_every_poll_after_the_first(&without(spawn)).unwrap_err();
    assert!(complaint.contains("before any Spawn"), "{complaint}");

    // A pending poll that says nothing about what it waits for.
    let wait = first(&|k| matches!(k, EventKind::Wait { .. }));
    let complaint = rule_a_pending_poll_says_what_it_waits_for(&without(wait)).unwrap_err();
    assert!(
        complaint.contains("says nothing it waits for"),
        "{complaint}"
    );

    // A park that never ends.
    let unpark = find(&events, None, |k| *k == EventKind::Unpark)[0];
    assert!(rule_every_park_ends_in_an_unpark(&without(unpark)).is_err());

    // A blocking thread that blocks and never unblocks.
    let blocking_events = run_blocking_program();
    check_blocking_rules(&blocking_events);
    let unblock = find_all(&blocking_events, |k| *k == EventKind::Unblock)[0];
    let mut broken = blocking_events.clone();
    broken.remove(unblock);
    assert!(rule_threads_start_block_unblock_and_exit_in_order(&broken).is_err());
}

// ------------------------------------------------------------- task names

#[test]
fn spawn_named_names_appear_in_every_event_of_the_task_and_default_names_say_where_it_was_spawned()
{
    let _serial = serial();
    let (ids, events) = within(|| {
        let rt = runtime();
        capture(|| {
            rt.block_on(async {
                let named = spawn_named("named task", async {
                    yield_now().await;
                });
                let (plain, line) = (spawn(async {}), line!());
                let ids = (named.id(), plain.id(), line);
                bounded(named).await.unwrap();
                bounded(plain).await.unwrap();
                ids
            })
        })
    });
    let (named, plain, line) = ids;
    check_event_loop_rules(&events);
    let of =
        |task: TaskId| -> Vec<&Event> { events.iter().filter(|e| e.task == Some(task)).collect() };

    // Every event about the named task carries its name: spawn, polls,
    // its wake from yield_now.
    let named_events = of(named);
    assert!(
        named_events.len() >= 6,
        "spawn, two polls, a wake:\n{}",
        listing(&events)
    );
    for e in &named_events {
        assert_eq!(e.task_name.as_deref(), Some("named task"), "{e}");
    }
    assert!(
        named_events[0]
            .to_string()
            .contains(&format!("{named} (named task)")),
        "the printed line names it: {}",
        named_events[0]
    );

    // A task spawned without a name is named after its spawn site.
    let expected = format!("trace_capture.rs:{line}");
    for e in of(plain) {
        assert_eq!(e.task_name.as_deref(), Some(expected.as_str()), "{e}");
    }
    // block_on's own future is called what it is.
    let main = task_named(&events, "main");
    assert!(
        of(main)
            .iter()
            .all(|e| e.task_name.as_deref() == Some("main"))
    );

    // On the blocking runtime the name is the thread's name as well; an
    // unnamed task gets its spawn site, on a thread named for its number.
    let (line, events) = within(|| {
        capture(|| {
            let named =
                blocking::spawn_named("named thread", || blocking::sleep(Duration::from_millis(1)));
            let (plain, line) = (blocking::spawn(|| ()), line!());
            named.join().unwrap();
            plain.join().unwrap();
            line
        })
    });
    check_blocking_rules(&events);
    let named = task_named(&events, "named thread");
    for e in events.iter().filter(|e| e.task == Some(named)) {
        assert_eq!(e.task_name.as_deref(), Some("named thread"), "{e}");
        if e.kind != EventKind::Spawn {
            assert_eq!(e.thread, "named thread", "{e}");
        }
    }
    let expected = format!("trace_capture.rs:{line}");
    let plain = task_named(&events, &expected);
    let start = find(&events, Some(plain), |k| *k == EventKind::ThreadStart);
    assert_eq!(start.len(), 1);
    assert_eq!(
        events[start[0]].thread,
        format!("duet-task-{}", plain.as_u64()),
        "an unnamed blocking task's thread is named for its number"
    );
}

// ------------------------------------------------------------- capture itself

/// Runs a tiny event-loop program: one named task that yields once.
fn run_named_task(name: &'static str) {
    let rt = runtime();
    rt.block_on(async {
        bounded(spawn_named(name, yield_now())).await.unwrap();
    });
}

fn names_in(events: &[Event]) -> HashSet<String> {
    events
        .iter()
        .filter_map(|e| e.task_name.as_deref().map(str::to_string))
        .collect()
}

#[test]
fn a_capture_inside_a_capture_panics_with_the_documented_message_and_ends_both() {
    let _serial = serial();
    within(|| {
        let nested = catch_unwind(AssertUnwindSafe(|| capture(|| capture(|| ()))));
        let payload = nested.expect_err("a capture inside a capture on one thread panics");
        let message = panic_message(&*payload);
        assert!(
            message
                .contains("duet::trace::capture was called inside another capture on this thread")
                && message.contains("take the events from the outer one"),
            "the panic says what went wrong and what to do: {message:?}"
        );
        // Both captures are over: a new one starts (it would wait forever
        // for the old one otherwise) and records.
        let ((), events) = capture(|| run_named_task("after the nested capture"));
        assert!(names_in(&events).contains("after the nested capture"));
        check_event_loop_rules(&events);
    });
}

#[test]
fn a_panic_inside_capture_ends_the_capture_and_recording() {
    let _serial = serial();
    within(|| {
        let result = catch_unwind(AssertUnwindSafe(|| {
            capture(|| {
                run_named_task("before the panic");
                panic!("the closure fails");
            })
        }));
        let payload = result.expect_err("the closure's panic passes through capture");
        assert_eq!(panic_message(&*payload), "the closure fails");
        // Recording stopped: what runs now is not kept for later.
        run_named_task("after the panic");
        let ((), events) = capture(|| ());
        assert!(
            events.is_empty(),
            "nothing recorded after the panicked capture ended:\n{}",
            listing(&events)
        );
    });
}

#[test]
fn nothing_is_recorded_while_no_capture_runs() {
    let _serial = serial();
    within(|| {
        // Work on both runtimes with no capture running.
        run_named_task("unwatched");
        blocking::spawn_named("unwatched thread", || {
            blocking::sleep(Duration::from_millis(1))
        })
        .join()
        .unwrap();
        // A task spawned now, and left waiting on a channel.
        let rt = runtime();
        let (tx, rx) = channel::unbounded::<u8>();
        let (waiting, id) = rt.block_on(async {
            let handle = spawn_named("spawned before the capture", async move { rx.recv().await });
            yield_now().await; // lets it run until it waits
            let id = handle.id();
            (handle, id)
        });

        // A capture holds only what happens inside it.
        let ((), empty) = capture(|| ());
        assert!(
            empty.is_empty(),
            "events from before the capture:\n{}",
            listing(&empty)
        );

        let (got, events) = capture(|| {
            rt.block_on(async {
                tx.send(5).await.unwrap();
                bounded(waiting).await.unwrap()
            })
        });
        assert_eq!(got, Some(5));
        check_event_loop_rules(&events);
        assert!(
            !find(&events, Some(id), |k| *k == EventKind::PollStart).is_empty(),
            "the waiting task's poll in the capture is recorded"
        );
        assert!(
            find(&events, Some(id), |k| *k == EventKind::Spawn).is_empty(),
            "its spawn, before the capture, is not"
        );
        let names = names_in(&events);
        assert!(!names.contains("unwatched") && !names.contains("unwatched thread"));
    });
}

#[test]
fn captures_on_two_threads_take_turns() {
    let _serial = serial();
    within_for(THREAD_PATIENCE, || {
        let (about_tx, about_rx) = mpsc::channel::<()>();
        let (ran_tx, ran_rx) = mpsc::channel::<()>();
        let started = Instant::now();
        let ((second, overlapped), first_events) = capture(|| {
            let second = thread::Builder::new()
                .name("second capture".into())
                .spawn(move || {
                    about_tx.send(()).unwrap();
                    capture(|| {
                        ran_tx.send(()).unwrap();
                        run_named_task("in the second capture");
                    })
                })
                .unwrap();
            about_rx
                .recv_timeout(PATIENCE)
                .expect("the second thread starts");
            // The second thread is calling capture now. Its closure must
            // not run while ours does: give it a fair chance to.
            let overlapped = ran_rx.recv_timeout(Duration::from_millis(200));
            run_named_task("in the first capture");
            (second, overlapped)
        });
        let first_took = started.elapsed();
        assert!(
            overlapped.is_err(),
            "the second capture began while the first was running"
        );
        ran_rx
            .recv_timeout(PATIENCE)
            .expect("the second capture runs once the first ended");
        let ((), second_events) = second.join().expect("the second capture did not panic");

        let (first, second) = (names_in(&first_events), names_in(&second_events));
        assert!(first.contains("in the first capture") && !first.contains("in the second capture"));
        assert!(
            second.contains("in the second capture") && !second.contains("in the first capture")
        );
        for events in [&first_events, &second_events] {
            check_event_loop_rules(events);
        }
        // Times are measured from each capture's own start.
        assert!(first_events.iter().all(|e| e.at <= first_took));
    });
}

/// A task is "current" on its thread only while it is being polled: once
/// the poll ends, what the thread does next is nobody's task. Here the
/// loop's thread, after `block_on` returns, makes a blocking call; its
/// trace must not name the last task polled.
#[test]
fn after_a_poll_the_thread_is_no_longer_inside_that_task() {
    let _serial = serial();
    let ((), events) = within(|| {
        capture(|| {
            runtime().block_on(async {
                spawn_named("polled", async {}).await.unwrap();
            });
            // A blocking call on the same thread, outside any task.
            blocking::sleep(Duration::from_millis(1));
        })
    });
    let blocks = find(&events, None, |k| {
        matches!(k, EventKind::Block { on: "sleep", .. })
    });
    assert_eq!(
        blocks.len(),
        1,
        "the sleep after block_on belongs to no task:\n{}",
        listing(&events)
    );
}

/// When a capture ends, tracing is off again (unless `DUET_TRACE` prints):
/// a task named between captures is named while nobody listens, so its
/// name is not kept, and a later capture shows it as a bare number. (Were
/// tracing left on, every trace point would keep paying for it.)
#[test]
fn between_captures_tracing_is_off_again() {
    let _serial = serial();
    let printing = std::env::var_os("DUET_TRACE").is_some_and(|v| !v.is_empty() && v != "0");
    let events = within(|| {
        let ((), _) = capture(|| {});
        let rt = runtime();
        let (tx, rx) = channel::oneshot();
        let mut early = None;
        rt.block_on(async {
            early = Some(spawn_named("early", rx));
            yield_now().await; // `early` runs and waits
        });
        let early = early.expect("spawned");
        let (value, events) = capture(|| {
            rt.block_on(async {
                tx.send(7).unwrap();
                early.await.unwrap()
            })
        });
        assert_eq!(value, Some(7));
        events
    });
    let polls = find_all(&events, |k| matches!(k, EventKind::PollStart))
        .into_iter()
        .filter(|&i| events[i].task_name.as_deref() != Some("main"))
        .collect::<Vec<_>>();
    assert!(
        !polls.is_empty(),
        "the early task was polled:\n{}",
        listing(&events)
    );
    for i in polls {
        let name = events[i].task_name.as_deref();
        if printing {
            assert_eq!(
                name,
                Some("early"),
                "DUET_TRACE keeps names:\n{}",
                listing(&events)
            );
        } else {
            assert_eq!(
                name,
                None,
                "a name kept while nobody listened:\n{}",
                listing(&events)
            );
        }
    }
}
