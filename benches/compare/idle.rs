//! idle_connections: how much memory does a waiting connection cost?
//!
//! Each runtime's server runs in a child process of this bench (so its
//! resident memory is its own). It reports its RSS after binding, then
//! again once N connections are accepted and each has a task (or a
//! thread) blocked reading from it. The difference over N is the cost of
//! one idle connection: a future and its buffer on the event loops; a
//! thread, its stack pages and its buffer on the blocking runtime.

use super::table::Table;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

const CHILD_FLAG: &str = "--idle-child";

pub fn run(table: &mut Table, connections: usize) {
    let per_connection =
        ["event_loop", "tokio", "blocking"].map(|runtime| Some(measure(runtime, connections)));
    table.add(
        &format!("idle_connections {connections}: RSS/conn"),
        "B",
        true,
        per_connection,
    );
}

fn measure(runtime: &str, connections: usize) -> f64 {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([CHILD_FLAG, runtime, &connections.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = || lines.next().unwrap().unwrap();
    let ready = next(); // "ready PORT RSS"
    let mut words = ready.split_whitespace().skip(1);
    let port: u16 = words.next().unwrap().parse().unwrap();
    let before: f64 = words.next().unwrap().parse().unwrap();
    let clients: Vec<std::net::TcpStream> = (0..connections)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    let after: f64 = next().split_whitespace().nth(2).unwrap().parse().unwrap(); // "accepted PORT RSS"
    drop(clients);
    drop(child.stdin.take());
    child.wait().unwrap();
    (after - before) / connections as f64
}

/// In the child: serve idle connections and report RSS. Returns an exit
/// code if this process is a child, `None` if it is the bench itself.
pub fn run_child_if_asked() -> Option<i32> {
    let args: Vec<String> = std::env::args().collect();
    let position = args.iter().position(|a| a == CHILD_FLAG)?;
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
        "event_loop" => {
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

fn wait_for_parent() {
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}
