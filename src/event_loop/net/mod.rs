//! TCP on the event loop: the same calls as `blocking::net`, awaited.
//!
//! Each method is a loop around one non-blocking system call, run by
//! `IoSource::poll_io` (read `io_source.rs` first). Where the blocking
//! version's thread sleeps in `read`, this version's task returns
//! `Pending` and the loop runs something else; the reactor wakes the task
//! when the kernel reports the socket readable again.
//!
//! Errors are the kernel's, unchanged: a refused connect is
//! `ErrorKind::ConnectionRefused`, a reset is `ConnectionReset`, EOF is
//! `Ok(0)` (and stays `Ok(0)`). Nothing here hides an error or panics on
//! one; the only retries are a system call interrupted by a signal, and
//! `connect` trying each address a name resolves to.
//!
//! Sockets are `!Send`: each belongs to the runtime that first used it.
//! Build a listener with `bind` (or `from_std`) anywhere; it registers
//! with the loop on its first `accept`.
//!
//! - `listener.rs`: `TcpListener`, and why `accept` backs off when the
//!   process is out of file descriptors.
//! - `stream.rs`: `TcpStream`, and how an async `connect` completes.
//! - `options.rs`: a connection's addresses, Nagle and `shutdown`: calls
//!   that never wait, the same as the blocking runtime's.
//! - `split.rs`: `ReadHalf`/`WriteHalf`, one task reading while another writes.
//!
//! Read next: `listener.rs`, `stream.rs`, `options.rs`, `split.rs`, then
//! `../channel/mod.rs`.

mod listener;
mod options;
mod split;
mod stream;

pub use listener::TcpListener;
pub use split::{ReadHalf, WriteHalf};
pub use std::net::Shutdown;
pub use stream::TcpStream;
