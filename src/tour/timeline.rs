//! The tour's last step: the same small network run on both runtimes,
//! traced, drawn as two timelines one above the other on one HTML page.
//!
//! Three clients make two requests each to a server that waits 5 ms per
//! request. One of them thinks for 2 ms before each request, so its
//! connection's task has to wait for the socket: on the event loop the
//! page shows the whole readiness story (the task waits for readable fd
//! N, the loop parks, the socket is reported ready, the task is woken by
//! it and reads). The others reply at once, and their reads may never
//! have to wait. On the blocking runtime the picture has a lane per thread: the
//! accepting thread and one per connection, each asleep in `read` or
//! `sleep` most of the time. On the event loop it has a lane per task, all
//! on one thread, and the loop's parks in between: the thread is idle, not
//! blocked by any one task. `duet::trace::capture` records the events and
//! `duet::trace::render_html` draws them (see `src/trace/svg.rs`).
//!
//! The run is in this process, not a child: it measures nothing, and the
//! clients (`load.rs`, plain std) record no events of their own.
//!
//! Read next: `args.rs`, the tour's flags.

use super::load;
use super::workloads::{RuntimeKind, network};
use duet::trace::{self, Event};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

const CLIENTS: usize = 3;
const REQUESTS: usize = 2;
const SERVICE: Duration = Duration::from_millis(5);
/// How long the thinking client pauses before each request.
const THINK: Duration = Duration::from_millis(2);

/// Traces the run on both runtimes and writes the page to `path`.
pub fn write(path: &Path) -> io::Result<()> {
    let blocking = traced(RuntimeKind::ThreadPerTask)?;
    let event_loop = traced(RuntimeKind::EventLoop)?;
    let page = trace::render_html(
        &format!(
            "duet: {CLIENTS} clients × {REQUESTS} requests, {} ms each (one client thinks {} ms \
             before each request), on both runtimes",
            SERVICE.as_millis(),
            THINK.as_millis()
        ),
        &[
            ("duet::blocking: a thread per connection", &blocking),
            (
                "duet::event_loop: a task per connection, one thread",
                &event_loop,
            ),
        ],
    );
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, page)?;
    // The punch line, counted from the same events the page draws (and
    // by the same code `DUET_TRACE` prints at the end of a run).
    println!(
        "
What the two traced runs did:"
    );
    print!(
        "{}{}",
        trace::Summary::of(&blocking),
        trace::Summary::of(&event_loop)
    );
    Ok(())
}

/// One traced run: the server on a thread of its own, the clients here.
fn traced(runtime: RuntimeKind) -> io::Result<Vec<Event>> {
    let (result, events) = trace::capture(|| {
        let (addr_tx, addr_rx) = mpsc::channel();
        let server = thread::Builder::new()
            .name("server".into())
            .spawn(move || {
                network::serve(runtime, CLIENTS, SERVICE, |addr| {
                    addr_tx.send(addr).map_err(io::Error::other)
                })
            })?;
        let addr = addr_rx
            .recv()
            .map_err(|_| io::Error::other("the server ended before it listened"))?;
        // If the clients fail, the server may wait for them forever: leave
        // it be rather than join it; the tour ends soon after.
        let thinker = thread::spawn(move || thinking_client(addr));
        load::start(addr, CLIENTS - 1, REQUESTS).and_then(load::Load::finish)?;
        thinker
            .join()
            .map_err(|_| io::Error::other("the thinking client panicked"))??;
        server
            .join()
            .map_err(|_| io::Error::other("the server thread panicked"))?
    });
    result.map(|_| events)
}

/// A client that pauses before each request, then checks the echo. Plain
/// std, every wait bounded: it records no events of its own.
fn thinking_client(addr: SocketAddr) -> io::Result<()> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    for round in 0..REQUESTS {
        thread::sleep(THINK);
        let message = [round as u8 + 1; load::MESSAGE_LEN];
        stream.write_all(&message)?;
        let mut reply = [0; load::MESSAGE_LEN];
        stream.read_exact(&mut reply)?;
        if reply != message {
            return Err(io::Error::other("the echo differs from the request"));
        }
    }
    Ok(())
}
