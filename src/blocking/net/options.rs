//! What the kernel keeps about a connection besides its bytes: its two
//! addresses, Nagle's algorithm, closing one direction (`shutdown`), and,
//! here only, how long a read or write may sleep before it gives up.
//!
//! Apart from the timeouts, none of these waits, so none is about the
//! runtime: each is one system call on the socket that returns at once,
//! and `event_loop/net/options.rs` makes the same calls. The timeouts are the
//! blocking world's own: a thread asleep in `read` can be woken only by
//! the kernel, so the kernel must be told when to give up. The event loop
//! bounds any wait, of any kind, with its `timeout` future instead.
//!
//! Read next: `split.rs`.

use super::{Shutdown, TcpStream};
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

impl TcpStream {
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
}
