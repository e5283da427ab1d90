//! The hub's fan-out, end to end: publish-to-receive latency (p50/p99) and the messages per
//! second delivered to every stream, through Redis with 3 instances × 1,000 event streams,
//! and through the in-memory hub with the same 3,000 streams on one instance, in one run.
//!
//! ```text
//! cargo bench --features redis --bench hub
//! STREAMS=1000 MESSAGES=200 RATE=20 BURST=1000 cargo bench --features redis --bench hub
//! ```
//! The instances are the `sse_chat` example (this binary in server mode, one tokio worker
//! each) and, for Redis, a `redis-server` of its own without persistence; all of them are
//! pinned to CPU 0 when `taskset` exists, the clients (this process) to CPU 1.
//!
//! Each scenario opens the streams (the example answers a stream once its subscription is
//! fixed), then:
//! 1. latency: `MESSAGES` publishes at `RATE` per second, `POST /messages` round-robin over
//!    the instances; each delivery's latency is from just before its POST was sent to the
//!    moment a client parsed the event;
//! 2. throughput: `BURST` publishes from 8 concurrent publishers, as fast as the system
//!    delivers; messages/s is `BURST` over the time from the first publish to the last
//!    delivery on the last stream.
//!
//! Server CPU (utime + stime of the instances and Redis, from `/proc`) per delivered event
//! is reported too: steadier than times on a shared machine.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

#[path = "../examples/sse_chat.rs"]
#[allow(dead_code)]
mod sse_chat;

const SERVER_MODE: &str = "BAREASGI_HUB_BENCH_SERVER";

fn env_or(name: &str, default: usize) -> usize {
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
    if let Ok(hub) = std::env::var(SERVER_MODE) {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
            .block_on(server(&hub));
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(bench());
    }
}

/// Server mode: the sse_chat example on `hub` ("memory" or a Redis URL), until stdin closes.
async fn server(hub: &str) {
    let hub = if hub == "memory" {
        bareasgi::hub::Hub::memory()
    } else {
        bareasgi::hub::Hub::redis(hub).unwrap()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("{}", listener.local_addr().unwrap());
    tokio::spawn(async {
        let mut stdin = tokio::io::stdin();
        let mut sink = [0u8; 64];
        while stdin.read(&mut sink).await.is_ok_and(|n| n > 0) {}
        std::process::exit(0);
    });
    sse_chat::app(hub).serve_listener(listener).await.unwrap();
}

fn pinned(cpu: &str, program: &str) -> Command {
    if std::process::Command::new("taskset")
        .arg("-V")
        .output()
        .is_ok()
    {
        let mut command = Command::new("taskset");
        command.arg("-c").arg(cpu).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// utime + stime of a process, in µs.
fn cpu_micros(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields.get(11..13).map_or(0, |times| {
        times.iter().filter_map(|t| t.parse::<u64>().ok()).sum()
    });
    ticks * 10_000 // USER_HZ is 100 on Linux
}

struct Redis {
    process: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.process.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn start_redis() -> Redis {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("bareasgi-hub-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let process = pinned("0", "redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .arg("--dir")
        .arg(&dir)
        .args(["--save", "", "--appendonly", "no", "--loglevel", "warning"])
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("redis-server must be installed (apt-get install redis-server)");
    for _ in 0..500 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Redis { process, port, dir };
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("redis-server did not start");
}

struct Instance {
    process: Child,
    addr: String,
}

async fn start_instance(hub: &str) -> Instance {
    let exe = std::env::current_exe().unwrap();
    let mut process = pinned("0", exe.to_str().unwrap())
        .env(SERVER_MODE, hub)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
    let addr = lines.next_line().await.unwrap().unwrap();
    Instance { process, addr }
}

/// Opens `GET /events` and reads the response head: the subscription is fixed by then.
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
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    socket
}

/// What every stream reader shares: when each message was published (ns since `base`,
/// 0 until then), and how many deliveries and gaps there were.
struct Shared {
    base: Instant,
    published: Vec<AtomicU64>,
    delivered: AtomicUsize,
    missed: AtomicUsize,
    latency_phase: usize,
}

/// Reads events until the stream ends (the instance goes away), returning the latencies in
/// µs of the latency phase's messages and of the throughput phase's.
async fn read_stream(mut socket: TcpStream, shared: Arc<Shared>) -> (Vec<u32>, Vec<u32>) {
    let (mut paced, mut burst) = (Vec::new(), Vec::new());
    let mut pending: Vec<u8> = Vec::new();
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let n = match socket.read(&mut buffer).await {
            Ok(0) | Err(_) => return (paced, burst),
            Ok(n) => n,
        };
        let now = shared.base.elapsed().as_nanos() as u64;
        pending.extend_from_slice(&buffer[..n]);
        // Each event is one chunk, "<hex>\r\nid: <id>\ndata: <seq> <padding>\n\n\r\n".
        let mut consumed = 0;
        while let Some(end) = find(&pending[consumed..], b"\n\n") {
            let frame = &pending[consumed..consumed + end];
            if find(frame, b"event: missed").is_some() {
                shared.missed.fetch_add(1, Ordering::Relaxed);
            } else if let Some(start) = find(frame, b"data: ") {
                let data = &frame[start + 6..];
                let digits = data.iter().take_while(|b| b.is_ascii_digit()).count();
                if let Ok(seq) = std::str::from_utf8(&data[..digits])
                    .unwrap()
                    .parse::<usize>()
                    && let Some(sent) = shared.published.get(seq)
                {
                    let sent = sent.load(Ordering::Relaxed);
                    let micros = (now.saturating_sub(sent) / 1000) as u32;
                    if seq < shared.latency_phase {
                        paced.push(micros);
                    } else {
                        burst.push(micros);
                    }
                    shared.delivered.fetch_add(1, Ordering::Relaxed);
                }
            }
            consumed += end + 2;
        }
        pending.drain(..consumed);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// One keep-alive HTTP/1.1 connection that posts messages.
struct Publisher {
    socket: TcpStream,
    buffer: Vec<u8>,
}

impl Publisher {
    async fn connect(addr: &str) -> Self {
        let socket = TcpStream::connect(addr).await.unwrap();
        socket.set_nodelay(true).unwrap();
        Self {
            socket,
            buffer: vec![0u8; 4096],
        }
    }

    async fn publish(&mut self, text: &str) {
        let request = format!(
            "POST /messages HTTP/1.1\r\nhost: bench\r\ncontent-length: {}\r\n\r\n{text}",
            text.len()
        );
        self.socket.write_all(request.as_bytes()).await.unwrap();
        // "HTTP/1.1 201 Created\r\n...content-length: N\r\n\r\n<id>": read the whole answer.
        let mut reply = Vec::new();
        loop {
            let n = self.socket.read(&mut self.buffer).await.unwrap();
            assert!(n > 0, "the instance closed the connection");
            reply.extend_from_slice(&self.buffer[..n]);
            if let Some(head_end) = find(&reply, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&reply[..head_end]).to_lowercase();
                assert!(head.starts_with("http/1.1 201"), "publish refused: {head}");
                let length: usize = head
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length: "))
                    .and_then(|value| value.trim().parse().ok())
                    .unwrap_or(0);
                if reply.len() >= head_end + 4 + length {
                    return;
                }
            }
        }
    }
}

fn message(seq: usize) -> String {
    // About the size of a chat line with its JSON around it.
    format!("{seq} {}", "x".repeat(100))
}

struct Outcome {
    streams: usize,
    /// Redis's CPU time during the burst, in µs.
    redis_micros_burst: u64,
    paced: Vec<u32>,
    burst: Vec<u32>,
    burst_seconds: f64,
    cpu_micros_paced: u64,
    cpu_micros_burst: u64,
    deliveries_paced: usize,
    deliveries_burst: usize,
    missed: usize,
}

async fn scenario(hubs: &[String], streams_per_instance: usize, redis_pid: Option<u32>) -> Outcome {
    let messages = env_or("MESSAGES", 200);
    let rate = env_or("RATE", 20) as f64;
    let burst = env_or("BURST", 1000);
    let mut instances = Vec::new();
    for hub in hubs {
        instances.push(start_instance(hub).await);
    }
    let mut pids: Vec<u32> = instances
        .iter()
        .map(|instance| instance.process.id().unwrap())
        .collect();
    pids.extend(redis_pid);
    let redis_cpu = || redis_pid.map_or(0, cpu_micros);
    let cpu = || pids.iter().map(|&pid| cpu_micros(pid)).sum::<u64>();
    let shared = Arc::new(Shared {
        base: Instant::now(),
        published: (0..messages + burst).map(|_| AtomicU64::new(0)).collect(),
        delivered: AtomicUsize::new(0),
        missed: AtomicUsize::new(0),
        latency_phase: messages,
    });
    let mut readers = Vec::new();
    for instance in &instances {
        for batch in 0..streams_per_instance.div_ceil(250) {
            let size = 250.min(streams_per_instance - batch * 250);
            let sockets = join_all((0..size).map(|_| open_stream(&instance.addr))).await;
            for socket in sockets {
                readers.push(tokio::spawn(read_stream(socket, shared.clone())));
            }
        }
    }
    let streams = readers.len();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let wait_for = |count: usize, limit: Duration| {
        let shared = shared.clone();
        async move {
            let deadline = Instant::now() + limit;
            while shared.delivered.load(Ordering::Relaxed) < count && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };

    // 1. Paced publishing.
    let mut publishers = Vec::new();
    for instance in &instances {
        publishers.push(Publisher::connect(&instance.addr).await);
    }
    let cpu_before = cpu();
    let mut clock = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    for seq in 0..messages {
        clock.tick().await;
        shared.published[seq].store(shared.base.elapsed().as_nanos() as u64, Ordering::Relaxed);
        let target = seq % publishers.len();
        publishers[target].publish(&message(seq)).await;
    }
    wait_for(messages * streams, Duration::from_secs(30)).await;
    let cpu_micros_paced = cpu() - cpu_before;
    let deliveries_paced = shared.delivered.load(Ordering::Relaxed);

    // 2. A burst from 8 concurrent publishers, round-robin over the instances.
    let next = Arc::new(AtomicUsize::new(messages));
    let cpu_before = cpu();
    let redis_cpu_before = redis_cpu();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for k in 0..8 {
        let mut publisher = Publisher::connect(&instances[k % instances.len()].addr).await;
        let (next, shared) = (next.clone(), shared.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let seq = next.fetch_add(1, Ordering::Relaxed);
                if seq >= messages + burst {
                    return;
                }
                shared.published[seq]
                    .store(shared.base.elapsed().as_nanos() as u64, Ordering::Relaxed);
                publisher.publish(&message(seq)).await;
            }
        }));
    }
    join_all(tasks).await;
    wait_for((messages + burst) * streams, Duration::from_secs(180)).await;
    let burst_seconds = started.elapsed().as_secs_f64();
    let cpu_micros_burst = cpu() - cpu_before;
    let redis_micros_burst = redis_cpu() - redis_cpu_before;
    let deliveries_burst = shared.delivered.load(Ordering::Relaxed) - deliveries_paced;

    for instance in &mut instances {
        let _ = instance.process.kill().await;
    }
    let (mut paced, mut burst_latencies) = (Vec::new(), Vec::new());
    for reader in readers {
        let (p, b) = reader.await.unwrap();
        paced.extend(p);
        burst_latencies.extend(b);
    }
    paced.sort_unstable();
    burst_latencies.sort_unstable();
    Outcome {
        streams,
        redis_micros_burst,
        paced,
        burst: burst_latencies,
        burst_seconds,
        cpu_micros_paced,
        cpu_micros_burst,
        deliveries_paced,
        deliveries_burst,
        missed: shared.missed.load(Ordering::Relaxed),
    }
}

fn redis_cli(port: u16, args: &[&str]) -> String {
    std::process::Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).into_owned())
        .unwrap_or_default()
}

fn percentile(sorted: &[u32], p: f64) -> String {
    if sorted.is_empty() {
        return "—".into();
    }
    let micros = sorted[((sorted.len() - 1) as f64 * p) as usize];
    if micros >= 10_000 {
        format!("{:.1} ms", f64::from(micros) / 1000.0)
    } else {
        format!("{micros} µs")
    }
}

async fn bench() {
    // This process (the clients) on CPU 1; the servers get CPU 0.
    let _ = std::process::Command::new("taskset")
        .args(["-p", "-c", "1", &std::process::id().to_string()])
        .output();
    let streams = env_or("STREAMS", 1000);
    let burst = env_or("BURST", 1000);
    let messages = env_or("MESSAGES", 200);
    let redis = start_redis().await;
    let redis_pid = redis.process.id().unwrap();
    let url = format!("redis://127.0.0.1:{}/", redis.port);
    let three = vec![url.clone(), url.clone(), url];
    let memory = vec!["memory".to_owned()];
    // One stream per instance first: the hub's own latency, without a fan-out to wait for.
    let plan = [
        ("Redis", &three, 1),
        ("memory", &memory, 3),
        ("Redis", &three, streams),
        ("memory", &memory, 3 * streams),
    ];
    let mut runs = Vec::new();
    for (hub, hubs, per_instance) in plan {
        redis_cli(redis.port, &["CONFIG", "RESETSTAT"]);
        let outcome = scenario(hubs, per_instance, (hub == "Redis").then_some(redis_pid)).await;
        let label = format!("{hub}, {} instance(s) × {per_instance} streams", hubs.len());
        if hub == "Redis" {
            let stats = redis_cli(redis.port, &["INFO", "commandstats"]);
            let calls: Vec<String> = stats
                .lines()
                .filter(|line| line.starts_with("cmdstat_x"))
                .filter_map(|line| {
                    let (name, rest) = line.strip_prefix("cmdstat_")?.split_once(':')?;
                    Some(format!(
                        "{name} {}",
                        rest.split(',').next()?.trim_start_matches("calls=")
                    ))
                })
                .collect();
            eprintln!("{label}: Redis calls: {}", calls.join(", "));
        }
        eprintln!("done: {label}");
        runs.push((label, hub, outcome));
    }
    println!(
        "\n| hub | paced p50 | paced p99 | burst: messages/s to all streams | deliveries/s | burst p50 | burst p99 | server CPU per delivery (paced / burst) | Redis CPU per burst message | missed |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (label, hub, outcome) in &runs {
        let per_delivery = |micros: u64, deliveries: usize| {
            format!("{:.2} µs", micros as f64 / deliveries.max(1) as f64)
        };
        let redis_per_message = if *hub == "Redis" {
            format!(
                "{:.1} µs ({:.0}% of a core)",
                outcome.redis_micros_burst as f64 / burst as f64,
                outcome.redis_micros_burst as f64 / outcome.burst_seconds / 1e4
            )
        } else {
            "—".to_owned()
        };
        println!(
            "| {label} | {} | {} | {:.0} | {:.0} | {} | {} | {} / {} | {redis_per_message} | {} |",
            percentile(&outcome.paced, 0.5),
            percentile(&outcome.paced, 0.99),
            burst as f64 / outcome.burst_seconds,
            outcome.deliveries_burst as f64 / outcome.burst_seconds,
            percentile(&outcome.burst, 0.5),
            percentile(&outcome.burst, 0.99),
            per_delivery(outcome.cpu_micros_paced, outcome.deliveries_paced),
            per_delivery(outcome.cpu_micros_burst, outcome.deliveries_burst),
            outcome.missed,
        );
    }
    let median = |outcome: &Outcome| f64::from(outcome.paced[outcome.paced.len() / 2].max(1));
    for pair in runs.chunks(2) {
        let [(redis_label, _, redis_run), (_, _, memory_run)] = pair else {
            continue;
        };
        println!(
            "\n{redis_label} against memory with as many streams: paced p50 {:.2}×, burst messages/s {:.2}×",
            median(redis_run) / median(memory_run),
            memory_run.burst_seconds / redis_run.burst_seconds,
        );
    }
    for (label, _, outcome) in &runs {
        let streams = outcome.streams;
        println!(
            "{label}: {} paced + {} burst deliveries (expected {} + {})",
            outcome.deliveries_paced,
            outcome.deliveries_burst,
            messages * streams,
            burst * streams,
        );
    }
    drop(redis);
}
