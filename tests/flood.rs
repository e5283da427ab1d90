//! Connection floods: 10,000 idle keep-alive connections and 5,000 open event streams on one
//! server process, all still served, with the server's memory per connection printed;
//! fifty clients that never read an endless body, which must not make the server buffer it;
//! and ten HTTP/2 connections of 200 never-read streams each, which must add at most
//! 32 MiB to the server and give it back when they leave.
//!
//! The clients run in a second process (this same binary, re-run in client mode), so the
//! server's RSS is measured alone and each process stays within its open-file limit.
//! `harness = false`: `main` runs the two scenarios one after the other, because memory
//! figures mean nothing while other tests run in the process.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bareasgi::sse::{Event, EventStream};
use bareasgi::{Application, Body, HttpRequest};
use bytes::Bytes;
use futures_util::future::join_all;
use futures_util::stream;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::{broadcast, oneshot};

const IDLE_CONNECTIONS: usize = 10_000;
const EVENT_STREAMS: usize = 5_000;
const CLIENT_MODE: &str = "BAREASGI_FLOOD_CLIENT";

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    raise_fd_limit();
    if let Ok(mode) = std::env::var(CLIENT_MODE) {
        runtime.block_on(client_process(&mode));
        return;
    }
    // First, while the heap is fresh: memory the other scenarios freed would hide growth.
    runtime.block_on(never_read_http2_streams_hold_bounded_memory_and_give_it_back());
    runtime.block_on(idle_keep_alive_connections_are_all_still_served());
    runtime.block_on(open_event_streams_all_receive_an_event());
    runtime.block_on(stalled_readers_of_a_firehose_do_not_make_the_server_buffer_it());
    println!("flood: ok");
}

fn raise_fd_limit() {
    let limit = rlimit::increase_nofile_limit(u64::MAX).expect("cannot raise the open-file limit");
    let needed = IDLE_CONNECTIONS as u64 + 1000;
    assert!(
        limit >= needed,
        "the open-file limit is {limit}; the flood tests need {needed} per process"
    );
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A server on a free port, stopped when the returned sender is dropped.
async fn serve(app: Application) -> (SocketAddr, oneshot::Sender<()>) {
    // The backlog `Application::serve` uses; `TcpListener::bind`'s 128 overflows in bursts.
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1024).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.serve_with_shutdown(listener, async move {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// The client process, talking over its stdin and stdout.
struct Clients {
    _child: Child,
    commands: ChildStdin,
    replies: tokio::io::Lines<BufReader<ChildStdout>>,
}

impl Clients {
    fn spawn(mode: &str, addr: SocketAddr, count: usize) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(CLIENT_MODE, format!("{mode} {addr} {count}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let commands = child.stdin.take().unwrap();
        let replies = BufReader::new(child.stdout.take().unwrap()).lines();
        Self {
            _child: child,
            commands,
            replies,
        }
    }

    async fn expect(&mut self, line: &str) {
        let reply = tokio::time::timeout(Duration::from_secs(60), self.replies.next_line()).await;
        let reply =
            reply.unwrap_or_else(|_| panic!("no {line:?} from the client process within 60 s"));
        assert_eq!(reply.unwrap().as_deref(), Some(line));
    }

    async fn send(&mut self, command: &str) {
        self.commands
            .write_all(format!("{command}\n").as_bytes())
            .await
            .unwrap();
    }
}

async fn idle_keep_alive_connections_are_all_still_served() {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/", |_req: HttpRequest| async { "Hello, World!" });
    let (addr, _stop) = serve(app).await;
    let before = rss_kib();
    let started = Instant::now();
    let mut clients = Clients::spawn("idle", addr, IDLE_CONNECTIONS);
    clients.expect("ready").await;
    let grown = rss_kib().saturating_sub(before);
    let per_connection = grown as f64 / IDLE_CONNECTIONS as f64;
    println!(
        "{IDLE_CONNECTIONS} idle keep-alive connections opened in {:.1?}: server RSS +{grown} KiB, {per_connection:.1} KiB each",
        started.elapsed()
    );
    clients.send("check").await;
    clients.expect("checked").await;
    let mut fresh = TcpStream::connect(addr).await.unwrap();
    request(
        &mut fresh,
        "GET / HTTP/1.1\r\nhost: x\r\n\r\n",
        "Hello, World!",
    )
    .await;
    assert!(
        per_connection < 32.0,
        "{per_connection:.1} KiB per idle connection"
    );
}

async fn open_event_streams_all_receive_an_event() {
    let (sender, _) = broadcast::channel::<String>(16);
    let subscribe = sender.clone();
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/events", move |_req: HttpRequest| {
            let receiver = subscribe.subscribe();
            async move {
                EventStream::new(stream::unfold(receiver, |mut receiver| async move {
                    let text = receiver.recv().await.ok()?;
                    Some((Event::data(text), receiver))
                }))
            }
        });
    let (addr, _stop) = serve(app).await;
    let before = rss_kib();
    let mut clients = Clients::spawn("events", addr, EVENT_STREAMS);
    clients.expect("ready").await;
    let grown = rss_kib().saturating_sub(before);
    let per_stream = grown as f64 / EVENT_STREAMS as f64;
    assert_eq!(sender.receiver_count(), EVENT_STREAMS);
    let started = Instant::now();
    sender.send("ping".into()).unwrap();
    clients.send("expect ping").await;
    clients.expect("received").await;
    println!(
        "{EVENT_STREAMS} open event streams: server RSS +{grown} KiB, {per_stream:.1} KiB each; \
         one event reached all of them in {:.1?}",
        started.elapsed()
    );
    assert!(
        per_stream < 32.0,
        "{per_stream:.1} KiB per open event stream"
    );
}

/// Fifty clients ask for an endless, always-ready body and never read: only back-pressure
/// stops it, and the process must not buffer what the sockets cannot take.
async fn stalled_readers_of_a_firehose_do_not_make_the_server_buffer_it() {
    const CLIENTS: usize = 50;
    let produced = Arc::new(AtomicUsize::new(0));
    let counter = produced.clone();
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/", |_req: HttpRequest| async { "Hello, World!" });
    app.http_router
        .add(["GET"], "/firehose", move |_req: HttpRequest| {
            let counter = counter.clone();
            async move {
                Body::from_stream(stream::repeat_with(move || {
                    counter.fetch_add(1, Ordering::Relaxed);
                    Bytes::from(vec![b'x'; 64 * 1024])
                }))
            }
        });
    let (addr, _stop) = serve(app).await;
    let before = rss_kib();
    let mut sockets = Vec::new();
    for _ in 0..CLIENTS {
        let mut socket = TcpStream::connect(addr).await.unwrap();
        socket
            .write_all(b"GET /firehose HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        sockets.push(socket); // and never read from it
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut fresh = TcpStream::connect(addr).await.unwrap();
    request(
        &mut fresh,
        "GET / HTTP/1.1\r\nhost: x\r\n\r\n",
        "Hello, World!",
    )
    .await;
    let grown = rss_kib().saturating_sub(before);
    let per_client = produced.load(Ordering::Relaxed) / CLIENTS;
    println!(
        "{CLIENTS} stalled readers of an endless body: server RSS +{grown} KiB ({} KiB each); \
         {per_client} chunks of 64 KiB produced per client, nearly all sitting in kernel socket buffers",
        grown / CLIENTS as u64
    );
    // hyper's write buffer holds at most a couple of chunks per connection.
    assert!(
        grown < 40 * 1024,
        "RSS grew {grown} KiB for {CLIENTS} stalled readers"
    );
    assert!(
        per_client < 400,
        "{per_client} chunks produced per stalled client: not back-pressured"
    );
    drop(sockets);
}

/// Ten HTTP/2 clients open their flow-control windows, ask for an endless body on 200
/// streams each and never read (issue 12: with hyper's defaults this took 896 MB, and
/// 255 MB stayed after they left).
async fn never_read_http2_streams_hold_bounded_memory_and_give_it_back() {
    const CONNECTIONS: usize = 10;
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/", |_req: HttpRequest| async { "Hello, World!" });
    app.http_router
        .add(["GET"], "/firehose", |_req: HttpRequest| async {
            Body::from_stream(stream::repeat_with(|| Bytes::from(vec![b'x'; 64 * 1024])))
        });
    let (addr, _stop) = serve(app).await;
    let mut warm = TcpStream::connect(addr).await.unwrap();
    request(
        &mut warm,
        "GET / HTTP/1.1\r\nhost: x\r\n\r\n",
        "Hello, World!",
    )
    .await;
    let before = rss_kib();
    let mut clients = Clients::spawn("h2-never-read", addr, CONNECTIONS);
    clients.expect("ready").await;
    let mut peak = 0;
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        peak = peak.max(rss_kib());
    }
    let grown = peak.saturating_sub(before);
    request(
        &mut warm,
        "GET / HTTP/1.1\r\nhost: x\r\n\r\n",
        "Hello, World!",
    )
    .await;
    clients.send("leave").await;
    clients.expect("left").await;
    let left = Instant::now();
    let mut after = rss_kib();
    while after > before + 16 * 1024 && left.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        after = rss_kib();
    }
    println!(
        "{CONNECTIONS} HTTP/2 connections x 200 never-read streams: server RSS +{grown} KiB at \
         the peak; {:+} KiB from before {:.1?} after they left",
        after as i64 - before as i64,
        left.elapsed()
    );
    assert!(
        grown <= 32 * 1024,
        "never-read HTTP/2 streams added {grown} KiB"
    );
    assert!(
        after <= before + 16 * 1024,
        "the server kept {} KiB after the clients left",
        after - before
    );
}

/// Client mode for HTTP/2: `count` connections that open their windows, ask for
/// `/firehose` on 200 streams each, and never read; dropped on "leave".
async fn never_read_http2_clients(addr: SocketAddr, count: usize) {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let mut bytes = (payload.len() as u32).to_be_bytes()[1..].to_vec();
        bytes.extend([kind, flags]);
        bytes.extend(stream.to_be_bytes());
        bytes.extend(payload);
        bytes
    }
    let mut opening = PREFACE.to_vec();
    opening.extend(frame(0x4, 0, 0, &[0, 4, 0x7f, 0xff, 0xff, 0xff])); // stream window
    opening.extend(frame(0x8, 0, 0, &(0x7fff_ffffu32 - 65_535).to_be_bytes()));
    for index in 0..200u32 {
        // :method GET, :scheme http, :path /firehose, :authority x (HPACK, no Huffman)
        let mut block = vec![0x82, 0x86, 0x04, 9];
        block.extend(b"/firehose");
        block.extend([0x01, 0x01, b'x']);
        opening.extend(frame(0x1, 0x5, 1 + 2 * index, &block));
    }
    let mut sockets = Vec::new();
    for _ in 0..count {
        let mut socket = TcpStream::connect(addr).await.unwrap();
        socket.write_all(&opening).await.unwrap();
        sockets.push(socket); // and never read from it
    }
    let mut stdout = tokio::io::stdout();
    stdout.write_all(b"ready\n").await.unwrap();
    let mut commands = BufReader::new(tokio::io::stdin()).lines();
    while let Some(command) = commands.next_line().await.unwrap() {
        assert_eq!(command, "leave");
        sockets.clear();
        stdout.write_all(b"left\n").await.unwrap();
    }
}

/// Writes `text` and reads until `needle` has been seen.
async fn request(socket: &mut TcpStream, text: &str, needle: &str) {
    socket.write_all(text.as_bytes()).await.unwrap();
    read_until(socket, needle).await;
}

async fn read_until(socket: &mut TcpStream, needle: &str) {
    let mut received = Vec::new();
    let mut buffer = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(30), async {
        while !String::from_utf8_lossy(&received).contains(needle) {
            let n = socket.read(&mut buffer).await.unwrap();
            assert!(
                n > 0,
                "closed before {needle:?}: {}",
                String::from_utf8_lossy(&received)
            );
            received.extend_from_slice(&buffer[..n]);
        }
    })
    .await;
    read.unwrap_or_else(|_| panic!("no {needle:?} within 30 s"));
}

/// Client mode: open the connections, report "ready", then answer commands from stdin.
async fn client_process(mode: &str) {
    let mut words = mode.split(' ');
    let (kind, addr, count) = (
        words.next().unwrap(),
        words.next().unwrap(),
        words.next().unwrap(),
    );
    let addr: SocketAddr = addr.parse().unwrap();
    let count: usize = count.parse().unwrap();
    if kind == "h2-never-read" {
        return never_read_http2_clients(addr, count).await;
    }
    let (path, needle) = if kind == "idle" {
        ("/", "Hello, World!")
    } else {
        ("/events", "\r\n\r\n")
    };
    let first = format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n");
    let mut sockets = Vec::with_capacity(count);
    // In batches: the listen backlog is finite.
    for batch in 0..count.div_ceil(500) {
        let size = 500.min(count - batch * 500);
        sockets.extend(
            join_all((0..size).map(|_| async {
                let mut socket = TcpStream::connect(addr).await.unwrap();
                request(&mut socket, &first, needle).await;
                socket
            }))
            .await,
        );
    }
    let mut stdout = tokio::io::stdout();
    stdout.write_all(b"ready\n").await.unwrap();
    let mut commands = BufReader::new(tokio::io::stdin()).lines();
    while let Some(command) = commands.next_line().await.unwrap() {
        match command.as_str() {
            "check" => {
                // Every 100th idle connection sends a second request on the same socket.
                for socket in sockets.iter_mut().step_by(100) {
                    request(socket, "GET / HTTP/1.1\r\nhost: x\r\n\r\n", "Hello, World!").await;
                }
                stdout.write_all(b"checked\n").await.unwrap();
            }
            "expect ping" => {
                join_all(
                    sockets
                        .iter_mut()
                        .map(|socket| read_until(socket, "data: ping\n\n")),
                )
                .await;
                stdout.write_all(b"received\n").await.unwrap();
            }
            other => panic!("unknown command {other:?}"),
        }
    }
}
