//! `TcpListener`: accept connections without blocking the loop.
//!
//! One trap deserves its own code. When the process has no file
//! descriptors left, `accept` fails with `EMFILE` but the connection stays
//! in the kernel's queue, so the listener is *still* readable. A server
//! that logs the error and calls `accept` again at once spins at 100% CPU
//! and starves everything else. So after such an error the next `accept`
//! first sleeps [`RESOURCE_BACKOFF`] on a timer (not the thread):
//! the error still reaches the caller every time, but at a bounded rate,
//! and the pending connection is accepted once descriptors free up.
//!
//! Read next: `stream.rs`.

use super::stream::TcpStream;
use crate::event_loop::io_source::IoSource;
use crate::event_loop::reactor::Direction;
use crate::event_loop::timer::sleep_until;
use std::cell::Cell;
use std::future::poll_fn;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

/// How long `accept` waits after running out of descriptors or memory.
/// Long enough that a retry loop costs nothing; short enough that a
/// pending client barely notices once resources return.
pub const RESOURCE_BACKOFF: Duration = Duration::from_millis(50);

/// A TCP socket that listens for connections.
///
/// ```
/// use duet::event_loop::net::{TcpListener, TcpStream};
/// use duet::event_loop::{Runtime, spawn};
///
/// # fn main() -> std::io::Result<()> {
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0")?;
///     let addr = listener.local_addr()?;
///     let client_task = spawn(async move { TcpStream::connect(addr).await });
///     let (_server, peer) = listener.accept().await?;
///     assert_eq!(peer, client_task.await.unwrap()?.local_addr()?);
///     Ok(())
/// })
/// # }
/// ```
pub struct TcpListener {
    io: IoSource<mio::net::TcpListener>,
    /// Set when `accept` hit a resource limit: no retry before this time.
    retry_after: Cell<Option<Instant>>,
}

impl TcpListener {
    /// Binds to `addr` (the first address that works). Not async: binding
    /// never waits. Use port 0 to let the OS pick a free port.
    ///
    /// ```
    /// use duet::event_loop::net::TcpListener;
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0")?; // port 0: the OS picks one
    /// assert_ne!(listener.local_addr()?.port(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        // std's bind resolves names, tries each address and sets
        // SO_REUSEADDR, as a server wants.
        TcpListener::from_std(std::net::TcpListener::bind(addr)?)
    }

    /// Wraps a listener made with std, switching it to non-blocking mode.
    ///
    /// ```
    /// use duet::event_loop::net::TcpListener;
    ///
    /// let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let addr = std_listener.local_addr()?;
    /// let listener = TcpListener::from_std(std_listener)?;
    /// assert_eq!(listener.local_addr()?, addr);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            io: IoSource::new(mio::net::TcpListener::from_std(listener)),
            retry_after: Cell::new(None),
        })
    }

    /// Waits for a connection and returns it with the peer's address.
    ///
    /// Cancel safe: a connection is taken from the kernel's queue only in
    /// the poll that returns it; a dropped `accept` leaves it queued.
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
    ///     let (server, peer) = listener.accept().await?;
    ///     assert_eq!(peer, client.local_addr()?);
    ///     assert_eq!(server.local_addr()?, client.peer_addr()?);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        if let Some(deadline) = self.retry_after.take() {
            sleep_until(deadline).await;
        }
        let accepted = poll_fn(|cx| self.io.poll_io(cx, Direction::Read, |l| l.accept())).await;
        match accepted {
            Ok((stream, peer)) => Ok((TcpStream::from_mio(stream), peer)),
            Err(error) => {
                if is_resource_exhaustion(&error) {
                    self.retry_after
                        .set(Some(crate::event_loop::now() + RESOURCE_BACKOFF));
                }
                Err(error)
            }
        }
    }

    /// The address this listener is bound to (with the real port, if you
    /// asked for port 0).
    ///
    /// ```
    /// use duet::event_loop::net::TcpListener;
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0")?;
    /// let addr = listener.local_addr()?;
    /// assert!(addr.ip().is_loopback());
    /// println!("listening on {addr}");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

/// Errors that say "try later", not "this connection failed": out of file
/// descriptors (process or system), of socket buffers, or of memory.
fn is_resource_exhaustion(error: &io::Error) -> bool {
    // Linux's errno values; std has no `ErrorKind` for them.
    const ENOMEM: i32 = 12;
    const ENFILE: i32 = 23;
    const EMFILE: i32 = 24;
    const ENOBUFS: i32 = 105;
    matches!(
        error.raw_os_error(),
        Some(ENOMEM | ENFILE | EMFILE | ENOBUFS)
    )
}

impl std::fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::is_resource_exhaustion;
    use std::io;

    #[test]
    fn only_running_out_of_something_counts_as_resource_exhaustion() {
        for errno in [12, 23, 24, 105] {
            let error = io::Error::from_raw_os_error(errno);
            assert!(is_resource_exhaustion(&error), "{error}");
        }
        // ECONNABORTED: the client left before we accepted; the next
        // accept should go ahead at once, with no back-off.
        let aborted = io::Error::from_raw_os_error(103);
        assert!(!is_resource_exhaustion(&aborted), "{aborted}");
        let made_up = io::Error::other("not from the kernel");
        assert!(!is_resource_exhaustion(&made_up));
    }
}
