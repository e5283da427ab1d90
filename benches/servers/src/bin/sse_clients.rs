//! The event-stream harness's client: `sse_clients ADDR STREAMS SOURCES [CONCURRENCY]`.
//!
//! Opens `STREAMS` `GET /events` streams to `ADDR` over HTTP/1.1, stream `i` from source
//! address `SOURCES[i % len]` (a comma-separated list such as `127.0.0.2,127.0.0.3`: each
//! source address has its own ~28,000 ephemeral ports towards one server port), at most
//! `CONCURRENCY` (256) connecting at once so that the listen backlog does not overflow.
//! Then it parses every event and records each broadcast's lag: its own clock when it
//! parsed the event minus the stamp in the event's data (see `streams::message`).
//!
//! It raises its open-file limit to the hard limit first and prints `capped N LIMIT` when
//! that limit caps the number of streams. Driven over stdin/stdout by `streams`:
//!
//! | in | out |
//! |---|---|
//! | (start) | `limit SOFT`, maybe `capped N SOFT`, then `ready N` |
//! | `go` | `opened OK FAILED MICROS` once every stream has its response head (or failed) |
//! | `spin` | nothing: until the next `wait` is answered, the process polls its sockets without sleeping |
//! | `wait SEQ MILLIS` | `delivered SEQ COUNT` once every open stream has broadcast SEQ, or after MILLIS |
//! | `report` | `lags COUNT L1 L2 ...` (µs, every delivery) and `closed COUNT` |
//!
//! It exits when stdin closes.

use std::cell::{Cell, RefCell};
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};

use bareasgi_bench_servers::streams::{EVENTS_PATH, now_ns, parse_message, raise_open_files};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Semaphore;

/// Files this process needs besides its streams (stdio, the runtime's epoll and eventfd).
const SPARE_FILES: u64 = 16;

#[derive(Default)]
struct Tally {
    open: Cell<usize>,
    failed: Cell<usize>,
    closed: Cell<usize>,
    first_error: RefCell<Option<String>>,
    delivered: RefCell<Vec<usize>>,
    lags: RefCell<Vec<u32>>,
    spinning: Cell<bool>,
}

impl Tally {
    fn delivered(&self, seq: usize) -> usize {
        self.delivered.borrow().get(seq).copied().unwrap_or(0)
    }

    fn record(&self, seq: u32, stamp: u64, now: u64) {
        let seq = seq as usize;
        let mut delivered = self.delivered.borrow_mut();
        if delivered.len() <= seq {
            delivered.resize(seq + 1, 0);
        }
        delivered[seq] += 1;
        let micros = now.saturating_sub(stamp) / 1000;
        self.lags
            .borrow_mut()
            .push(u32::try_from(micros).unwrap_or(u32::MAX));
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

async fn open(
    source: Ipv4Addr,
    server: SocketAddr,
    request: &[u8],
) -> std::io::Result<(TcpStream, Vec<u8>)> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source.into(), 0))?;
    let mut stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    stream.write_all(request).await?;
    let mut buffer = Vec::with_capacity(1024);
    loop {
        if stream.read_buf(&mut buffer).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if let Some(end) = find(&buffer, b"\r\n\r\n") {
            if !buffer.starts_with(b"HTTP/1.1 200") {
                let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
                return Err(std::io::Error::other(format!("answered {head:?}")));
            }
            buffer.drain(..end + 4);
            return Ok((stream, buffer));
        }
        if buffer.len() > 16 * 1024 {
            return Err(std::io::Error::other("response head too long"));
        }
    }
}

/// Reads events until the server closes the stream.
async fn read_events(mut stream: TcpStream, mut pending: Vec<u8>, tally: Rc<Tally>) {
    loop {
        // Events are "<hex>\r\nid: ..\ndata: <seq> <stamp> ..\n\n\r\n"; the chunk framing is
        // skipped along with the other lines.
        let now = now_ns();
        let mut consumed = 0;
        while let Some(end) = find(&pending[consumed..], b"\n\n") {
            let event = &pending[consumed..consumed + end];
            if let Some(at) = find(event, b"data: ") {
                let data = &event[at + 6..];
                let data = &data[..data.iter().position(|&b| b == b'\n').unwrap_or(data.len())];
                if let Some((seq, stamp)) = parse_message(data) {
                    tally.record(seq, stamp, now);
                }
            }
            consumed += end + 2;
        }
        pending.drain(..consumed);
        pending.reserve(512);
        match stream.read_buf(&mut pending).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    tally.closed.set(tally.closed.get() + 1);
    tally.open.set(tally.open.get() - 1);
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

async fn run(server: SocketAddr, streams: usize, sources: Vec<Ipv4Addr>, concurrency: usize) {
    let tally = Rc::new(Tally::default());
    let mut commands = BufReader::new(tokio::io::stdin()).lines();
    say(&format!("ready {streams}"));
    while let Ok(Some(command)) = commands.next_line().await {
        let words: Vec<&str> = command.split_whitespace().collect();
        match words.as_slice() {
            ["go"] => {
                let started = Instant::now();
                let request: Rc<[u8]> = format!(
                    "GET {EVENTS_PATH} HTTP/1.1\r\nhost: bench\r\naccept: text/event-stream\r\n\r\n"
                )
                .into_bytes()
                .into();
                let slots = std::sync::Arc::new(Semaphore::new(concurrency));
                let finished = Rc::new(tokio::sync::Notify::new());
                for index in 0..streams {
                    let permit = slots.clone().acquire_owned().await.expect("never closed");
                    let (tally, request, finished) =
                        (tally.clone(), request.clone(), finished.clone());
                    let source = sources[index % sources.len()];
                    tokio::task::spawn_local(async move {
                        let opened = open(source, server, &request).await;
                        drop(permit);
                        match opened {
                            Ok((stream, pending)) => {
                                tally.open.set(tally.open.get() + 1);
                                finished.notify_one();
                                read_events(stream, pending, tally).await;
                            }
                            Err(error) => {
                                tally.failed.set(tally.failed.get() + 1);
                                tally
                                    .first_error
                                    .borrow_mut()
                                    .get_or_insert(error.to_string());
                                finished.notify_one();
                            }
                        }
                    });
                }
                while tally.open.get() + tally.closed.get() + tally.failed.get() < streams {
                    finished.notified().await;
                }
                if let Some(error) = &*tally.first_error.borrow() {
                    eprintln!(
                        "sse_clients: {} stream(s) failed to open, the first with: {error}",
                        tally.failed.get()
                    );
                }
                say(&format!(
                    "opened {} {} {}",
                    tally.open.get(),
                    tally.failed.get(),
                    started.elapsed().as_micros()
                ));
            }
            ["spin"] => {
                if !tally.spinning.replace(true) {
                    // A task that is always ready keeps the runtime from sleeping in
                    // epoll_wait: it checks its sockets without blocking, between the other
                    // tasks. `sched_yield` lets the other client processes on this core run.
                    let tally = tally.clone();
                    tokio::task::spawn_local(async move {
                        while tally.spinning.get() {
                            tokio::task::yield_now().await;
                            std::thread::yield_now();
                        }
                    });
                }
            }
            ["wait", seq, millis] => {
                let seq: usize = seq.parse().expect("wait SEQ MILLIS");
                let deadline = Instant::now()
                    + Duration::from_millis(millis.parse().expect("wait SEQ MILLIS"));
                while tally.delivered(seq) < tally.open.get() && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                tally.spinning.set(false);
                say(&format!("delivered {seq} {}", tally.delivered(seq)));
            }
            ["report"] => {
                let lags = tally.lags.borrow();
                let mut line = format!("lags {}", lags.len());
                for lag in lags.iter() {
                    line.push(' ');
                    line.push_str(&lag.to_string());
                }
                say(&line);
                say(&format!("closed {}", tally.closed.get()));
            }
            _ => eprintln!("sse_clients: unknown command {command:?}"),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(server), Some(streams), Some(sources)) = (args.get(1), args.get(2), args.get(3))
    else {
        eprintln!("usage: sse_clients ADDR STREAMS SOURCES [CONCURRENCY]");
        std::process::exit(2);
    };
    let server: SocketAddr = server.parse().expect("ADDR is host:port");
    let mut streams: usize = streams.parse().expect("STREAMS is a number");
    let sources: Vec<Ipv4Addr> = sources
        .split(',')
        .map(|source| source.parse().expect("SOURCES are IPv4 addresses"))
        .collect();
    let concurrency = args
        .get(4)
        .map_or(256, |c| c.parse().expect("CONCURRENCY is a number"));
    let limit = raise_open_files();
    say(&format!("limit {limit}"));
    let room = usize::try_from(limit.saturating_sub(SPARE_FILES)).unwrap_or(usize::MAX);
    if streams > room {
        say(&format!("capped {room} {limit}"));
        eprintln!("sse_clients: the open-file limit ({limit}) caps this process at {room} streams");
        streams = room;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    tokio::task::LocalSet::new().block_on(&runtime, run(server, streams, sources, concurrency));
}
