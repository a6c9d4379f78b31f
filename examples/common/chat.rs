//! The chat servers' logic that needs no runtime: cutting what a client
//! sends into clean lines, and the hub's bookkeeping of who is connected
//! and how far behind each client is.
//!
//! `chat_blocking.rs` and `chat_event_loop.rs` include this file with
//! `#[path = "common/chat.rs"] mod chat;` and differ only in how they wait:
//! for a socket, a channel, a moment. There is no twin to diff it with;
//! diff the two examples instead.
//!
//! - [`Lines`] turns bytes into lines a terminal can show safely: UTF-8
//!   is decoded across reads (a character cut in two by a read, or by the
//!   [`MAX_LINE`] limit, is put back together), and control characters,
//!   such as the escape that starts an ANSI colour or cursor sequence, are
//!   shown as text (`\u{1b}`) instead of reaching other terminals.
//! - [`Outbox`] is one client's queue of bytes waiting to be written. The
//!   hub appends; the client's writer takes *everything* queued at once
//!   and writes it with as few `write` calls as the kernel allows, so a
//!   writer that falls behind catches up in one go rather than line by
//!   line.
//! - [`Hub`] is the client list. A client is too slow when more than
//!   [`BEHIND`] bytes have waited for it for longer than [`SLOW_AFTER`].
//!   Before that, the hub slows the *talkers* instead: while any outbox
//!   holds more than `BEHIND`, the hub takes no new message, so readers
//!   wait to hand it lines, stop reading, and TCP slows the clients that
//!   send. A client that reads catches up in milliseconds; only one that
//!   does not is disconnected.
//!
//! The price of waiting for a client that is behind: everyone waits with
//! it, up to `SLOW_AFTER`. A client that never reads stalls the chat for
//! that long once, and is gone; clients that connect only to never read
//! can repeat that, one after another.
//!
//! Read next: `chat_blocking.rs`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The longest line, in bytes. A longer one is passed on in pieces of
/// about this size, so a client that never sends a line end cannot make
/// us buffer without end.
pub const MAX_LINE: usize = 4096;

/// How many unwritten bytes make a client *behind*: the hub waits for it
/// to catch up before it takes the next message.
pub const BEHIND: usize = 64 * 1024;

/// A client behind stops being so once its outbox is down to this. The
/// gap keeps a client that reads, but slower than the chat talks, from
/// being found "caught up" each time it dips under `BEHIND`.
pub const CAUGHT_UP: usize = BEHIND / 4;

/// How long a client may stay behind before it is disconnected.
pub const SLOW_AFTER: Duration = Duration::from_secs(3);

/// Cuts a client's bytes into lines fit to show to others.
#[derive(Default)]
pub struct Lines {
    /// Bytes received and not yet part of a line.
    pending: Vec<u8>,
}

impl Lines {
    /// Adds bytes read from the socket.
    pub fn receive(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
    }

    /// Takes the next line: up to a line end (`\n` or `\r\n`), or about
    /// [`MAX_LINE`] bytes of a longer line, or, at EOF, whatever is left.
    /// Bytes that are not UTF-8 become `�`; control characters other than
    /// tab are escaped.
    pub fn next_line(&mut self, eof: bool) -> Option<String> {
        let pending = &self.pending;
        let (end, skip) = match pending.iter().position(|&byte| byte == b'\n') {
            Some(newline) if newline <= MAX_LINE => (newline, 1),
            // Cut a long line between characters, never inside one: the
            // rest of a character cut here is in the next piece.
            _ if pending.len() >= MAX_LINE => (whole_chars(&pending[..MAX_LINE]), 0),
            _ if eof && !pending.is_empty() => (pending.len(), 0),
            _ => return None,
        };
        let mut line: Vec<u8> = self.pending.drain(..end + skip).take(end).collect();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Some(sanitize(&String::from_utf8_lossy(&line)))
    }
}

/// How many bytes at the start of `bytes` hold whole characters: all of
/// them, unless the last character's first byte says it needs more bytes
/// than are there. (Malformed bytes count as whole: they become `�`.)
fn whole_chars(bytes: &[u8]) -> usize {
    // A UTF-8 character is at most 4 bytes, so its first byte is at most
    // 3 bytes before the end.
    for back in 1..=bytes.len().min(3) {
        let byte = bytes[bytes.len() - back];
        if byte & 0b1100_0000 == 0b1000_0000 {
            continue; // a continuation byte: the start is further back
        }
        let width = match byte {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        return if width > back {
            bytes.len() - back
        } else {
            bytes.len()
        };
    }
    bytes.len()
}

/// Escapes control characters (NUL, escape, backspace, a lone `\r`, the
/// C1 controls some terminals obey...) as `\u{1b}`-style text; keeps tab.
/// A chat line must not move another user's cursor, recolour or clear
/// their terminal, or ring their bell.
pub fn sanitize(text: &str) -> String {
    let mut clean = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\t' {
            let _ = write!(clean, "{}", c.escape_unicode());
        } else {
            clean.push(c);
        }
    }
    clean
}

/// How many messages the hub handles in a row, when they wait for it,
/// before it wakes the writers: the more, the more lines each writer
/// sends with one `write`. A run also ends as soon as an outbox is over
/// [`BEHIND`] ([`Hub::may_be_behind`]), so no outbox ever holds more
/// than `BEHIND` bytes plus one message's worth (a line, a notice).
pub const RUN: usize = 256;

/// How many lines the hub queues in outboxes (a message to a thousand
/// clients is a thousand) before [`Hub::owes_a_turn`] says so. A thread
/// is preempted by the OS when its time is up; a task on the event loop
/// must hand the loop back itself, or every other task waits for it.
#[allow(dead_code)] // the blocking hub is preempted: it never asks
pub const TURN: usize = 4_096;

/// One client's queue of bytes to write, shared by the hub (which
/// appends) and the client's writer (which takes them all at once).
#[derive(Default)]
pub struct Outbox {
    state: Mutex<OutboxState>,
}

#[derive(Default)]
struct OutboxState {
    /// Queued, not yet taken by the writer.
    queued: Vec<u8>,
    /// Taken by the writer and not yet written.
    writing: usize,
    /// Set when the hub disconnects the client: the writer and reader stop.
    closed: bool,
    /// Since when the client has been behind, if it is.
    behind_since: Option<Instant>,
}

impl Outbox {
    /// A new, empty outbox.
    pub fn new() -> Arc<Outbox> {
        Arc::default()
    }

    fn state(&self) -> MutexGuard<'_, OutboxState> {
        // A panic while holding the lock leaves plain bytes and counts,
        // still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends `bytes` (the hub). Returns how many bytes are unsent now,
    /// and whether the writer must be woken: only if nothing was queued
    /// before, since bytes already queued have rung the doorbell, and the
    /// writer takes these with them.
    pub fn push(&self, bytes: &[u8]) -> (usize, bool) {
        let mut state = self.state();
        let wake = state.queued.is_empty();
        state.queued.extend_from_slice(bytes);
        (state.queued.len() + state.writing, wake)
    }

    /// Swaps everything queued into `batch` (the writer), which must be
    /// empty: one buffer to write in one go. Swapping, not copying, lets
    /// the two buffers' memory be reused turn after turn.
    pub fn take(&self, batch: &mut Vec<u8>) {
        batch.clear();
        let mut state = self.state();
        std::mem::swap(&mut state.queued, batch);
        state.writing = batch.len();
    }

    /// Records that the writer wrote `n` bytes of its batch.
    pub fn wrote(&self, n: usize) {
        let mut state = self.state();
        state.writing = state.writing.saturating_sub(n);
    }

    /// Bytes the client has not been sent yet.
    pub fn unsent(&self) -> usize {
        let state = self.state();
        state.queued.len() + state.writing
    }

    /// Whether the outbox is closed: the hub disconnected the client, or
    /// the writer found the connection broken.
    pub fn is_closed(&self) -> bool {
        self.state().closed
    }

    /// Closes the outbox: nothing more will be written from it. The hub
    /// does this when it disconnects a client; the writer, when the
    /// connection breaks, so that the hub does not wait for a client
    /// that can no longer catch up (its reader's `Leave` is on the way).
    pub fn close(&self) {
        let mut state = self.state();
        state.closed = true;
        // Nobody will write these: free them now.
        state.queued = Vec::new();
    }

    /// Updates whether the client is behind; returns since when it has
    /// been, if it is.
    fn behind(&self, now: Instant) -> Option<Instant> {
        let mut state = self.state();
        let unsent = state.queued.len() + state.writing;
        if state.closed {
            state.behind_since = None;
        } else if unsent > BEHIND {
            state.behind_since.get_or_insert(now);
        } else if unsent <= CAUGHT_UP {
            state.behind_since = None;
        }
        state.behind_since
    }
}

/// What wakes a client's writer when its outbox has new bytes: the sending
/// end of a channel of capacity 1, in both examples. Ringing a bell that
/// already rings does nothing; the writer takes everything on one ring.
pub trait Doorbell {
    /// Tells the writer to look at its outbox; never waits.
    fn ring(&self);
}

/// A client as the hub knows it.
struct Client<D> {
    outbox: Arc<Outbox>,
    doorbell: D,
}

/// The client list, and what the hub does with each message. Dropping a
/// client's doorbell tells its writer there will be no more.
pub struct Hub<D> {
    clients: BTreeMap<u64, Client<D>>,
    /// Whether some outbox may be behind. Cleared once a look at every
    /// outbox finds none behind, so that while all keep up the hub need
    /// not look at each after each message.
    watch: bool,
    /// Clients whose outbox was empty and has bytes now: their writers
    /// are woken by [`Hub::ring_doorbells`].
    to_wake: Vec<u64>,
    /// Lines queued in outboxes since [`Hub::owes_a_turn`] last said yes.
    delivered: usize,
}

impl<D> Default for Hub<D> {
    fn default() -> Hub<D> {
        Hub {
            clients: BTreeMap::new(),
            watch: false,
            to_wake: Vec::new(),
            delivered: 0,
        }
    }
}

impl<D: Doorbell> Hub<D> {
    /// No one here yet.
    pub fn new() -> Hub<D> {
        Hub::default()
    }

    /// Welcomes client `id`, and tells the others.
    pub fn join(&mut self, id: u64, outbox: Arc<Outbox>, doorbell: D) {
        let others = self.clients.len();
        let welcome = format!("* welcome! you are client {id}; {others} other(s) here\n");
        outbox.push(welcome.as_bytes());
        self.broadcast(None, &format!("* client {id} joined\n"));
        self.clients.insert(id, Client { outbox, doorbell });
        self.to_wake.push(id);
    }

    /// Passes client `id`'s line to everyone else. A client the hub has
    /// disconnected may still be sending; it is no longer heard.
    pub fn line(&mut self, id: u64, text: &str) {
        if self.clients.contains_key(&id) {
            self.broadcast(Some(id), &format!("[client {id}] {text}\n"));
        }
    }

    /// Client `id` went away; tells the others.
    pub fn leave(&mut self, id: u64) {
        if self.clients.remove(&id).is_some() {
            self.broadcast(None, &format!("* client {id} left\n"));
        }
    }

    /// Whether this run may take another message: it has handled fewer
    /// than [`RUN`] (`run` so far), and no outbox may be behind.
    pub fn may_take_more(&self, run: usize) -> bool {
        run < RUN && !self.may_be_behind()
    }

    /// Whether the hub has queued [`TURN`] lines since it last asked:
    /// time to let the other tasks run (the event loop's hub yields).
    #[allow(dead_code)] // the blocking hub is preempted: it never asks
    pub fn owes_a_turn(&mut self) -> bool {
        let owes = self.delivered >= TURN;
        if owes {
            self.delivered = 0;
        }
        owes
    }

    /// Whether an outbox may have gone over [`BEHIND`] since the hub last
    /// looked (with [`Hub::behind`]): then it should take no more
    /// messages before it looks.
    pub fn may_be_behind(&self) -> bool {
        self.watch
    }

    /// Whether some client is behind, so the hub should wait a moment
    /// before it takes the next message. Disconnects, first, every client
    /// that has been behind for longer than [`SLOW_AFTER`].
    pub fn behind(&mut self, now: Instant) -> bool {
        if !self.watch {
            return false;
        }
        self.watch = false;
        let mut too_slow = Vec::new();
        let mut behind = false;
        for (&id, client) in &self.clients {
            match client.outbox.behind(now) {
                Some(since) if now.duration_since(since) > SLOW_AFTER => too_slow.push(id),
                Some(_) => behind = true,
                None => {}
            }
        }
        for id in too_slow {
            let client = self.clients.remove(&id).expect("listed above");
            let unsent = client.outbox.unsent();
            // Its writer and reader see this, close the socket and end.
            // (Dropping its doorbell here wakes a writer that waits for a
            // ring.)
            client.outbox.close();
            eprintln!(
                "client {id} fell {unsent} bytes behind for over {SLOW_AFTER:?}: disconnected"
            );
            let notice = format!("* client {id} was too slow to keep up and was disconnected\n");
            self.broadcast(None, &notice);
        }
        self.ring_doorbells();
        // (The notices above may have set `watch` again.)
        self.watch |= behind;
        behind
    }

    /// Wakes the writer of every outbox that has received bytes since it
    /// was last empty. The hub calls this after a run of messages rather
    /// than after each, so a writer wakes once for many lines and writes
    /// them with one `write`.
    pub fn ring_doorbells(&mut self) {
        for id in self.to_wake.drain(..) {
            if let Some(client) = self.clients.get(&id) {
                client.doorbell.ring();
            }
        }
    }

    /// Queues `line` for every client except `from`. Never waits.
    fn broadcast(&mut self, from: Option<u64>, line: &str) {
        for (&id, client) in &self.clients {
            if Some(id) != from {
                let (unsent, wake) = client.outbox.push(line.as_bytes());
                self.delivered += 1;
                self.watch |= unsent > BEHIND;
                if wake {
                    self.to_wake.push(id);
                }
            }
        }
    }
}
