//! `ReadHalf` and `WriteHalf`: one connection, two threads. A thread that
//! sits in `read` cannot also write, so `TcpStream::into_split` hands out
//! two halves (two descriptors for the one socket, `try_clone`), one for a
//! thread that reads and one for a thread that writes.
//!
//! Read next: `../channel.rs`.

use super::Shutdown;
use crate::blocking::blocked_on;
use std::io::{self, Read, Write};
use std::net;

/// The reading half of a [`TcpStream`](super::TcpStream), from [`TcpStream::into_split`](super::TcpStream::into_split).
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
    pub(super) inner: net::TcpStream,
}

impl ReadHalf {
    /// Same as [`TcpStream::read`](super::TcpStream::read).
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

    /// Same as [`TcpStream::read_exact`](super::TcpStream::read_exact).
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

/// The writing half of a [`TcpStream`](super::TcpStream), from [`TcpStream::into_split`](super::TcpStream::into_split).
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
    pub(super) inner: net::TcpStream,
}

impl WriteHalf {
    /// Same as [`TcpStream::write`](super::TcpStream::write).
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

    /// Same as [`TcpStream::write_all`](super::TcpStream::write_all).
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
