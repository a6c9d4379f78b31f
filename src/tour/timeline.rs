//! The tour's last step: the same small network run on both runtimes,
//! traced, drawn as two timelines one above the other on one HTML page.
//!
//! Three clients make two requests each to a server that waits 5 ms per
//! request. On the blocking runtime the picture has a lane per thread: the
//! accepting thread and one per connection, each asleep in `read` or
//! `sleep` most of the time. On the event loop it has a lane per task, all
//! on one thread, and the loop's parks in between: the thread is idle, not
//! blocked by any one task. `duet::trace::capture` records the events and
//! `duet::trace::render_html` draws them (see `src/trace/svg.rs`).
//!
//! The run is in this process, not a child: it measures nothing, and the
//! clients (`load.rs`, plain std) record no events of their own.
//!
//! Read next: the tests, starting with `tests/pitfalls.rs`: the bugs
//! hand-written executors keep hitting, one test each.

use super::load;
use super::workloads::{RuntimeKind, network};
use duet::trace::{self, Event};
use std::io;
use std::path::Path;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

const CLIENTS: usize = 3;
const REQUESTS: usize = 2;
const SERVICE: Duration = Duration::from_millis(5);

/// Traces the run on both runtimes and writes the page to `path`.
pub fn write(path: &Path) -> io::Result<()> {
    let blocking = traced(RuntimeKind::ThreadPerTask)?;
    let event_loop = traced(RuntimeKind::EventLoop)?;
    let page = trace::render_html(
        &format!(
            "duet: {CLIENTS} clients × {REQUESTS} requests, {} ms each, on both runtimes",
            SERVICE.as_millis()
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
        load::start(addr, CLIENTS, REQUESTS).and_then(load::Load::finish)?;
        server
            .join()
            .map_err(|_| io::Error::other("the server thread panicked"))?
    });
    result.map(|_| events)
}
