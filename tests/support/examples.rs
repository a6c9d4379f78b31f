//! Running the built examples as the programs they are, without ever
//! hanging a test.
//!
//! - [`example`] finds an example's binary, building the examples first.
//! - [`Running`] is a child process that is killed when dropped, so a
//!   failing test leaves nothing behind; [`Running::finish`] waits for it
//!   to exit, with a deadline. What it prints on stderr is passed on to
//!   the test's own stderr and kept, for [`Running::stderr`].
//! - [`Server`] starts a server example on a free port, reads the port
//!   from its first line (`listening on 127.0.0.1:PORT`, with a deadline)
//!   and makes connections whose reads and writes time out.
//!
//! Used by `tests/examples_network.rs`, `tests/examples_chat.rs`,
//! `tests/trace_output.rs` and `tests/learning_path.rs`
//! (`mod support;`, then `use support::examples::*;`).
//!
//! Read next: `tests/examples_network.rs`.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

/// How long a server may take to print its first line.
pub const STARTUP: Duration = Duration::from_secs(30);
/// How long any one socket read or write may take.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// The path of a built example, built first if need be.
///
/// A plain `cargo test` builds the examples, but `cargo test --test
/// examples_network` does not, and would run stale (or missing) binaries.
/// So the first test to get here runs `cargo build --examples` for the
/// same profile; when nothing changed, that takes a fraction of a second.
///
/// `DUET_EXAMPLES_DIR=DIR` runs the binaries in `DIR` instead, unbuilt:
/// the way to run these tests against the examples of another commit
/// (built in a checkout of their own) and see what they did before.
pub fn example(name: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("DUET_EXAMPLES_DIR") {
        return PathBuf::from(dir).join(name);
    }
    static BUILT: Mutex<bool> = Mutex::new(false);
    // .../target/<profile>/deps/<test binary>-HASH
    let exe = std::env::current_exe().expect("the test binary has a path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let mut built = BUILT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !*built {
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .args(["build", "--examples", "--manifest-path"])
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"));
        if profile_dir.ends_with("release") {
            cargo.arg("--release");
        }
        // Bounded too: another cargo may hold the build lock for a while,
        // but not for ten minutes.
        let mut build = cargo.arg("--quiet").spawn().expect("cargo runs");
        let deadline = Instant::now() + Duration::from_secs(600);
        let status = loop {
            if let Some(status) = build.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = build.kill();
                panic!("cargo build --examples took over ten minutes");
            }
            thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "cargo build --examples failed");
        *built = true;
    }
    profile_dir.join("examples").join(name)
}

/// A running example, its stdout piped to us. Dropping it kills the
/// process.
pub struct Running {
    pub name: String,
    pub child: Child,
    /// Everything it printed on stderr so far.
    stderr: Arc<Mutex<String>>,
    /// Disconnected once its stderr is at its end: the reading thread
    /// holds the sender and drops it there.
    stderr_done: mpsc::Receiver<()>,
}

impl Running {
    /// Starts the example `name` with `args`.
    pub fn start(name: &str, args: &[&str]) -> Running {
        Running::start_with(name, args, |_| {})
    }

    /// Starts the example `name` with `args`, after `configure` has had
    /// its say on the command (to set the environment, say).
    pub fn start_with(name: &str, args: &[&str], configure: impl FnOnce(&mut Command)) -> Running {
        let mut command = Command::new(example(name));
        command.args(args);
        configure(&mut command);
        Running::start_command(name, command)
    }

    /// Runs `command`, which runs the example `name` in some way (under a
    /// wrapper such as `prlimit`, say), with its stdout and stderr piped.
    pub fn start_command(name: &str, mut command: Command) -> Running {
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {name}: {error}"));
        // A thread passes each stderr line on (a failing test shows them)
        // and keeps it; it ends when the process does.
        let stderr = Arc::new(Mutex::new(String::new()));
        let (pipe, kept, prefix) = (
            child.stderr.take().expect("stderr is piped"),
            stderr.clone(),
            name.to_string(),
        );
        let (done, stderr_done) = mpsc::channel::<()>();
        thread::spawn(move || {
            let _done = done;
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                eprintln!("[{prefix}] {line}");
                let mut kept = kept.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                kept.push_str(&line);
                kept.push('\n');
            }
        });
        Running {
            name: name.to_string(),
            child,
            stderr,
            stderr_done,
        }
    }

    /// What the process has printed on stderr so far.
    pub fn stderr(&self) -> String {
        let kept = self.stderr.lock();
        kept.unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Waits until the process's stderr contains `text`, failing the test
    /// after `patience`. (Its stderr reaches us through a pipe and a
    /// thread, a little after the process wrote it.)
    pub fn wait_for_stderr(&self, text: &str, patience: Duration) {
        let deadline = Instant::now() + patience;
        while !self.stderr().contains(text) {
            assert!(
                Instant::now() < deadline,
                "{} did not print {text:?} on stderr within {patience:?}; it printed:\n{}",
                self.name,
                self.stderr()
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until the process exits, failing the test after `patience`;
    /// returns its exit status and everything it printed on stdout. Its
    /// stderr is complete in [`Running::stderr`] by then.
    pub fn finish(&mut self, patience: Duration) -> (ExitStatus, String) {
        let name = &self.name;
        // A thread reads stdout meanwhile: a child that prints more than a
        // pipe holds would otherwise block, and never exit.
        let mut stdout = self.child.stdout.take().expect("stdout is piped");
        let (output_tx, output) = mpsc::channel();
        thread::spawn(move || {
            let mut text = String::new();
            let _ = output_tx.send(stdout.read_to_string(&mut text).map(|_| text));
        });
        let deadline = Instant::now() + patience;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not exit within {patience:?}"
            );
            thread::sleep(Duration::from_millis(20));
        };
        // It has exited, so its stdout is at EOF; the wait is a formality
        // (unless it left a child of its own holding the pipe).
        let output = match output.recv_timeout(IO_TIMEOUT) {
            Ok(Ok(text)) => text,
            other => panic!("{name}'s stdout could not be read: {other:?}"),
        };
        if let Ok(()) | Err(mpsc::RecvTimeoutError::Timeout) =
            self.stderr_done.recv_timeout(IO_TIMEOUT)
        {
            panic!("{name}'s stderr was still open after it exited");
        }
        (status, output)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running server example, listening on a port the OS picked.
pub struct Server {
    pub process: Running,
    pub port: u16,
}

impl Server {
    /// Starts `name` on a free port and waits (boundedly) for its first line.
    pub fn start(name: &str) -> Server {
        Server::start_with_args(name, &[])
    }

    /// As [`Server::start`], with more flags after `--addr 127.0.0.1:0`.
    pub fn start_with_args(name: &str, args: &[&str]) -> Server {
        let mut command = Command::new(example(name));
        command.args(["--addr", "127.0.0.1:0"]).args(args);
        Server::start_command(name, command)
    }

    /// As [`Server::start`], running `command`, which must start the
    /// example `name` listening on port 0 of 127.0.0.1.
    pub fn start_command(name: &str, command: Command) -> Server {
        let mut process = Running::start_command(name, command);
        let stdout = process.child.stdout.take().expect("stdout is piped");
        // A thread does the blocking read, so we can wait with a deadline;
        // it then drains the rest, so the server never blocks on a full pipe.
        let (first_line, receiver) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = first_line.send(lines.next());
            lines.for_each(drop);
        });
        // `process` is the kill guard: if this panics, dropping it ends
        // the server.
        let line = match receiver.recv_timeout(STARTUP) {
            Ok(Some(Ok(line))) => line,
            other => panic!("{name} printed no first line: {other:?}"),
        };
        let port = line
            .strip_prefix("listening on 127.0.0.1:")
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("{name}'s first line is {line:?}"));
        Server { process, port }
    }

    /// A new connection to the server, with bounded reads and writes.
    pub fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("the server accepts");
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        stream
    }
}

impl Server {
    /// The server's resident memory (`VmRSS` in `/proc/PID/status`), in
    /// bytes; Linux only.
    pub fn resident_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.process.child.id()))
            .expect("/proc/PID/status is readable");
        let kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().strip_suffix(" kB"))
            .and_then(|number| number.trim().parse().ok())
            .expect("a VmRSS line");
        kib * 1024
    }

    /// CPU time the server has used so far (user + system), from
    /// `/proc/PID/stat`; Linux only, in clock ticks of 10 ms.
    pub fn cpu_time(&self) -> Duration {
        cpu_time(&format!("/proc/{}/stat", self.process.child.id()))
    }
}

/// User + system CPU time from a `/proc/.../stat` file, assuming 100
/// clock ticks a second (what Linux reports on every common platform).
pub fn cpu_time(stat_path: &str) -> Duration {
    let stat = std::fs::read_to_string(stat_path).expect("a stat file");
    // Fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .expect("(comm)")
        .1
        .split_whitespace()
        .collect();
    // utime and stime are fields 14 and 15; fields[0] is field 3.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}
