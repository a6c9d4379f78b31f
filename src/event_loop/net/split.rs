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
#[derive(Debug)]
pub struct ReadHalf {
    stream: Rc<TcpStream>,
}

/// The writing half of a [`TcpStream`], from `into_split`.
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
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read(&self.stream.io, buf).await
    }

    /// As [`TcpStream::read_exact`].
    pub async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        read_exact(&self.stream.io, buf).await
    }
}

impl WriteHalf {
    /// As [`TcpStream::write`].
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        write(&self.stream.io, buf).await
    }

    /// As [`TcpStream::write_all`].
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        write_all(&self.stream.io, buf).await
    }

    /// Closes the writing direction: the peer reads EOF. Reading goes on.
    pub fn shutdown(&self) -> io::Result<()> {
        self.stream.shutdown(Shutdown::Write)
    }
}
