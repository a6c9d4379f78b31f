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
///
/// ```
/// use duet::blocking::net::{TcpListener, TcpStream};
/// use duet::blocking::{Runtime, spawn};
///
/// # fn main() -> std::io::Result<()> {
/// let rt = Runtime::new();
/// rt.block_on(|| {
///     let listener = TcpListener::bind("127.0.0.1:0")?;
///     let addr = listener.local_addr()?;
///     let client_task = spawn(move || TcpStream::connect(addr));
///     let (_server, peer) = listener.accept()?;
///     assert_eq!(peer, client_task.join().unwrap()?.local_addr()?);
///     Ok(())
/// })
/// # }
/// ```
#[derive(Debug)]
pub struct TcpListener {
    inner: net::TcpListener,
}

impl TcpListener {
    /// Binds to `addr` and starts listening. Port 0 asks the OS to pick a
    /// free port; [`local_addr`](TcpListener::local_addr) tells which.
    ///
    /// ```
    /// use duet::blocking::net::TcpListener;
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0")?; // port 0: the OS picks one
    /// assert_ne!(listener.local_addr()?.port(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
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
    ///
    /// ```
    /// use duet::blocking::net::TcpListener;
    ///
    /// let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let addr = std_listener.local_addr()?;
    /// let listener = TcpListener::from_std(std_listener)?;
    /// assert_eq!(listener.local_addr()?, addr);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_std(listener: net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(false)?;
        Ok(TcpListener { inner: listener })
    }

    /// Waits until a client connects; returns the new connection and the
    /// client's address.
    ///
    /// ```
    /// use duet::blocking::net::{TcpListener, TcpStream};
    /// use duet::blocking::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new();
    /// rt.block_on(|| {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let client = TcpStream::connect(listener.local_addr()?)?;
    ///     let (server, peer) = listener.accept()?;
    ///     assert_eq!(peer, client.local_addr()?);
    ///     assert_eq!(server.local_addr()?, client.peer_addr()?);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) = blocked_on("accept", || self.inner.accept())?;
        Ok((TcpStream { inner: stream }, peer))
    }

    /// The address this listener is bound to.
    ///
    /// ```
    /// use duet::blocking::net::TcpListener;
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0")?;
    /// let addr = listener.local_addr()?;
    /// assert!(addr.ip().is_loopback());
    /// println!("listening on {addr}");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// A TCP connection. Reads and writes put the calling thread to sleep
/// until the kernel can serve them.
///
/// Dropping it closes the connection.
///
/// ```
/// use duet::blocking::net::{TcpListener, TcpStream};
/// use duet::blocking::{Runtime};
///
/// # fn main() -> std::io::Result<()> {
/// let rt = Runtime::new();
/// rt.block_on(|| {
///     let listener = TcpListener::bind("127.0.0.1:0")?;
///     let mut client = TcpStream::connect(listener.local_addr()?)?;
///     let (mut server, _) = listener.accept()?;
///     client.write_all(b"ping")?;
///     let mut buf = [0; 4];
///     server.read_exact(&mut buf)?;
///     server.write_all(b"pong")?;
///     client.read_exact(&mut buf)?;
///     assert_eq!(&buf, b"pong");
///     Ok(())
/// })
/// # }
/// ```
#[derive(Debug)]
pub struct TcpStream {
    inner: net::TcpStream,
}

impl TcpStream {
    /// Connects to `addr`, waiting for the handshake to finish.
    ///
    /// A port with nothing listening fails with
    /// [`io::ErrorKind::ConnectionRefused`].
    ///
    /// ```
    /// use duet::blocking::net::{TcpListener, TcpStream};
    /// use duet::blocking::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new();
    /// rt.block_on(|| {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     // The kernel completes the handshake; `accept` can come later.
    ///     let client = TcpStream::connect(listener.local_addr()?)?;
    ///     assert_eq!(client.peer_addr()?, listener.local_addr()?);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let inner = blocked_on("connect", || net::TcpStream::connect(addr))?;
        Ok(TcpStream { inner })
    }

    /// Waits for bytes, copies up to `buf.len()` of them into `buf` and
    /// returns how many. `Ok(0)` means the peer closed its side (EOF), and
    /// every read after that returns `Ok(0)` again.
    ///
    /// ```
    /// use duet::blocking::net::{TcpListener, TcpStream};
    /// use duet::blocking::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new();
    /// rt.block_on(|| {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?)?;
    ///     let (mut server, _) = listener.accept()?;
    ///     client.write_all(b"hi")?;
    ///     drop(client); // closes the connection after the bytes
    ///     let mut buf = [0; 16];
    ///     let n = server.read(&mut buf)?;
    ///     assert_eq!(&buf[..n], b"hi");
    ///     assert_eq!(server.read(&mut buf)?, 0); // EOF
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        blocked_on("read", || self.inner.read(buf))
    }

    /// Reads exactly `buf.len()` bytes, or fails with
    /// [`io::ErrorKind::UnexpectedEof`] if the peer closes first.
    ///
    /// ```
    /// use duet::blocking::net::{TcpListener, TcpStream};
    /// use duet::blocking::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new();
    /// rt.block_on(|| {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?)?;
    ///     let (mut server, _) = listener.accept()?;
    ///     client.write_all(b"abc")?;
    ///     drop(client);
    ///     let mut buf = [0; 4]; // one byte more than will ever come
    ///     let error = server.read_exact(&mut buf).unwrap_err();
    ///     assert_eq!(error.kind(), std::io::ErrorKind::UnexpectedEof);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        blocked_on("read", || self.inner.read_exact(buf))
    }

    /// Waits for room in the send buffer and writes some of `buf`; returns
    /// how many bytes, `0 < n <= buf.len()` for a non-empty `buf`.
    ///
    /// ```
    /// use duet::blocking::net::{TcpListener, TcpStream};
    /// use duet::blocking::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new();
    /// rt.block_on(|| {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?)?;
    ///     let (mut server, _) = listener.accept()?;
    ///     let n = client.write(b"hello")?;
    ///     assert!(n > 0 && n <= 5); // some of it, at least one byte
    ///     let mut buf = vec![0; n];
    ///     server.read_exact(&mut buf)?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        blocked_on("write", || self.inner.write(buf))
    }

    /// Writes all of `buf`, waiting as often as it takes.
    ///
    /// ```
    /// use duet::blocking::net::{TcpListener, TcpStream};
    /// use duet::blocking::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new();
    /// rt.block_on(|| {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?)?;
    ///     let (mut server, _) = listener.accept()?;
    ///     client.write_all(&[7; 1000])?;
    ///     let mut buf = [0; 1000];
    ///     server.read_exact(&mut buf)?;
    ///     assert!(buf.iter().all(|&byte| byte == 7));
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        blocked_on("write", || self.inner.write_all(buf))
    }

    /// Does nothing and succeeds: TCP sends what `write` accepted without
    /// being asked. It exists because `std::io::Write` has it.
    ///
    /// ```
    /// use duet::blocking::net::{TcpListener, TcpStream};
    /// use duet::blocking::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new();
    /// rt.block_on(|| {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?)?;
    ///     let (mut server, _) = listener.accept()?;
    ///     client.write_all(b"x")?;
    ///     client.flush()?; // nothing to do: the byte is on its way already
    ///     server.read_exact(&mut [0; 1])?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Shuts down reading, writing or both. `Shutdown::Write` sends EOF:
    /// the peer reads `Ok(0)`, yet can still write back to us (half-close).
    ///
    /// ```
    /// use duet::blocking::net::{TcpListener, TcpStream};
    /// use duet::blocking::{Runtime};
    /// use duet::blocking::net::Shutdown;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new();
    /// rt.block_on(|| {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?)?;
    ///     let (mut server, _) = listener.accept()?;
    ///     client.shutdown(Shutdown::Write)?; // "I have nothing more to say"
    ///     let mut buf = [0; 3];
    ///     assert_eq!(server.read(&mut buf)?, 0); // the server reads EOF...
    ///     server.write_all(b"bye")?; // ...and can still answer
    ///     client.read_exact(&mut buf)?;
    ///     assert_eq!(&buf, b"bye");
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.shutdown(how)
    }

    /// Our end's address.
    ///
    /// ```
    /// use duet::blocking::net::{TcpListener, TcpStream};
    /// use duet::blocking::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new();
    /// rt.block_on(|| {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let client = TcpStream::connect(listener.local_addr()?)?;
    ///     let (server, _) = listener.accept()?;
    ///     assert_eq!(client.local_addr()?, server.peer_addr()?);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// The other end's address.
    ///
    /// ```
    /// use duet::blocking::net::{TcpListener, TcpStream};
    /// use duet::blocking::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new();
    /// rt.block_on(|| {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let client = TcpStream::connect(listener.local_addr()?)?;
    ///     assert_eq!(client.peer_addr()?, listener.local_addr()?);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// Turns Nagle's algorithm off (`true`) so small writes go out at once.
    ///
    /// ```
    /// use duet::blocking::net::{TcpListener, TcpStream};
    /// use duet::blocking::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new();
    /// rt.block_on(|| {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let client = TcpStream::connect(listener.local_addr()?)?;
    ///     client.set_nodelay(true)?; // small writes go out at once
    ///     assert!(client.nodelay()?);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_nodelay(nodelay)
    }

    /// Whether Nagle's algorithm is off (see [`TcpStream::set_nodelay`]).
    ///
    /// ```
    /// use duet::blocking::net::{TcpListener, TcpStream};
    /// use duet::blocking::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new();
    /// rt.block_on(|| {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let client = TcpStream::connect(listener.local_addr()?)?;
    ///     client.set_nodelay(false)?;
    ///     assert!(!client.nodelay()?);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.nodelay()
    }

    /// Makes reads give up with [`io::ErrorKind::WouldBlock`] or
    /// [`io::ErrorKind::TimedOut`] after `timeout` (`None`: wait forever).
    ///
    /// Blocking-only: the event loop bounds a wait with `timeout` instead.
    /// Tests use it so that a bug makes them fail rather than hang.
    ///
    /// ```
    /// use duet::blocking::net::{TcpListener, TcpStream};
    /// use duet::blocking::{Runtime};
    /// use std::io::ErrorKind;
    /// use std::time::Duration;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new();
    /// rt.block_on(|| {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let _client = TcpStream::connect(listener.local_addr()?)?;
    ///     let (mut server, _) = listener.accept()?;
    ///     server.set_read_timeout(Some(Duration::from_millis(10)))?;
    ///     let error = server.read(&mut [0; 1]).unwrap_err(); // nothing was sent
    ///     assert!(matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut));
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.inner.set_read_timeout(timeout)
    }

    /// Like [`set_read_timeout`](TcpStream::set_read_timeout), for writes.
    ///
    /// ```
    /// use duet::blocking::net::{TcpListener, TcpStream};
    /// use duet::blocking::{Runtime};
    /// use std::time::Duration;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new();
    /// rt.block_on(|| {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?)?;
    ///     let (mut server, _) = listener.accept()?;
    ///     client.set_write_timeout(Some(Duration::from_secs(5)))?;
    ///     client.write_all(b"hi")?; // would fail rather than wait past 5 s
    ///     server.read_exact(&mut [0; 2])?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.inner.set_write_timeout(timeout)
    }

    /// Splits the connection so one thread reads while another writes.
    ///
    /// Both halves are handles to the same socket (`try_clone` asks the OS
    /// for a second descriptor); it closes when both are dropped. To send
    /// EOF earlier, call [`WriteHalf::shutdown`].
    ///
    /// ```
    /// use duet::blocking::net::{TcpListener, TcpStream};
    /// use duet::blocking::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new();
    /// rt.block_on(|| {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?)?;
    ///     let (server, _) = listener.accept()?;
    ///     let (mut reader, mut writer) = server.into_split()?;
    ///     client.write_all(b"echo")?;
    ///     let mut buf = [0; 4];
    ///     reader.read_exact(&mut buf)?;
    ///     writer.write_all(&buf)?; // the other half answers
    ///     client.read_exact(&mut buf)?;
    ///     assert_eq!(&buf, b"echo");
    ///     Ok(())
    /// })
    /// # }
    /// ```
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
///
/// ```
/// use duet::blocking::net::{TcpListener, TcpStream};
/// use duet::blocking::{Runtime, spawn};
///
/// # fn main() -> std::io::Result<()> {
/// let rt = Runtime::new();
/// rt.block_on(|| {
///     let listener = TcpListener::bind("127.0.0.1:0")?;
///     let mut client = TcpStream::connect(listener.local_addr()?)?;
///     let (server, _) = listener.accept()?;
///     let (mut reader, _writer) = server.into_split()?;
///     let reader_task = spawn(move || {
///         let mut buf = [0; 2];
///         reader.read_exact(&mut buf).map(|()| buf)
///     });
///     client.write_all(b"hi")?;
///     assert_eq!(&reader_task.join().unwrap()?, b"hi");
///     Ok(())
/// })
/// # }
/// ```
#[derive(Debug)]
pub struct ReadHalf {
    inner: net::TcpStream,
}

impl ReadHalf {
    /// Same as [`TcpStream::read`].
    ///
    /// ```
    /// use duet::blocking::net::{TcpListener, TcpStream};
    /// use duet::blocking::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new();
    /// rt.block_on(|| {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?)?;
    ///     let (server, _) = listener.accept()?;
    ///     let (mut reader, _writer) = server.into_split()?;
    ///     client.write_all(b"hi")?;
    ///     let mut buf = [0; 8];
    ///     let n = reader.read(&mut buf)?;
    ///     assert_eq!(&buf[..n], b"hi");
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        blocked_on("read", || self.inner.read(buf))
    }

    /// Same as [`TcpStream::read_exact`].
    ///
    /// ```
    /// use duet::blocking::net::{TcpListener, TcpStream};
    /// use duet::blocking::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new();
    /// rt.block_on(|| {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?)?;
    ///     let (server, _) = listener.accept()?;
    ///     let (mut reader, _writer) = server.into_split()?;
    ///     client.write_all(b"hello")?;
    ///     let mut buf = [0; 5];
    ///     reader.read_exact(&mut buf)?;
    ///     assert_eq!(&buf, b"hello");
    ///     Ok(())
    /// })
    /// # }
    /// ```
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
///
/// ```
/// use duet::blocking::net::{TcpListener, TcpStream};
/// use duet::blocking::{Runtime, spawn};
///
/// # fn main() -> std::io::Result<()> {
/// let rt = Runtime::new();
/// rt.block_on(|| {
///     let listener = TcpListener::bind("127.0.0.1:0")?;
///     let mut client = TcpStream::connect(listener.local_addr()?)?;
///     let (server, _) = listener.accept()?;
///     let (_reader, mut writer) = server.into_split()?;
///     let writer_task = spawn(move || writer.write_all(b"hi"));
///     let mut buf = [0; 2];
///     client.read_exact(&mut buf)?;
///     assert_eq!(&buf, b"hi");
///     writer_task.join().unwrap()?;
///     Ok(())
/// })
/// # }
/// ```
#[derive(Debug)]
pub struct WriteHalf {
    inner: net::TcpStream,
}

impl WriteHalf {
    /// Same as [`TcpStream::write`].
    ///
    /// ```
    /// use duet::blocking::net::{TcpListener, TcpStream};
    /// use duet::blocking::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new();
    /// rt.block_on(|| {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?)?;
    ///     let (server, _) = listener.accept()?;
    ///     let (_reader, mut writer) = server.into_split()?;
    ///     let n = writer.write(b"hi")?;
    ///     let mut buf = [0; 2];
    ///     client.read_exact(&mut buf[..n])?;
    ///     assert_eq!(&buf[..n], &b"hi"[..n]);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        blocked_on("write", || self.inner.write(buf))
    }

    /// Same as [`TcpStream::write_all`].
    ///
    /// ```
    /// use duet::blocking::net::{TcpListener, TcpStream};
    /// use duet::blocking::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new();
    /// rt.block_on(|| {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?)?;
    ///     let (server, _) = listener.accept()?;
    ///     let (_reader, mut writer) = server.into_split()?;
    ///     writer.write_all(b"hello")?;
    ///     let mut buf = [0; 5];
    ///     client.read_exact(&mut buf)?;
    ///     assert_eq!(&buf, b"hello");
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        blocked_on("write", || self.inner.write_all(buf))
    }

    /// Shuts down the writing direction: the peer reads EOF, while the
    /// [`ReadHalf`] can still receive what the peer sends back.
    ///
    /// ```
    /// use duet::blocking::net::{TcpListener, TcpStream};
    /// use duet::blocking::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new();
    /// rt.block_on(|| {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?)?;
    ///     let (server, _) = listener.accept()?;
    ///     let (mut reader, writer) = server.into_split()?;
    ///     writer.shutdown()?;
    ///     let mut buf = [0; 2];
    ///     assert_eq!(client.read(&mut buf)?, 0); // the client reads EOF...
    ///     client.write_all(b"ok")?; // ...and can still send to the reader
    ///     reader.read_exact(&mut buf)?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
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
