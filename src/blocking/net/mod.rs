//! # TCP the blocking way: the thread waits in the kernel
//!
//! These are thin wrappers over `std::net`. A call that has nothing to do
//! yet — `accept` with no client, `read` with no bytes, `write` with the
//! send buffer full — makes the kernel put the calling thread to sleep
//! until it can go on. That is why each connection needs a thread of its
//! own here, and why [`TcpStream::into_split`] exists: one thread can sit
//! in `read` while another sits in `write`.
//!
//! Every such wait goes through `blocked_on` (in `mod.rs`), so the trace
//! can show it. The methods are inherent (no trait import needed) and
//! named like the event loop's async ones, so a program reads the same on
//! both; the types also implement [`std::io::Read`] and [`std::io::Write`].
//!
//! The twin of this file is [`crate::event_loop::net`], where the same
//! calls return `Pending` instead of sleeping, and a reactor says when to
//! try again.
//!
//! The files: `listener.rs` (waiting for connections), `stream.rs` (one
//! connection: connect, read, write), `options.rs` (its addresses, Nagle,
//! `shutdown`, and timeouts for the calls that sleep), `split.rs` (one
//! connection, two threads).
//!
//! Read next: `listener.rs`.

mod listener;
mod options;
mod split;
mod stream;

pub use listener::TcpListener;
pub use split::{ReadHalf, WriteHalf};
/// Which direction(s) `shutdown` closes; the same type as `std::net::Shutdown`.
pub use std::net::Shutdown;
pub use stream::TcpStream;
