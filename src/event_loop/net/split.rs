//! `ReadHalf` and `WriteHalf`: one connection, two tasks.
//!
//! The halves share the stream (and its one reactor registration) through
//! an `Rc`. That is safe because the reactor keeps readiness and waiters
//! per direction: a reader waiting for data and a writer waiting for
//! buffer space are both remembered, and each is woken by its own edge.
//! The socket closes when both halves are dropped.
//!
//! Read next: `../channel/mod.rs`.

use super::stream::{TcpStream, read, read_exact, write, write_all};
use std::io;
use std::net::Shutdown;
use std::rc::Rc;

/// The reading half of a [`TcpStream`], from `into_split`.
///
/// ```
/// use duet::event_loop::net::{TcpListener, TcpStream};
/// use duet::event_loop::{Runtime, spawn};
///
/// # fn main() -> std::io::Result<()> {
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0")?;
///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
///     let (server, _) = listener.accept().await?;
///     let (mut reader, _writer) = server.into_split()?;
///     let reader_task = spawn(async move {
///         let mut buf = [0; 2];
///         reader.read_exact(&mut buf).await.map(|()| buf)
///     });
///     client.write_all(b"hi").await?;
///     assert_eq!(&reader_task.await.unwrap()?, b"hi");
///     Ok(())
/// })
/// # }
/// ```
#[derive(Debug)]
pub struct ReadHalf {
    stream: Rc<TcpStream>,
}

/// The writing half of a [`TcpStream`], from `into_split`.
///
/// ```
/// use duet::event_loop::net::{TcpListener, TcpStream};
/// use duet::event_loop::{Runtime, spawn};
///
/// # fn main() -> std::io::Result<()> {
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0")?;
///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
///     let (server, _) = listener.accept().await?;
///     let (_reader, mut writer) = server.into_split()?;
///     let writer_task = spawn(async move { writer.write_all(b"hi").await });
///     let mut buf = [0; 2];
///     client.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"hi");
///     writer_task.await.unwrap()?;
///     Ok(())
/// })
/// # }
/// ```
#[derive(Debug)]
pub struct WriteHalf {
    stream: Rc<TcpStream>,
}

pub(super) fn split(stream: TcpStream) -> (ReadHalf, WriteHalf) {
    let stream = Rc::new(stream);
    (
        ReadHalf {
            stream: stream.clone(),
        },
        WriteHalf { stream },
    )
}

impl ReadHalf {
    /// As [`TcpStream::read`].
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
    ///     let (mut reader, _writer) = server.into_split()?;
    ///     client.write_all(b"hi").await?;
    ///     let mut buf = [0; 8];
    ///     let n = reader.read(&mut buf).await?;
    ///     assert_eq!(&buf[..n], b"hi");
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read(&self.stream.io, buf).await
    }

    /// As [`TcpStream::read_exact`].
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
    ///     let (mut reader, _writer) = server.into_split()?;
    ///     client.write_all(b"hello").await?;
    ///     let mut buf = [0; 5];
    ///     reader.read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"hello");
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        read_exact(&self.stream.io, buf).await
    }
}

impl WriteHalf {
    /// As [`TcpStream::write`].
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
    ///     let (_reader, mut writer) = server.into_split()?;
    ///     let n = writer.write(b"hi").await?;
    ///     let mut buf = [0; 2];
    ///     client.read_exact(&mut buf[..n]).await?;
    ///     assert_eq!(&buf[..n], &b"hi"[..n]);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        write(&self.stream.io, buf).await
    }

    /// As [`TcpStream::write_all`].
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
    ///     let (_reader, mut writer) = server.into_split()?;
    ///     writer.write_all(b"hello").await?;
    ///     let mut buf = [0; 5];
    ///     client.read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"hello");
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        write_all(&self.stream.io, buf).await
    }

    /// Closes the writing direction: the peer reads EOF. Reading goes on.
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
    ///     let (mut reader, writer) = server.into_split()?;
    ///     writer.shutdown()?;
    ///     let mut buf = [0; 2];
    ///     assert_eq!(client.read(&mut buf).await?, 0); // the client reads EOF...
    ///     client.write_all(b"ok").await?; // ...and can still send to the reader
    ///     reader.read_exact(&mut buf).await?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn shutdown(&self) -> io::Result<()> {
        self.stream.shutdown(Shutdown::Write)
    }
}
