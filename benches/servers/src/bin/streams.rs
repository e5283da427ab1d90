//! The event-stream harness: `streams` (run by `benches/streams.sh`, which builds it).
//!
//! For each server (`sse_bareasgi`, the `sse_chat` example on the in-memory hub;
//! `sse_axum`, the same routes in axum 0.8; and `sse_floor`, no framework at all, one
//! `write(2)` per stream in a loop: what the kernel alone charges), in one run:
//!
//! 1. starts it pinned to `SERVER_CPU`, warms it up (64 streams, one broadcast, closed),
//!    and notes its VmRSS and CPU time;
//! 2. starts `sse_clients` processes pinned to `CLIENT_CPU` (at most `PER_CLIENT` streams
//!    each, each from two loopback source addresses of its own, never used before in the
//!    run), tells them all to open their streams at once and times it until every stream has
//!    its response head;
//! 3. publishes `BROADCASTS` messages one at a time (`POST /messages`, stamped with the time
//!    just before the request is written), waiting until every stream has each one;
//! 4. reports, per server: streams, time to open them, server RSS growth per stream (after
//!    opening and after the broadcasts), per-delivery lag p50/p99/max over every delivery,
//!    server CPU time per delivered event (and the user-space share of it), the clients' CPU
//!    per delivered event, server CPU per accepted stream, and the growth of the kernel's
//!    slab memory per stream (sockets, files, epoll entries of both ends; in no RSS).
//!
//! Then, with `SCALE` > 0, the same with `SCALE` streams on `SCALE_SERVERS` bareasgi
//! processes sharing one port (`reuse_port`) and one Redis hub (a `redis-server` of its own),
//! clients in as many processes as `PER_CLIENT` needs.
//!
//! Settings (environment): `STREAMS` (19900), `BROADCASTS` (10), `PER_CLIENT` (10000),
//! `SERVERS` ("bareasgi axum floor"), `ROUNDS` (1; the servers alternate), `SCALE` (0),
//! `SCALE_SERVERS` (7), `SERVER_CPU` (0), `CLIENT_CPU` (1), `GAP_MS` (300, between broadcasts),
//! `CONCURRENCY` (256 connects in flight per client process), `PERF` (1: profile the
//! servers during the broadcasts with `perf record` at 499 Hz, when perf is there and
//! allowed, to tell the loopback receive work charged to them; 0: do not), `SPIN` (1: the
//! clients poll without sleeping during each broadcast; 0: they sleep between events).
//!
//! Why the clients spin: on loopback the kernel delivers a packet to the receiving socket
//! in the sender's system call, and when the receiving process sleeps in `epoll_wait` it
//! wakes it there too, with an inter-processor interrupt, which in a virtual machine is an
//! exit to the hypervisor. A client that keeps up sleeps between events, so every event
//! would cost the server a wake-up that on a network happens on the client's own machine
//! (about a third of the server's CPU per event here, and more the faster the server
//! writes). Spinning clients are never asleep; their CPU time then says nothing, and the
//! table leaves it out.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use bareasgi_bench_servers::streams::{
    PUBLISH_PATH, cpu_ns, cpu_ticks, is_listening, kernel_slab_kib, listen_overflows, message,
    open_files, raise_open_files, rss_kib, sysctl,
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::TcpStream;
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

struct Settings {
    bin: PathBuf,
    broadcasts: u32,
    per_client: usize,
    server_cpu: String,
    client_cpu: String,
    gap: Duration,
    concurrency: usize,
    perf: bool,
    spin: bool,
}

fn pinned(cpu: &str, program: &Path) -> Command {
    let mut command = Command::new("taskset");
    command.arg("-c").arg(cpu).arg(program);
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// A server process.
struct Server {
    child: Child,
    pid: u32,
}

async fn start_server(settings: &Settings, program: &str, args: &[String], port: u16) -> Server {
    let mut child = pinned(&settings.server_cpu, &settings.bin.join(program))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {program}: {error}"));
    let pid = child.id().expect("a running child");
    for _ in 0..500 {
        if is_listening(pid, port) {
            return Server { child, pid };
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{program} exited: {status}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{program} is not listening on {port} after 5 s");
}

/// A client process (`sse_clients`).
struct Client {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    streams: usize,
    capped: bool,
}

impl Client {
    async fn start(settings: &Settings, port: u16, streams: usize, sources: &str) -> Self {
        let mut child = pinned(&settings.client_cpu, &settings.bin.join("sse_clients"))
            .arg(format!("127.0.0.1:{port}"))
            .arg(streams.to_string())
            .arg(sources)
            .arg(settings.concurrency.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("cannot start sse_clients");
        let stdin = child.stdin.take().expect("piped");
        let lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        let mut client = Self {
            child,
            stdin,
            lines,
            streams,
            capped: false,
        };
        loop {
            let line = client.line().await;
            if let Some(rest) = line.strip_prefix("capped ") {
                client.capped = true;
                client.streams = rest
                    .split(' ')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
            }
            if line.starts_with("ready") {
                return client;
            }
        }
    }

    async fn line(&mut self) -> String {
        self.lines
            .next_line()
            .await
            .ok()
            .flatten()
            .expect("sse_clients ended early")
    }

    async fn send(&mut self, command: &str) {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await
            .expect("sse_clients ended early");
    }

    /// The words of the next line starting with `word`.
    async fn expect(&mut self, word: &str) -> Vec<u64> {
        loop {
            let line = self.line().await;
            if let Some(rest) = line.strip_prefix(word) {
                return rest
                    .split_whitespace()
                    .filter_map(|value| value.parse().ok())
                    .collect();
            }
        }
    }
}

/// `perf record` of the servers during the broadcasts, when `PERF` is not 0 and perf is
/// installed and allowed: what share of their CPU time went to the kernel's receive path
/// (`net_rx_action`). On loopback the kernel delivers a packet to the receiving socket in
/// the sender's context, so the clients' TCP receive work and their wake-ups are charged
/// to the server; on a network they run on the clients' machines.
struct Profile {
    child: Child,
    file: PathBuf,
}

impl Profile {
    fn start(settings: &Settings, pids: &[u32]) -> Option<Self> {
        if !settings.perf {
            return None;
        }
        let file =
            std::env::temp_dir().join(format!("bareasgi-streams-{}.perf", std::process::id()));
        let pids = pids
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let child = Command::new("perf")
            .args(["record", "-F", "499", "-g", "-q", "-p", &pids, "-o"])
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .ok()?;
        Some(Self { child, file })
    }

    async fn finish(mut self) -> Option<f64> {
        let pid = self.child.id()?;
        // SIGINT: perf writes its file and exits.
        let _ = std::process::Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status();
        let _ = self.child.wait().await;
        let report = Command::new("perf")
            .args([
                "report",
                "--children",
                "--sort",
                "sym",
                "-g",
                "none",
                "--stdio",
                "-i",
            ])
            .arg(&self.file)
            .output()
            .await
            .ok()?;
        // PERF_KEEP=FILE keeps the profile for a closer look (`perf report -i FILE`).
        match std::env::var_os("PERF_KEEP") {
            Some(keep) => {
                let _ = std::fs::rename(&self.file, keep);
            }
            None => {
                let _ = std::fs::remove_file(&self.file);
            }
        }
        let text = String::from_utf8_lossy(&report.stdout);
        // "    34.48%     0.29%  [k] net_rx_action": the first column includes its callees.
        let line = text
            .lines()
            .find(|line| line.trim_end().ends_with("] net_rx_action"))?;
        let percent: f64 = line
            .split_whitespace()
            .next()?
            .trim_end_matches('%')
            .parse()
            .ok()?;
        Some(percent / 100.0)
    }
}

/// One keep-alive connection that publishes.
struct Publisher {
    socket: TcpStream,
}

impl Publisher {
    async fn connect(port: u16) -> Self {
        let socket = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        socket.set_nodelay(true).expect("nodelay");
        Self { socket }
    }

    async fn publish(&mut self, seq: u32) {
        let body = message(seq);
        let request = format!(
            "POST {PUBLISH_PATH} HTTP/1.1\r\nhost: bench\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        self.socket
            .write_all(request.as_bytes())
            .await
            .expect("publish");
        let mut reply = Vec::new();
        let mut buffer = [0u8; 1024];
        loop {
            let n = self.socket.read(&mut buffer).await.expect("publish answer");
            assert!(n > 0, "the server closed the publisher's connection");
            reply.extend_from_slice(&buffer[..n]);
            let text = String::from_utf8_lossy(&reply).to_lowercase();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                assert!(head.starts_with("http/1.1 201"), "publish refused: {head}");
                let length: usize = head
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length: "))
                    .and_then(|value| value.trim().parse().ok())
                    .unwrap_or(0);
                if body.len() >= length {
                    return;
                }
            }
        }
    }
}

struct Outcome {
    label: String,
    requested: usize,
    opened: usize,
    failed: usize,
    capped: bool,
    accept_seconds: f64,
    rss_before_kib: u64,
    rss_open_kib: u64,
    rss_after_kib: u64,
    accept_cpu_ns: u64,
    broadcast_cpu_ns: u64,
    deliveries: usize,
    expected: usize,
    closed: usize,
    lags: Vec<u32>,
    kernel_slab_kib: i64,
    /// Listen-queue overflows while the streams were opened (machine-wide).
    overflows: u64,
    user_share: f64,
    /// The share of the server's CPU spent in the kernel's receive path (see `Profile`).
    loopback_share: Option<f64>,
    client_cpu_ns: u64,
    files_per_process: Vec<usize>,
}

impl Outcome {
    fn per_stream(&self, kib: u64) -> f64 {
        (kib as f64 - self.rss_before_kib as f64) / self.opened.max(1) as f64
    }
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn millis(micros: u32) -> String {
    format!("{:.1} ms", f64::from(micros) / 1000.0)
}

/// Loopback source address number `n` of this run: 127.B.0.2, 127.B.0.3, ... 127.B.0.201,
/// 127.B.1.2, ..., where B (1 to 250) comes from the harness's process id, so that runs
/// back to back use different addresses too.
fn source_address(n: usize) -> String {
    let run = 1 + std::process::id() % 250;
    format!("127.{run}.{}.{}", n / 200, 2 + n % 200)
}

/// Hands out source addresses never used before in this run: a closed connection's port
/// stays taken on its address for a minute (`TIME_WAIT`), and binding a source port among
/// ten thousand taken ones makes every connect search for a free one, so a second
/// scenario on the same addresses would open its streams many times slower.
static NEXT_SOURCE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Starts the clients for `streams` streams, each on two source addresses of its own.
async fn start_clients(settings: &Settings, port: u16, streams: usize) -> Vec<Client> {
    let processes = streams.div_ceil(settings.per_client).max(1);
    let mut clients = Vec::new();
    for k in 0..processes {
        let share = streams / processes + usize::from(k < streams % processes);
        let first = NEXT_SOURCE.fetch_add(2, std::sync::atomic::Ordering::Relaxed);
        let sources = format!("{},{}", source_address(first), source_address(first + 1));
        clients.push(Client::start(settings, port, share, &sources).await);
    }
    clients
}

async fn warm_up(settings: &Settings, port: u16) {
    let mut clients = start_clients(settings, port, 64).await;
    for client in &mut clients {
        client.send("go").await;
        client.expect("opened").await;
    }
    Publisher::connect(port).await.publish(0).await;
    for client in &mut clients {
        client.send("wait 0 5000").await;
        client.expect("delivered").await;
    }
    for mut client in clients {
        drop(client.stdin);
        let _ = client.child.wait().await;
    }
}

async fn scenario(
    settings: &Settings,
    label: &str,
    servers: &[Server],
    port: u16,
    streams: usize,
    extra_pids: &[u32],
) -> Outcome {
    let pids: Vec<u32> = servers
        .iter()
        .map(|server| server.pid)
        .chain(extra_pids.iter().copied())
        .collect();
    let server_pids: Vec<u32> = servers.iter().map(|server| server.pid).collect();
    let rss = || server_pids.iter().map(|&pid| rss_kib(pid)).sum::<u64>();
    let cpu = || pids.iter().map(|&pid| cpu_ns(pid)).sum::<u64>();

    warm_up(settings, port).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before_kib = rss();
    let slab_before = kernel_slab_kib();

    let mut clients = start_clients(settings, port, streams).await;
    let capped = clients.iter().any(|client| client.capped);
    let cpu_before_accept = cpu();
    let overflows_before = listen_overflows();
    let started = Instant::now();
    for client in &mut clients {
        client.send("go").await;
    }
    let (mut opened, mut failed) = (0, 0);
    for client in &mut clients {
        let words = client.expect("opened").await;
        opened += words[0] as usize;
        failed += words[1] as usize;
    }
    let accept_seconds = started.elapsed().as_secs_f64();
    let overflows = listen_overflows() - overflows_before;
    let accept_cpu_ns = cpu() - cpu_before_accept;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_open_kib = rss();
    let kernel_slab_kib = kernel_slab_kib() as i64 - slab_before as i64;
    let client_pids: Vec<u32> = clients
        .iter()
        .filter_map(|client| client.child.id())
        .collect();
    let client_cpu = || client_pids.iter().map(|&pid| cpu_ns(pid)).sum::<u64>();
    let ticks = || {
        server_pids
            .iter()
            .map(|&pid| cpu_ticks(pid))
            .fold((0, 0), |(user, system), (u, s)| (user + u, system + s))
    };
    let ticks_before = ticks();
    let mut client_cpu_ns = 0;

    let mut publisher = Publisher::connect(port).await;
    let profile = Profile::start(settings, &server_pids);
    let mut broadcast_cpu_ns = 0;
    let mut deliveries = 0;
    for seq in 1..=settings.broadcasts {
        tokio::time::sleep(settings.gap).await;
        let before = cpu();
        let client_before = client_cpu();
        if settings.spin {
            for client in &mut clients {
                client.send("spin").await;
            }
        }
        publisher.publish(seq).await;
        for client in &mut clients {
            client.send(&format!("wait {seq} 30000")).await;
        }
        for client in &mut clients {
            deliveries += client.expect("delivered").await[1] as usize;
        }
        broadcast_cpu_ns += cpu() - before;
        client_cpu_ns += client_cpu() - client_before;
    }
    let ticks_after = ticks();
    let (user, system) = (
        ticks_after.0 - ticks_before.0,
        ticks_after.1 - ticks_before.1,
    );
    let user_share = user as f64 / (user + system).max(1) as f64;
    let loopback_share = match profile {
        Some(profile) => profile.finish().await,
        None => None,
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_after_kib = rss();
    let hold: u64 = env_or("HOLD", 0);
    if hold > 0 {
        eprintln!("streams: holding the streams open for {hold} s; servers {server_pids:?}");
        tokio::time::sleep(Duration::from_secs(hold)).await;
    }
    let files_per_process = server_pids.iter().map(|&pid| open_files(pid)).collect();

    let mut lags = Vec::new();
    let mut closed = 0;
    for client in &mut clients {
        client.send("report").await;
        let words = client.expect("lags").await;
        lags.extend(words.iter().skip(1).map(|&lag| lag as u32));
        closed += client.expect("closed").await[0] as usize;
    }
    lags.sort_unstable();
    for mut client in clients {
        drop(client.stdin);
        let _ = client.child.wait().await;
    }
    Outcome {
        label: label.to_owned(),
        requested: streams,
        opened,
        failed,
        capped,
        accept_seconds,
        rss_before_kib,
        rss_open_kib,
        rss_after_kib,
        accept_cpu_ns,
        broadcast_cpu_ns,
        deliveries,
        expected: opened * settings.broadcasts as usize,
        closed,
        lags,
        kernel_slab_kib,
        overflows,
        user_share,
        loopback_share,
        client_cpu_ns,
        files_per_process,
    }
}

async fn one_process(settings: &Settings, server: &str, streams: usize) -> Outcome {
    let port = free_port();
    let (program, args) = match server {
        "bareasgi" => ("sse_bareasgi", vec![port.to_string(), "memory".to_owned()]),
        "axum" => ("sse_axum", vec![port.to_string()]),
        "floor" => ("sse_floor", vec![port.to_string()]),
        other => panic!("unknown server {other}: bareasgi, axum or floor"),
    };
    let mut process = start_server(settings, program, &args, port).await;
    let label = if server == "floor" {
        "floor: write(2) loop, no framework".to_owned()
    } else {
        format!("{server}, 1 process, in-memory hub")
    };
    let outcome = scenario(
        settings,
        &label,
        std::slice::from_ref(&process),
        port,
        streams,
        &[],
    )
    .await;
    let _ = process.child.kill().await;
    outcome
}

async fn scale_out(settings: &Settings, streams: usize, processes: usize) -> Outcome {
    let redis_port = free_port();
    let dir = std::env::temp_dir().join(format!("bareasgi-streams-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let mut redis = pinned(&settings.server_cpu, Path::new("redis-server"))
        .args(["--port", &redis_port.to_string(), "--bind", "127.0.0.1"])
        .arg("--dir")
        .arg(&dir)
        .args(["--save", "", "--appendonly", "no", "--loglevel", "warning"])
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("redis-server must be installed (apt-get install redis-server)");
    let redis_pid = redis.id().expect("running");
    for _ in 0..500 {
        if TcpStream::connect(("127.0.0.1", redis_port)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let port = free_port();
    let url = format!("redis://127.0.0.1:{redis_port}/");
    let mut servers = Vec::new();
    for _ in 0..processes {
        let args = [port.to_string(), url.clone(), "--reuse-port".to_owned()];
        servers.push(start_server(settings, "sse_bareasgi", &args, port).await);
    }
    let label = format!("bareasgi, {processes} processes (reuse_port), Redis hub");
    let outcome = scenario(settings, &label, &servers, port, streams, &[redis_pid]).await;
    for server in &mut servers {
        let _ = server.child.kill().await;
    }
    let _ = redis.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|name| name.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .next()
                .map(|line| line.split_whitespace().nth(1).unwrap_or("0").to_owned())
        })
        .and_then(|kib| kib.parse::<u64>().ok())
        .map_or(0, |kib| kib / 1024 / 1024);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!(
        "{cpu}, {cores} cores, {memory} GiB, Linux {}; load average {}",
        kernel.trim(),
        load.split_whitespace().next().unwrap_or("?")
    )
}

/// The OS settings the harness depends on, with a warning for each that limits it.
fn os_settings(streams: usize, per_client: usize, open_file_limit: u64) -> String {
    let mut out = String::new();
    let ports = sysctl("net/ipv4/ip_local_port_range").unwrap_or_default();
    let range: Vec<usize> = ports.split(' ').filter_map(|p| p.parse().ok()).collect();
    let per_source = if range.len() == 2 {
        range[1] - range[0] + 1
    } else {
        0
    };
    let somaxconn = sysctl("net/core/somaxconn").unwrap_or_default();
    let _ = writeln!(
        out,
        "open files per process {open_file_limit} (hard limit; each server and client process raises its own soft limit to it), \
         net.ipv4.ip_local_port_range {ports} ({per_source} ports per source address), net.core.somaxconn {somaxconn}, \
         net.ipv4.tcp_max_syn_backlog {}, fs.file-max {}",
        sysctl("net/ipv4/tcp_max_syn_backlog").unwrap_or_default(),
        sysctl("fs/file-max").unwrap_or_default(),
    );
    if (streams as u64) + 100 > open_file_limit {
        let _ = writeln!(
            out,
            "warning: {streams} streams in one server process need more open files than its limit ({open_file_limit}); raise the hard limit (`ulimit -Hn`, /etc/security/limits.conf, LimitNOFILE=)"
        );
    }
    if per_source > 0 && per_client / 2 > per_source {
        let _ = writeln!(
            out,
            "warning: each client's two source addresses need {} ports each, more than the {per_source} of net.ipv4.ip_local_port_range",
            per_client / 2
        );
    }
    out
}

fn table(outcomes: &[Outcome], broadcasts: u32, spin: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| server | streams | opened in | server RSS per stream: open / after {broadcasts} broadcasts | lag p50 | lag p99 | lag max | server CPU per delivered event (user share) | of which loopback receive | client CPU per delivered event | server CPU per accepted stream | kernel slab per stream (both ends) |"
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for outcome in outcomes {
        let streams = if outcome.opened == outcome.requested {
            format!("{}", outcome.opened)
        } else {
            format!("{} of {}", outcome.opened, outcome.requested)
        };
        let _ = writeln!(
            out,
            "| {} | {streams} | {:.2} s | {:.2} KiB / {:.2} KiB | {} | {} | {} | {:.2} µs ({:.0}%) | {} | {} | {:.1} µs | {:.1} KiB |",
            outcome.label,
            outcome.accept_seconds,
            outcome.per_stream(outcome.rss_open_kib),
            outcome.per_stream(outcome.rss_after_kib),
            millis(percentile(&outcome.lags, 0.5)),
            millis(percentile(&outcome.lags, 0.99)),
            millis(outcome.lags.last().copied().unwrap_or(0)),
            outcome.broadcast_cpu_ns as f64 / 1000.0 / outcome.deliveries.max(1) as f64,
            outcome.user_share * 100.0,
            outcome.loopback_share.map_or_else(
                || "—".to_owned(),
                |share| format!(
                    "{:.2} µs",
                    share * outcome.broadcast_cpu_ns as f64
                        / 1000.0
                        / outcome.deliveries.max(1) as f64
                )
            ),
            if spin {
                "— (spinning)".to_owned()
            } else {
                format!(
                    "{:.2} µs",
                    outcome.client_cpu_ns as f64 / 1000.0 / outcome.deliveries.max(1) as f64
                )
            },
            outcome.accept_cpu_ns as f64 / 1000.0 / outcome.opened.max(1) as f64,
            outcome.kernel_slab_kib as f64 / outcome.opened.max(1) as f64,
        );
    }
    for outcome in outcomes {
        let _ = writeln!(
            out,
            "\n- {}: server RSS {} KiB before the streams (warmed up), {} KiB with them open, {} KiB after the broadcasts; \
             {} of {} deliveries; {} stream(s) failed to open, {} closed early{}; {} listen-queue overflow(s) while opening; open files per server process {:?}",
            outcome.label,
            outcome.rss_before_kib,
            outcome.rss_open_kib,
            outcome.rss_after_kib,
            outcome.deliveries,
            outcome.expected,
            outcome.failed,
            outcome.closed,
            if outcome.capped {
                "; a client's open-file limit capped its streams"
            } else {
                ""
            },
            outcome.overflows,
            outcome.files_per_process,
        );
    }
    out
}

fn main() {
    let bin = std::env::current_exe()
        .expect("own path")
        .parent()
        .expect("a directory")
        .to_owned();
    let settings = Settings {
        bin,
        broadcasts: env_or("BROADCASTS", 10),
        per_client: env_or("PER_CLIENT", 10_000),
        server_cpu: env_or("SERVER_CPU", "0".to_owned()),
        client_cpu: env_or("CLIENT_CPU", "1".to_owned()),
        gap: Duration::from_millis(env_or("GAP_MS", 300)),
        concurrency: env_or("CONCURRENCY", 256),
        perf: env_or("PERF", 1) != 0
            && std::process::Command::new("perf")
                .arg("--version")
                .output()
                .is_ok_and(|output| output.status.success()),
        spin: env_or("SPIN", 1) != 0,
    };
    let streams: usize = env_or("STREAMS", 19_900);
    let rounds: usize = env_or("ROUNDS", 1);
    let scale: usize = env_or("SCALE", 0);
    let scale_servers: usize = env_or("SCALE_SERVERS", 7);
    let servers: Vec<String> = env_or("SERVERS", "bareasgi axum floor".to_owned())
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let limit = raise_open_files();
    println!("machine: {}", machine());
    print!("{}", os_settings(streams, settings.per_client, limit));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut outcomes = Vec::new();
    runtime.block_on(async {
        for round in 0..rounds {
            for k in 0..servers.len() {
                let server = &servers[(k + round) % servers.len()];
                eprintln!(
                    "streams: round {}/{rounds}: {server}, {streams} streams",
                    round + 1
                );
                outcomes.push(one_process(&settings, server, streams).await);
            }
        }
        if scale > 0 {
            eprintln!("streams: {scale} streams on {scale_servers} bareasgi processes and Redis");
            outcomes.push(scale_out(&settings, scale, scale_servers).await);
        }
    });
    println!();
    print!("{}", table(&outcomes, settings.broadcasts, settings.spin));
}
