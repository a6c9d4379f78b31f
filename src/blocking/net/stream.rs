//! `TcpStream` the blocking way: a `read` with no bytes, or a `write` with
//! the send buffer full, puts the calling thread to sleep in the kernel
//! until it can go on.
//!
//! Read next: `options.rs`.

use super::{ReadHalf, WriteHalf};
use crate::blocking::blocked_on;
use std::io::{self, Read, Write};
use std::net::{self, ToSocketAddrs};

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
    pub(super) inner: net::TcpStream,
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

    /// Wraps a connection made by `std`, putting it (back) into blocking
    /// mode, as [`TcpListener::from_std`](super::TcpListener::from_std)
    /// does for a listener.
    ///
    /// ```
    /// use duet::blocking::net::{TcpListener, TcpStream};
    /// use duet::blocking::Runtime;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let rt = Runtime::new();
    /// let listener = TcpListener::bind("127.0.0.1:0")?;
    /// // The handshake completes in the listener's queue, before `accept`.
    /// let std_client = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// rt.block_on(|| {
    ///     let (mut server, _) = listener.accept()?;
    ///     let mut client = TcpStream::from_std(std_client)?;
    ///     client.write_all(b"hi")?;
    ///     server.read_exact(&mut [0; 2])?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn from_std(stream: net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(false)?;
        Ok(TcpStream { inner: stream })
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
