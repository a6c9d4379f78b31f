//! `TcpListener` the blocking way: `accept` puts the calling thread to
//! sleep in the kernel until a client connects.
//!
//! Read next: `stream.rs`.

use super::TcpStream;
use crate::blocking::blocked_on;
use std::io;
use std::net::{self, SocketAddr, ToSocketAddrs};

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
