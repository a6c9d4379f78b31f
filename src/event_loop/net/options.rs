//! What the kernel keeps about a connection besides its bytes: its two
//! addresses, Nagle's algorithm, and closing one direction (`shutdown`).
//!
//! None of these calls waits, so none is about the runtime: each is one
//! system call on the socket that returns at once, and
//! `blocking/net/options.rs` makes the same calls. (`diff` the two files:
//! the examples differ by `.await`, each call reaches the socket through
//! its runtime's wrapper, and the blocking file adds timeouts for the
//! calls that sleep there.)
//!
//! Read next: `split.rs`.

use super::{Shutdown, TcpStream};
use std::io;
use std::net::SocketAddr;

impl TcpStream {
    /// Shuts down reading, writing or both. `Shutdown::Write` sends EOF:
    /// the peer reads `Ok(0)`, yet can still write back to us (half-close).
    ///
    /// ```
    /// use duet::event_loop::net::{TcpListener, TcpStream};
    /// use duet::event_loop::{Runtime};
    /// use duet::event_loop::net::Shutdown;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     client.shutdown(Shutdown::Write)?; // "I have nothing more to say"
    ///     let mut buf = [0; 3];
    ///     assert_eq!(server.read(&mut buf).await?, 0); // the server reads EOF...
    ///     server.write_all(b"bye").await?; // ...and can still answer
    ///     client.read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"bye");
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Our end's address.
    ///
    /// ```
    /// use duet::event_loop::net::{TcpListener, TcpStream};
    /// use duet::event_loop::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     assert_eq!(client.local_addr()?, server.peer_addr()?);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The other end's address.
    ///
    /// ```
    /// use duet::event_loop::net::{TcpListener, TcpStream};
    /// use duet::event_loop::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     assert_eq!(client.peer_addr()?, listener.local_addr()?);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Turns Nagle's algorithm off (`true`) so small writes go out at once.
    ///
    /// ```
    /// use duet::event_loop::net::{TcpListener, TcpStream};
    /// use duet::event_loop::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     client.set_nodelay(true)?; // small writes go out at once
    ///     assert!(client.nodelay()?);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether Nagle's algorithm is off (see [`TcpStream::set_nodelay`]).
    ///
    /// ```
    /// use duet::event_loop::net::{TcpListener, TcpStream};
    /// use duet::event_loop::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     client.set_nodelay(false)?;
    ///     assert!(!client.nodelay()?);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }
}
