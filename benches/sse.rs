//! Server-sent events: delivery lag (the handler's stream yields an event → the client has
//! read it) at p50/p99/max for 1 and 1,000 concurrent streams, and server memory per open
//! stream.
//!
//! ```text
//! cargo bench --bench sse                      # TICKS=50 INTERVAL_MS=100 by default
//! ```
//! The server runs in a child process (this binary in server mode) pinned to CPU 0 when
//! `taskset` exists; the clients run here, pinned to CPU 1. Each event carries the wall-clock
//! time at which the server's stream yielded it; the client subtracts it from the time it
//! parsed the event. Both processes share the machine's clock.

use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bareasgi::sse::{Event, EventStream};
use bareasgi::{Application, HttpRequest};
use futures_util::future::join_all;
use futures_util::stream;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::broadcast;

const SERVER_MODE: &str = "BAREASGI_SSE_BENCH_SERVER";

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return; // `cargo test --benches` asks bench binaries for their tests
    }
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    if std::env::var(SERVER_MODE).is_ok() {
        runtime.block_on(server());
    } else {
        runtime.block_on(bench());
    }
}

/// Server mode: `/events` streams one event per tick of a shared ticker; each stream stamps
/// the event with the time it yields it.
async fn server() {
    let interval = Duration::from_millis(env_or("INTERVAL_MS", 100));
    let (ticks, _) = broadcast::channel::<()>(4);
    let ticker = ticks.clone();
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/events", move |_req: HttpRequest| {
            let receiver = ticker.subscribe();
            async move {
                EventStream::new(stream::unfold(receiver, |mut receiver| async move {
                    receiver.recv().await.ok()?;
                    Some((Event::data(now_micros().to_string()), receiver))
                }))
            }
        });
    app.http_router
        .add(["POST"], "/start", |_req: HttpRequest| async { "ok" });
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1024).unwrap();
    println!("{}", listener.local_addr().unwrap());
    // Ticks start when the parent writes "start" on stdin and stop at EOF.
    tokio::spawn(async move {
        let mut commands = BufReader::new(tokio::io::stdin()).lines();
        while let Ok(Some(command)) = commands.next_line().await {
            if command == "start" {
                let ticks = ticks.clone();
                tokio::spawn(async move {
                    let mut clock = tokio::time::interval(interval);
                    loop {
                        clock.tick().await;
                        let _ = ticks.send(());
                    }
                });
            }
        }
        std::process::exit(0);
    });
    app.serve_listener(listener).await.unwrap();
}

fn pinned(cpu: &str, program: &std::path::Path) -> tokio::process::Command {
    if std::process::Command::new("taskset")
        .arg("-V")
        .output()
        .is_ok()
    {
        let mut command = tokio::process::Command::new("taskset");
        command.arg("-c").arg(cpu).arg(program);
        command
    } else {
        tokio::process::Command::new(program)
    }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

async fn bench() {
    // Pin this (client) process to CPU 1, the server to CPU 0.
    let _ = std::process::Command::new("taskset")
        .args(["-p", "-c", "1", &std::process::id().to_string()])
        .output();
    let ticks = env_or("TICKS", 50) as usize;
    println!("| streams | events | p50 lag | p99 lag | max lag | server RSS per open stream |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for streams in [1usize, 1000] {
        let (samples, per_stream_kib) = run(streams, ticks).await;
        let percentile = |p: f64| samples[((samples.len() - 1) as f64 * p) as usize];
        // One stream's RSS delta is mostly one-off allocations, not a per-stream cost.
        let memory = if streams > 1 {
            format!("{per_stream_kib:.1} KiB")
        } else {
            "—".into()
        };
        println!(
            "| {streams} | {} | {} µs | {} µs | {} µs | {memory} |",
            samples.len(),
            percentile(0.5),
            percentile(0.99),
            samples.last().unwrap(),
        );
    }
}

/// Opens `streams` event streams, lets `ticks` events through, returns the sorted lags in µs
/// and the server's RSS growth per stream.
async fn run(streams: usize, ticks: usize) -> (Vec<u64>, f64) {
    let exe = std::env::current_exe().unwrap();
    let mut child = pinned("0", &exe)
        .env(SERVER_MODE, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let mut control = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = lines.next_line().await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = rss_kib(pid);
    let mut sockets = Vec::with_capacity(streams);
    for batch in 0..streams.div_ceil(250) {
        let size = 250.min(streams - batch * 250);
        sockets.extend(join_all((0..size).map(|_| open_stream(&addr))).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let per_stream = rss_kib(pid).saturating_sub(before) as f64 / streams as f64;
    control.write_all(b"start\n").await.unwrap();
    let lags = join_all(sockets.into_iter().map(|socket| read_events(socket, ticks))).await;
    drop(control);
    let _ = child.kill().await;
    let mut samples: Vec<u64> = lags.into_iter().flatten().collect();
    samples.sort_unstable();
    (samples, per_stream)
}

async fn open_stream(addr: &str) -> TcpStream {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    socket.set_nodelay(true).unwrap();
    socket
        .write_all(b"GET /events HTTP/1.1\r\nhost: bench\r\n\r\n")
        .await
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        socket.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    socket
}

/// Reads `count` events, returning how long after its stamp each was parsed, in µs.
async fn read_events(mut socket: TcpStream, count: usize) -> Vec<u64> {
    let mut lags = Vec::with_capacity(count);
    let mut pending = Vec::new();
    let mut buffer = vec![0u8; 16 * 1024];
    while lags.len() < count {
        let n = socket.read(&mut buffer).await.unwrap();
        assert!(n > 0, "the server closed the stream");
        let read_at = now_micros();
        pending.extend_from_slice(&buffer[..n]);
        // Each event is one chunk: "<hex>\r\ndata: <µs>\n\n\r\n".
        while let Some(start) = find(&pending, b"data: ") {
            let Some(end) = find(&pending[start..], b"\n\n") else {
                break;
            };
            let stamp: u64 = std::str::from_utf8(&pending[start + 6..start + end])
                .unwrap()
                .parse()
                .unwrap();
            lags.push(read_at.saturating_sub(stamp));
            pending.drain(..start + end + 2);
        }
    }
    lags
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
