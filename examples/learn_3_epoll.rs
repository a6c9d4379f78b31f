//! Stage 3: the loop parks in `epoll_wait`, where sockets and timers meet.
//!
//! The idea it teaches: with nothing runnable, the loop sleeps in one
//! system call, `epoll_wait` (through mio's `Poll::poll`), told to wake at
//! the earliest timer's deadline at the latest. Sockets are registered
//! with the same epoll, so a socket becoming ready ends the sleep too. No
//! timer thread, no thread per socket: one thread, asleep in the kernel
//! whenever every task is waiting. duet calls this step *park*.
//!
//! A socket wait is a loop (the rule of edge-triggered readiness): try the
//! non-blocking call; only if it says `WouldBlock`, leave the waker with
//! the reactor and return `Pending`; when an event for its token comes,
//! the task is woken and tries again.
//!
//! Here one timer, one listener on 127.0.0.1 and one client connection
//! share the thread, and the CPU time at the end is near zero.
//!
//! Its flaws, which the rest of duet fixes (docs/PITFALLS.md): a wake from
//! another thread lands in the queue but does not end `epoll_wait`
//! (pitfall 3: duet registers a `mio::Waker`); one waker per token, so a
//! second task waiting on the same socket is forgotten; duplicate queue
//! entries (6); no fairness (7); a panic in a task ends the loop (10);
//! tokens carry no generation, so a token reused for a new socket could
//! receive the old one's events (8). duet's versions: `src/event_loop/reactor.rs` and
//! `src/event_loop/io_source.rs`, driven by `src/event_loop/executor.rs`.
//!
//! Run: `cargo run --example learn_3_epoll`
//!
//! The rest of duet is these three ideas (poll in a loop, poll only what
//! was woken, park in `epoll_wait`) made correct. Read next: DESIGN.md,
//! "From the stages to duet", then the README's reading order.

#[path = "common/cpu_time.rs"]
mod cpu_time;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Token};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::future::{Future, poll_fn};
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

/// The reactor: the epoll instance, who waits on which token, and timers.
struct Reactor {
    poll: mio::Poll,
    waiters: HashMap<Token, Waker>,
    timers: Vec<(Instant, Waker)>,
}

thread_local! {
    static REACTOR: RefCell<Option<Reactor>> = const { RefCell::new(None) };
}

fn with_reactor<T>(f: impl FnOnce(&mut Reactor) -> T) -> T {
    REACTOR.with(|r| f(r.borrow_mut().as_mut().expect("inside run")))
}

/// Runs the non-blocking `op` until it does not say `WouldBlock`; between
/// tries, waits for the next event on `token`.
async fn io<T>(token: Token, mut op: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let mut waiting = false; // Pending once, with our waker stored
                poll_fn(|cx| {
                    if std::mem::replace(&mut waiting, true) {
                        return Poll::Ready(()); // woken: try the call again
                    }
                    with_reactor(|r| r.waiters.insert(token, cx.waker().clone()));
                    Poll::Pending
                })
                .await
            }
            result => return result,
        }
    }
}

/// Ready at its deadline; each pending poll puts (deadline, waker) in
/// the reactor's timer list, which `run` turns into `epoll_wait`'s timeout.
async fn sleep(after: Duration) {
    let deadline = Instant::now() + after;
    poll_fn(|cx| {
        if Instant::now() >= deadline {
            return Poll::Ready(());
        }
        with_reactor(|r| r.timers.push((deadline, cx.waker().clone())));
        Poll::Pending
    })
    .await
}

struct TaskWaker(usize, Arc<Mutex<VecDeque<usize>>>);
impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.1.lock().unwrap().push_back(self.0);
    }
}

/// The executor: poll what is queued; with nothing queued, park.
fn run(tasks: Vec<Pin<Box<dyn Future<Output = ()>>>>) -> u64 {
    let queue = Arc::new(Mutex::new((0..tasks.len()).collect::<VecDeque<_>>()));
    let wakers: Vec<Waker> = (0..tasks.len())
        .map(|id| Waker::from(Arc::new(TaskWaker(id, queue.clone()))))
        .collect();
    let mut tasks: Vec<_> = tasks.into_iter().map(Some).collect();
    let (mut events, mut parks) = (Events::with_capacity(64), 0);
    while tasks.iter().any(Option::is_some) {
        let next = queue.lock().unwrap().pop_front();
        if let Some(id) = next {
            let mut cx = Context::from_waker(&wakers[id]);
            // A finished task is None: a late wake polls nothing (pitfall 5).
            if tasks[id]
                .as_mut()
                .is_some_and(|t| t.as_mut().poll(&mut cx).is_ready())
            {
                tasks[id] = None;
            }
            continue;
        }
        // Park: sleep in epoll_wait until an event, or the earliest timer.
        let due = with_reactor(|r| r.timers.iter().map(|(at, _)| *at).min());
        let timeout = due.map(|at| at.saturating_duration_since(Instant::now()));
        with_reactor(|r| r.poll.poll(&mut events, timeout)).expect("epoll_wait");
        parks += 1;
        // Take the wakers out first, wake them after: no waking under the
        // reactor's borrow (pitfall 9).
        let mut woken: Vec<Waker> = with_reactor(|r| {
            let now = Instant::now();
            let due = r
                .timers
                .extract_if(.., |(at, _)| *at <= now)
                .map(|(_, w)| w);
            let mut woken: Vec<Waker> = due.collect();
            woken.extend(events.iter().filter_map(|e| r.waiters.remove(&e.token())));
            woken
        });
        woken.drain(..).for_each(Waker::wake);
    }
    parks
}

fn main() -> io::Result<()> {
    let start = Instant::now();
    let poll = mio::Poll::new()?;
    let (waiters, timers) = (HashMap::new(), Vec::new());
    REACTOR.with(|r| {
        *r.borrow_mut() = Some(Reactor {
            poll,
            waiters,
            timers,
        })
    });
    let register = |source: &mut dyn mio::event::Source, token, interest| {
        with_reactor(|r| r.poll.registry().register(source, token, interest))
    };

    let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
    let mut client = TcpStream::connect(listener.local_addr()?)?;
    register(&mut listener, Token(0), Interest::READABLE)?;
    register(&mut client, Token(1), Interest::WRITABLE)?;
    let server = async move {
        let (mut conn, _) = io(Token(0), || listener.accept()).await.unwrap();
        register(&mut conn, Token(2), Interest::READABLE).unwrap();
        let mut buf = [0; 64];
        let n = io(Token(2), || conn.read(&mut buf)).await.unwrap();
        let text = String::from_utf8_lossy(&buf[..n]);
        println!(
            "server: read {text:?} after {} ms",
            start.elapsed().as_millis()
        );
    };
    let client = async move {
        // Writing before the handshake ends may fail with NotConnected:
        // that too means "wait for writability".
        let n = io(Token(1), || match client.write(b"hello") {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                Err(io::ErrorKind::WouldBlock.into())
            }
            other => other,
        });
        println!("client: wrote {} bytes", n.await.unwrap());
        sleep(Duration::from_millis(100)).await; // keep the socket open meanwhile
    };
    let timer = async move {
        sleep(Duration::from_millis(300)).await;
        println!("timer: fired after {} ms", start.elapsed().as_millis());
    };
    let parks = run(vec![Box::pin(server), Box::pin(client), Box::pin(timer)]);
    println!("parks in epoll_wait: {parks}");
    cpu_time::report(start.elapsed());
    Ok(())
}
