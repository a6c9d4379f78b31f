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
//! Read next: `channel.rs`.

use super::blocked_on;
use std::io::{self, Read, Write};
/// Which direction(s) `shutdown` closes; the same type as `std::net::Shutdown`.
pub use std::net::Shutdown;
use std::net::{self, SocketAddr, ToSocketAddrs};
use std::time::Duration;

/// A socket that waits for TCP connections.
#[derive(Debug)]
pub struct TcpListener {
    inner: net::TcpListener,
}

impl TcpListener {
    /// Binds to `addr` and starts listening. Port 0 asks the OS to pick a
    /// free port; [`local_addr`](TcpListener::local_addr) tells which.
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        Ok(TcpListener {
            inner: net::TcpListener::bind(addr)?,
        })
    }

    /// Wraps a listener made by `std` (say, with socket options set).
    ///
    /// The listener is put (back) into blocking mode, since that is what
    /// this runtime relies on; that call is why this returns a `Result`,
    /// just as the event loop's `from_std` does.
    pub fn from_std(listener: net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(false)?;
        Ok(TcpListener { inner: listener })
    }

    /// Waits until a client connects; returns the new connection and the
    /// client's address.
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) = blocked_on("accept", || self.inner.accept())?;
        Ok((TcpStream { inner: stream }, peer))
    }

    /// The address this listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// A TCP connection. Reads and writes put the calling thread to sleep
/// until the kernel can serve them.
///
/// Dropping it closes the connection.
#[derive(Debug)]
pub struct TcpStream {
    inner: net::TcpStream,
}

impl TcpStream {
    /// Connects to `addr`, waiting for the handshake to finish.
    ///
    /// A port with nothing listening fails with
    /// [`io::ErrorKind::ConnectionRefused`].
    pub fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let inner = blocked_on("connect", || net::TcpStream::connect(addr))?;
        Ok(TcpStream { inner })
    }

    /// Waits for bytes, copies up to `buf.len()` of them into `buf` and
    /// returns how many. `Ok(0)` means the peer closed its side (EOF), and
    /// every read after that returns `Ok(0)` again.
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        blocked_on("read", || self.inner.read(buf))
    }

    /// Reads exactly `buf.len()` bytes, or fails with
    /// [`io::ErrorKind::UnexpectedEof`] if the peer closes first.
    pub fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        blocked_on("read", || self.inner.read_exact(buf))
    }

    /// Waits for room in the send buffer and writes some of `buf`; returns
    /// how many bytes, `0 < n <= buf.len()` for a non-empty `buf`.
    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        blocked_on("write", || self.inner.write(buf))
    }

    /// Writes all of `buf`, waiting as often as it takes.
    pub fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        blocked_on("write", || self.inner.write_all(buf))
    }

    /// Does nothing and succeeds: TCP sends what `write` accepted without
    /// being asked. It exists because `std::io::Write` has it.
    pub fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Shuts down reading, writing or both. `Shutdown::Write` sends EOF:
    /// the peer reads `Ok(0)`, yet can still write back to us (half-close).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.shutdown(how)
    }

    /// Our end's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// The other end's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// Turns Nagle's algorithm off (`true`) so small writes go out at once.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_nodelay(nodelay)
    }

    /// Whether Nagle's algorithm is off (see [`TcpStream::set_nodelay`]).
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.nodelay()
    }

    /// Makes reads give up with [`io::ErrorKind::WouldBlock`] or
    /// [`io::ErrorKind::TimedOut`] after `timeout` (`None`: wait forever).
    ///
    /// Blocking-only: the event loop bounds a wait with `timeout` instead.
    /// Tests use it so that a bug makes them fail rather than hang.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.inner.set_read_timeout(timeout)
    }

    /// Like [`set_read_timeout`](TcpStream::set_read_timeout), for writes.
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.inner.set_write_timeout(timeout)
    }

    /// Splits the connection so one thread reads while another writes.
    ///
    /// Both halves are handles to the same socket (`try_clone` asks the OS
    /// for a second descriptor); it closes when both are dropped. To send
    /// EOF earlier, call [`WriteHalf::shutdown`].
    pub fn into_split(self) -> io::Result<(ReadHalf, WriteHalf)> {
        let write = self.inner.try_clone()?;
        Ok((ReadHalf { inner: self.inner }, WriteHalf { inner: write }))
    }
}

// The trait impls call the inherent methods (which take precedence over
// trait methods of the same name), so every wait still goes through
// `blocked_on`.
impl Read for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        TcpStream::read(self, buf)
    }
}

impl Write for TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        TcpStream::write(self, buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        TcpStream::flush(self)
    }
}

/// The reading half of a [`TcpStream`], from [`TcpStream::into_split`].
#[derive(Debug)]
pub struct ReadHalf {
    inner: net::TcpStream,
}

impl ReadHalf {
    /// Same as [`TcpStream::read`].
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        blocked_on("read", || self.inner.read(buf))
    }

    /// Same as [`TcpStream::read_exact`].
    pub fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        blocked_on("read", || self.inner.read_exact(buf))
    }
}

impl Read for ReadHalf {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        ReadHalf::read(self, buf)
    }
}

/// The writing half of a [`TcpStream`], from [`TcpStream::into_split`].
#[derive(Debug)]
pub struct WriteHalf {
    inner: net::TcpStream,
}

impl WriteHalf {
    /// Same as [`TcpStream::write`].
    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        blocked_on("write", || self.inner.write(buf))
    }

    /// Same as [`TcpStream::write_all`].
    pub fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        blocked_on("write", || self.inner.write_all(buf))
    }

    /// Shuts down the writing direction: the peer reads EOF, while the
    /// [`ReadHalf`] can still receive what the peer sends back.
    pub fn shutdown(&self) -> io::Result<()> {
        self.inner.shutdown(Shutdown::Write)
    }
}

impl Write for WriteHalf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        WriteHalf::write(self, buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(()) // see TcpStream::flush
    }
}
