//! Fairness between connections: how long a quiet client's round trip
//! takes while another client streams as fast as it can, on duet's event
//! loop and on tokio's current-thread runtime, in one run.
//!
//! One echo server per runtime, on its own thread. A "streaming" client
//! writes 4 KiB chunks without pause (a second thread drains the echoes);
//! a "quiet" client makes one-byte round trips one after another and times
//! each. The same load, in the same process, for both runtimes.
//!
//! `cargo bench --bench fairness` (add `-- --quick` for fewer round trips).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

fn duet_server() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        use duet::event_loop::net::TcpListener;
        let rt = duet::event_loop::Runtime::new().unwrap();
        rt.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                stream.set_nodelay(true).unwrap();
                duet::event_loop::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    loop {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => {
                                if stream.write_all(&buf[..n]).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                });
            }
        });
    });
    rx.recv().unwrap()
}

fn tokio_server() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                stream.set_nodelay(true).unwrap();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    loop {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => {
                                if stream.write_all(&buf[..n]).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                });
            }
        });
    });
    rx.recv().unwrap()
}

/// Quiet round-trip latencies (sorted), with or without a streaming client.
fn quiet_round_trips(addr: SocketAddr, trips: usize, with_stream: bool) -> Vec<Duration> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut helpers = Vec::new();
    if with_stream {
        let stream = TcpStream::connect(addr).unwrap();
        let mut reader = stream.try_clone().unwrap();
        let mut writer = stream;
        let stop_w = stop.clone();
        helpers.push(thread::spawn(move || {
            let chunk = [b'x'; 4096];
            while !stop_w.load(Ordering::Relaxed) {
                if writer.write_all(&chunk).is_err() {
                    return;
                }
            }
            let _ = writer.shutdown(std::net::Shutdown::Write);
        }));
        helpers.push(thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    return;
                }
            }
        }));
        thread::sleep(Duration::from_millis(50)); // let the stream get going
    }
    let mut quiet = TcpStream::connect(addr).unwrap();
    quiet.set_nodelay(true).unwrap();
    let mut times = Vec::with_capacity(trips);
    let mut byte = [0u8; 1];
    for _ in 0..trips {
        let begun = Instant::now();
        quiet.write_all(b"q").unwrap();
        quiet.read_exact(&mut byte).unwrap();
        times.push(begun.elapsed());
    }
    stop.store(true, Ordering::Relaxed);
    for helper in helpers {
        helper.join().unwrap();
    }
    times.sort();
    times
}

fn show(name: &str, times: &[Duration]) {
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "  {name:<34} p50 {:>9.3} ms   p99 {:>9.3} ms   max {:>9.3} ms",
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3,
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let trips = if quick { 500 } else { 3000 };
    println!("fairness: {trips} one-byte round trips of a quiet client");
    let duet = duet_server();
    let tokio = tokio_server();
    for (name, addr) in [("duet event_loop", duet), ("tokio current-thread", tokio)] {
        show(
            &format!("{name}, alone"),
            &quiet_round_trips(addr, trips, false),
        );
        show(
            &format!("{name}, beside a stream"),
            &quiet_round_trips(addr, trips, true),
        );
    }
}
