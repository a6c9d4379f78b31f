//! idle_connections: how much memory does a waiting connection cost?
//!
//! The measuring child (see `child.rs`) starts the server as a process of
//! its own, so the server's resident memory is its own. The server
//! reports its RSS after binding, then again once N connections are
//! accepted and each has a task (or a thread) blocked reading from it.
//! The difference over N is the cost of one idle connection: a task, its
//! future and buffer, and its registration with the reactor on the event
//! loops; a thread, its stack pages and its buffer on the blocking
//! runtime. The kernel's socket memory is not in RSS and counts for no
//! one. Only anonymous memory is counted (`rss_bytes`).

use super::child::{self, Metrics};
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

const SERVER_FLAG: &str = "--idle-server";

/// In the measuring child: the bytes of RSS per idle connection.
pub fn measure(runtime: &str, connections: usize) -> Metrics {
    let mut server = child::command(&[SERVER_FLAG, runtime, &connections.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let mut next = || lines.next().unwrap().unwrap();
    let ready = next(); // "ready PORT RSS"
    let mut words = ready.split_whitespace().skip(1);
    let port: u16 = words.next().unwrap().parse().unwrap();
    let before: f64 = words.next().unwrap().parse().unwrap();
    let mut clients = Vec::with_capacity(connections);
    for i in 0..connections {
        if i % 64 == 63 {
            wait_for_accepts(port);
        }
        clients.push(std::net::TcpStream::connect(("127.0.0.1", port)).unwrap());
    }
    let after: f64 = next().split_whitespace().nth(2).unwrap().parse().unwrap(); // "accepted PORT RSS"
    // The server closes first, so the connections' TIME_WAIT states are
    // the server's, on a port no later run binds.
    drop(server.stdin.take());
    server.wait().unwrap();
    drop(clients);
    vec![("bytes", (after - before) / connections as f64)]
}

/// Waits (at most a second) until the server has accepted all but a few
/// of the connections made so far. The kernel queues connections for
/// `accept` up to the listener's backlog (128 with std) and drops the
/// handshakes past it, which the client then retries a whole second
/// later: on a busy machine, connecting faster than the server accepts
/// would measure the retries, not the memory.
fn wait_for_accepts(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(1);
    while accept_queue(port).is_some_and(|queued| queued > 16) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// The length of the accept queue of the listener on 127.0.0.1:`port`:
/// for a listening socket, the `rx_queue` column of `/proc/net/tcp`
/// (Linux), whose listening sockets come first.
fn accept_queue(port: u16) -> Option<usize> {
    let local = format!("0100007F:{port:04X}");
    let file = std::fs::File::open("/proc/net/tcp").ok()?;
    for line in BufReader::new(file).lines() {
        let line = line.ok()?;
        let fields: Vec<&str> = line.split_whitespace().collect();
        // sl local_address rem_address st tx_queue:rx_queue ...
        if fields.len() > 4 && fields[1] == local && fields[3] == "0A" {
            let rx = fields[4].split(':').nth(1)?;
            return usize::from_str_radix(rx, 16).ok();
        }
    }
    None
}

/// In the server process: serve idle connections and report RSS. Returns
/// an exit code if this process is such a server.
pub fn serve_if_asked() -> Option<i32> {
    let args: Vec<String> = std::env::args().collect();
    let position = args.iter().position(|a| a == SERVER_FLAG)?;
    let runtime = args[position + 1].clone();
    let connections: usize = args[position + 2].parse().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Every runtime starts its machinery before the "before" reading.
    let report = move |word: &str| {
        println!("{word} {port} {}", rss_bytes());
        std::io::stdout().flush().unwrap();
    };
    match runtime.as_str() {
        "duet" => {
            let rt = duet::event_loop::Runtime::new().unwrap();
            rt.block_on(async {
                let listener = duet::event_loop::net::TcpListener::from_std(listener).unwrap();
                report("ready");
                for _ in 0..connections {
                    let (mut stream, _) = listener.accept().await.unwrap();
                    duet::event_loop::spawn(async move {
                        let mut buf = [0u8; 1024];
                        let _ = stream.read(&mut buf).await;
                    });
                }
                // Let every task reach its first read.
                duet::event_loop::yield_now().await;
                report("accepted");
            });
            wait_for_parent();
        }
        "tokio" => {
            use tokio::io::AsyncReadExt;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                listener.set_nonblocking(true).unwrap();
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                report("ready");
                for _ in 0..connections {
                    let (mut stream, _) = listener.accept().await.unwrap();
                    tokio::spawn(async move {
                        let mut buf = [0u8; 1024];
                        let _ = stream.read(&mut buf).await;
                    });
                }
                tokio::task::yield_now().await;
                report("accepted");
            });
            wait_for_parent();
        }
        "smol" => super::smol::idle_server(listener, connections, &report),
        _ => {
            let listener = duet::blocking::net::TcpListener::from_std(listener).unwrap();
            report("ready");
            let (started, all_started) = std::sync::mpsc::channel();
            for _ in 0..connections {
                let (mut stream, _) = listener.accept().unwrap();
                let started = started.clone();
                drop(duet::blocking::spawn(move || {
                    let mut buf = [0u8; 1024];
                    started.send(()).unwrap();
                    let _ = stream.read(&mut buf);
                }));
            }
            for _ in 0..connections {
                all_started.recv().unwrap();
            }
            report("accepted");
            wait_for_parent();
        }
    }
    Some(0)
}

/// Blocks until the measuring process closes this server's stdin.
pub fn wait_for_parent() {
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

/// The process's anonymous resident memory (heap, stacks): `RssAnon`, not
/// all of `VmRSS`. The rest of RSS is file pages, mostly the program's own
/// code, which the first accepts page in: 128 KB or more, depending on how
/// the build laid the code out, and nothing a connection keeps.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("RssAnon:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}
