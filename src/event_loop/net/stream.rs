//! `TcpStream`: connect, read and write without blocking the loop.
//!
//! An async `connect` is three steps. `connect(2)` on a non-blocking socket
//! returns at once with the handshake in flight. The socket becomes
//! *writable* when the handshake ends, however it ends. Then we ask how it
//! ended: `take_error` (`SO_ERROR`) holds a failure such as
//! `ConnectionRefused`; if there is none, `peer_addr` succeeding means we
//! are connected, and `NotConnected` means the handshake is still going
//! (a spurious wake), so we wait again.
//!
//! Read next: `options.rs`.

use super::split::{ReadHalf, WriteHalf, split};
use crate::event_loop::io_source::IoSource;
use crate::event_loop::reactor::Direction;
use std::future::poll_fn;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// A TCP connection.
///
/// ```
/// use duet::event_loop::net::{TcpListener, TcpStream};
/// use duet::event_loop::{Runtime};
///
/// # fn main() -> std::io::Result<()> {
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0")?;
///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
///     let (mut server, _) = listener.accept().await?;
///     client.write_all(b"ping").await?;
///     let mut buf = [0; 4];
///     server.read_exact(&mut buf).await?;
///     server.write_all(b"pong").await?;
///     client.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"pong");
///     Ok(())
/// })
/// # }
/// ```
pub struct TcpStream {
    pub(super) io: IoSource<mio::net::TcpStream>,
}

impl TcpStream {
    pub(super) fn from_mio(stream: mio::net::TcpStream) -> TcpStream {
        TcpStream {
            io: IoSource::new(stream),
        }
    }

    /// Wraps a connection made by `std`, switching it to non-blocking mode.
    ///
    /// A `std::net::TcpStream` may move between threads; this one may not
    /// (it belongs to the loop that first uses it). So a connection
    /// accepted on one thread reaches a loop on another as a std stream,
    /// and the loop wraps it (`examples/echo_per_core_event_loop.rs`).
    ///
    /// ```
    /// use duet::event_loop::net::{TcpListener, TcpStream};
    /// use duet::event_loop::Runtime;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new()?;
    /// let listener = TcpListener::bind("127.0.0.1:0")?;
    /// // The handshake completes in the listener's queue, before `accept`.
    /// let std_client = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// rt.block_on(async {
    ///     let (mut server, _) = listener.accept().await?;
    ///     let mut client = TcpStream::from_std(std_client)?;
    ///     client.write_all(b"hi").await?;
    ///     server.read_exact(&mut [0; 2]).await?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        Ok(TcpStream::from_mio(mio::net::TcpStream::from_std(stream)))
    }

    /// Connects to `addr`, trying each address it resolves to in turn.
    ///
    /// Resolving a host name (not an IP address) asks the system resolver,
    /// which blocks the loop thread; resolve names in `spawn_blocking` if
    /// that matters to you.
    ///
    /// Cancel safety: dropped while waiting, the half-open socket is
    /// closed and nothing else is lost; connect again to retry.
    ///
    /// ```
    /// use duet::event_loop::net::{TcpListener, TcpStream};
    /// use duet::event_loop::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     // The kernel completes the handshake; `accept` can come later.
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     assert_eq!(client.peer_addr()?, listener.local_addr()?);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let mut last_error = None;
        for addr in addr.to_socket_addrs()? {
            match TcpStream::connect_one(addr).await {
                Ok(stream) => return Ok(stream),
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "no addresses to connect to")
        }))
    }

    async fn connect_one(addr: SocketAddr) -> io::Result<TcpStream> {
        let stream = TcpStream::from_mio(mio::net::TcpStream::connect(addr)?);
        poll_fn(|cx| {
            stream.io.poll_io(cx, Direction::Write, |socket| {
                if let Some(error) = socket.take_error()? {
                    return Err(error);
                }
                match socket.peer_addr() {
                    Ok(_) => Ok(()),
                    // Still handshaking: treat as "not ready yet". (With no
                    // error pending, `NotConnected` is the only way
                    // `peer_addr` fails.)
                    Err(error) if error.kind() == io::ErrorKind::NotConnected => {
                        Err(io::ErrorKind::WouldBlock.into())
                    }
                    Err(error) => Err(error),
                }
            })
        })
        .await?;
        Ok(stream)
    }

    /// Reads what has arrived, up to `buf.len()` bytes, waiting if nothing
    /// has. `Ok(0)` means the peer closed its side (and stays `Ok(0)`).
    ///
    /// Cancel safe: bytes are taken from the socket only in the poll that
    /// returns them, so a `read` dropped while waiting loses nothing.
    ///
    /// ```
    /// use duet::event_loop::net::{TcpListener, TcpStream};
    /// use duet::event_loop::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     client.write_all(b"hi").await?;
    ///     drop(client); // closes the connection after the bytes
    ///     let mut buf = [0; 16];
    ///     let n = server.read(&mut buf).await?;
    ///     assert_eq!(&buf[..n], b"hi");
    ///     assert_eq!(server.read(&mut buf).await?, 0); // EOF
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read(&self.io, buf).await
    }

    /// Writes some of `buf` (at least one byte unless `buf` is empty),
    /// waiting while the socket's send buffer is full.
    ///
    /// Cancel safe: a `write` dropped while waiting has written nothing.
    ///
    /// ```
    /// use duet::event_loop::net::{TcpListener, TcpStream};
    /// use duet::event_loop::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     let n = client.write(b"hello").await?;
    ///     assert!(n > 0 && n <= 5); // some of it, at least one byte
    ///     let mut buf = vec![0; n];
    ///     server.read_exact(&mut buf).await?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        write(&self.io, buf).await
    }

    /// Writes all of `buf`, however many partial writes that takes.
    ///
    /// Not cancel safe: dropped half-way, some of `buf` may have been sent,
    /// and how much is lost with the future.
    ///
    /// ```
    /// use duet::event_loop::net::{TcpListener, TcpStream};
    /// use duet::event_loop::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     client.write_all(&[7; 1000]).await?;
    ///     let mut buf = [0; 1000];
    ///     server.read_exact(&mut buf).await?;
    ///     assert!(buf.iter().all(|&byte| byte == 7));
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        write_all(&self.io, buf).await
    }

    /// Fills `buf` exactly; `UnexpectedEof` if the peer closes first.
    ///
    /// Not cancel safe: dropped half-way, the bytes already read sit in
    /// `buf` but how many is lost with the future, and they are gone from
    /// the socket.
    ///
    /// ```
    /// use duet::event_loop::net::{TcpListener, TcpStream};
    /// use duet::event_loop::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     client.write_all(b"abc").await?;
    ///     drop(client);
    ///     let mut buf = [0; 4]; // one byte more than will ever come
    ///     let error = server.read_exact(&mut buf).await.unwrap_err();
    ///     assert_eq!(error.kind(), std::io::ErrorKind::UnexpectedEof);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        read_exact(&self.io, buf).await
    }

    /// Does nothing: writes go straight to the kernel. Here for parity
    /// with `blocking::net::TcpStream`.
    ///
    /// ```
    /// use duet::event_loop::net::{TcpListener, TcpStream};
    /// use duet::event_loop::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     client.write_all(b"x").await?;
    ///     client.flush().await?; // nothing to do: the byte is on its way already
    ///     server.read_exact(&mut [0; 1]).await?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Splits the stream so one task can read while another writes. Both
    /// halves share one registration; the reactor keeps a reader and a
    /// writer waiting at the same time, and wakes each for its direction.
    ///
    /// ```
    /// use duet::event_loop::net::{TcpListener, TcpStream};
    /// use duet::event_loop::{Runtime};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     let (mut reader, mut writer) = server.into_split()?;
    ///     client.write_all(b"echo").await?;
    ///     let mut buf = [0; 4];
    ///     reader.read_exact(&mut buf).await?;
    ///     writer.write_all(&buf).await?; // the other half answers
    ///     client.read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"echo");
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn into_split(self) -> io::Result<(ReadHalf, WriteHalf)> {
        Ok(split(self))
    }
}

// The I/O loops below take the `IoSource` rather than `&mut TcpStream`, so
// that `ReadHalf` and `WriteHalf` share them.

pub(super) async fn read(io: &IoSource<mio::net::TcpStream>, buf: &mut [u8]) -> io::Result<usize> {
    poll_fn(|cx| io.poll_read(cx, buf)).await
}

pub(super) async fn write(io: &IoSource<mio::net::TcpStream>, buf: &[u8]) -> io::Result<usize> {
    poll_fn(|cx| io.poll_write(cx, buf)).await
}

pub(super) async fn write_all(
    io: &IoSource<mio::net::TcpStream>,
    mut buf: &[u8],
) -> io::Result<()> {
    while !buf.is_empty() {
        let written = write(io, buf).await?;
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        buf = &buf[written..];
    }
    Ok(())
}

pub(super) async fn read_exact(
    io: &IoSource<mio::net::TcpStream>,
    mut buf: &mut [u8],
) -> io::Result<()> {
    while !buf.is_empty() {
        let read = read(io, buf).await?;
        if read == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[read..];
    }
    Ok(())
}

impl std::fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}
