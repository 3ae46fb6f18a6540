//! Running child processes: a timeout, captured output, and a process-wide limit on how
//! many children run at once (the machine has few cores and the tests run in parallel).

use std::fmt;
use std::io::{self, Read};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Exited(i32),
    Signalled(i32),
    TimedOut,
}

impl Status {
    fn from_exit(status: ExitStatus) -> Status {
        match (status.code(), status.signal()) {
            (Some(code), _) => Status::Exited(code),
            (None, Some(signal)) => Status::Signalled(signal),
            (None, None) => Status::Signalled(0),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Exited(code) => write!(f, "exit code {code}"),
            Status::Signalled(signal) => write!(f, "killed by signal {signal}"),
            Status::TimedOut => f.write_str("timed out (killed)"),
        }
    }
}

#[derive(Debug)]
pub struct Output {
    pub status: Status,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` (stdin closed, output captured) while holding a job slot; kills it after
/// `timeout`.
pub fn run(cmd: &mut Command, timeout: Duration) -> io::Result<Output> {
    let _slot = JobSlot::acquire();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn()?;
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Status::from_exit(status);
        }
        if start.elapsed() > timeout {
            // The child may exit on its own just now: then kill fails harmlessly.
            let _ = child.kill();
            child.wait()?;
            break Status::TimedOut;
        }
        thread::sleep(Duration::from_millis(2));
    };
    Ok(Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    })
}

/// Runs a build step: `Ok` with its output on exit code 0, otherwise an error naming
/// `what` with the tail of its stderr.
pub fn run_checked(cmd: &mut Command, timeout: Duration, what: &str) -> Result<Output, String> {
    let output = run(cmd, timeout).map_err(|e| format!("{what}: cannot run {cmd:?}: {e}"))?;
    if output.status == Status::Exited(0) {
        return Ok(output);
    }
    Err(format!(
        "{what} failed ({}): {cmd:?}\n--- stderr (tail) ---\n{}\n--- stdout (tail) ---\n{}",
        output.status,
        tail(&output.stderr, 60),
        tail(&output.stdout, 20)
    ))
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Number of children allowed to run at once: the number of cores.
pub fn jobs() -> usize {
    thread::available_parallelism().map_or(2, usize::from)
}

static RUNNING: Mutex<usize> = Mutex::new(0);
static SLOT_FREED: Condvar = Condvar::new();

/// A process-wide job slot, held while a child runs.
struct JobSlot;

impl JobSlot {
    fn acquire() -> JobSlot {
        let mut running = RUNNING.lock().unwrap();
        while *running >= jobs() {
            running = SLOT_FREED.wait(running).unwrap();
        }
        *running += 1;
        JobSlot
    }
}

impl Drop for JobSlot {
    fn drop(&mut self) {
        *RUNNING.lock().unwrap() -= 1;
        SLOT_FREED.notify_one();
    }
}

/// `f` applied to every item by `jobs()` worker threads; results in item order.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    thread::scope(|scope| {
        for _ in 0..jobs().min(items.len()) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(index) else { break };
                let result = f(item);
                results.lock().unwrap()[index] = Some(result);
            });
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every item mapped"))
        .collect()
}
