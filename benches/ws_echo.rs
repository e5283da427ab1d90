//! WebSocket echo round trips per second: bareasgi's `ws_echo` example against a plain
//! tokio-tungstenite echo server, in the same run, with the same client.
//!
//! ```text
//! cargo bench --bench ws_echo
//! WS_BENCH_SECS=5 WS_BENCH_CONNECTIONS=32 WS_BENCH_BYTES=64 cargo bench --bench ws_echo
//! ```
//!
//! Each server runs in a child process on a single-threaded runtime pinned to core 0; the
//! client, in another child, on core 1 (`taskset`, when installed). The client keeps
//! `WS_BENCH_CONNECTIONS` connections, each sending a text message of `WS_BENCH_BYTES`
//! and waiting for its echo, for `WS_BENCH_SECS` seconds per round; the servers take turns,
//! two rounds each. Besides round trips per second it reports the server's CPU time per
//! round trip (from `/proc`), which still compares the servers when the client is the
//! bottleneck, and the server's resident memory per idle WebSocket (`WS_BENCH_IDLE` of them
//! held open). The machine is shared and noisy: compare the ratios, not the numbers.

#[path = "../examples/ws_echo.rs"]
#[allow(dead_code)]
mod ws_echo;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

fn main() {
    // `cargo bench` passes `--bench`; anything else that is not a mode of ours is ignored.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1]),
        Some("client") => client(args[1].parse().expect("an address"), &args[2..]),
        Some("hold") => hold(
            args[1].parse().expect("an address"),
            args[2].parse().expect("a count"),
        ),
        _ => compare(),
    }
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn compare() {
    let secs = setting("WS_BENCH_SECS", 5);
    let connections = setting("WS_BENCH_CONNECTIONS", 32);
    let bytes = setting("WS_BENCH_BYTES", 64);
    let pinned = Command::new("taskset")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    let ticks_per_second: f64 = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
        .unwrap_or(100.0);
    println!(
        "ws echo: {connections} connections, {bytes}-byte text messages, {secs} s per round{}",
        if pinned {
            ", servers on core 0, client on core 1"
        } else {
            " (taskset not found: not pinned)"
        }
    );

    let kinds = ["tokio-tungstenite", "bareasgi"];
    let mut servers: Vec<(Child, SocketAddr)> = kinds
        .iter()
        .map(|kind| start_server(kind, pinned))
        .collect();
    let mut totals = vec![(0u64, 0.0f64, 0.0f64); kinds.len()]; // round trips, seconds, CPU seconds
    for round in 1..=2 {
        for (index, kind) in kinds.iter().enumerate() {
            let (child, addr) = &servers[index];
            let cpu_before = cpu_seconds(child.id(), ticks_per_second);
            let (round_trips, elapsed) = run_client(*addr, connections, secs, bytes, pinned);
            let cpu = cpu_seconds(child.id(), ticks_per_second) - cpu_before;
            println!(
                "round {round} {kind:>17}: {:>9.0} round trips/s, server CPU {:>5.1} us per round trip",
                round_trips as f64 / elapsed,
                cpu * 1e6 / round_trips.max(1) as f64
            );
            totals[index].0 += round_trips;
            totals[index].1 += elapsed;
            totals[index].2 += cpu;
        }
    }
    let idle = setting("WS_BENCH_IDLE", 1000);
    let mut per_socket = Vec::new();
    for (kind, (child, addr)) in kinds.iter().zip(&servers) {
        let bytes = idle_memory(child.id(), *addr, idle, pinned);
        println!(
            "{kind:>17}: {:>6.1} KiB of server RSS per idle WebSocket ({idle} open)",
            bytes / 1024.0
        );
        per_socket.push(bytes);
    }
    for (child, _) in &mut servers {
        let _ = child.kill();
        let _ = child.wait();
    }
    let rate = |(round_trips, elapsed, _): (u64, f64, f64)| round_trips as f64 / elapsed;
    let cpu = |(round_trips, _, cpu): (u64, f64, f64)| cpu * 1e6 / round_trips.max(1) as f64;
    for (kind, total) in kinds.iter().zip(&totals) {
        println!(
            "total {kind:>17}: {:>9.0} round trips/s, server CPU {:>5.1} us per round trip",
            rate(*total),
            cpu(*total)
        );
    }
    println!(
        "bareasgi / tokio-tungstenite: {:.2}x round trips/s, {:.2}x server CPU per round trip, {:.2}x RSS per idle socket",
        rate(totals[1]) / rate(totals[0]),
        cpu(totals[1]) / cpu(totals[0]),
        per_socket[1] / per_socket[0]
    );
}

fn start_server(kind: &str, pinned: bool) -> (Child, SocketAddr) {
    let exe = std::env::current_exe().expect("the bench binary");
    let mut command = if pinned {
        let mut command = Command::new("taskset");
        command.args(["-c", "0"]).arg(exe);
        command
    } else {
        Command::new(exe)
    };
    let mut child = command
        .args(["serve", kind])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start a server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("the server's address");
    let addr = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{kind} printed {line:?}, not an address"));
    (child, addr)
}

fn run_client(
    addr: SocketAddr,
    connections: u64,
    secs: u64,
    bytes: u64,
    pinned: bool,
) -> (u64, f64) {
    let exe = std::env::current_exe().expect("the bench binary");
    let mut command = if pinned {
        let mut command = Command::new("taskset");
        command.args(["-c", "1"]).arg(exe);
        command
    } else {
        Command::new(exe)
    };
    let output = command
        .args([
            "client",
            &addr.to_string(),
            &connections.to_string(),
            &secs.to_string(),
            &bytes.to_string(),
        ])
        .output()
        .expect("run the client");
    let text = String::from_utf8_lossy(&output.stdout);
    let mut fields = text.split_whitespace();
    match (
        fields.next().and_then(|n| n.parse().ok()),
        fields.next().and_then(|s| s.parse().ok()),
    ) {
        (Some(round_trips), Some(elapsed)) => (round_trips, elapsed),
        _ => panic!(
            "the client printed {text:?}; stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

/// How much the server's resident memory grows per open, idle WebSocket, in bytes.
fn idle_memory(pid: u32, addr: SocketAddr, count: u64, pinned: bool) -> f64 {
    let exe = std::env::current_exe().expect("the bench binary");
    let mut command = if pinned {
        let mut command = Command::new("taskset");
        command.args(["-c", "1"]).arg(exe);
        command
    } else {
        Command::new(exe)
    };
    let before = rss_bytes(pid);
    let mut holder = command
        .args(["hold", &addr.to_string(), &count.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("hold");
    let mut line = String::new();
    BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("the holder's report");
    std::thread::sleep(Duration::from_millis(300));
    let during = rss_bytes(pid);
    let _ = holder.kill();
    let _ = holder.wait();
    (during - before) / count as f64
}

fn rss_bytes(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .unwrap_or(0.0);
    kib * 1024.0
}

/// Opens `count` WebSockets, says so, and keeps them open until killed.
fn hold(addr: SocketAddr, count: u64) {
    runtime().block_on(async move {
        let mut sockets = Vec::new();
        for _ in 0..count {
            let (socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
                .await
                .expect("connect");
            sockets.push(socket);
        }
        println!("open");
        std::future::pending::<()>().await;
    });
}

/// User plus system CPU time of a process so far, in seconds.
fn cpu_seconds(pid: u32, ticks_per_second: f64) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<f64> = after_name
        .split_whitespace()
        .map(|field| field.parse().unwrap_or(0.0))
        .collect();
    (fields.get(11).copied().unwrap_or(0.0) + fields.get(12).copied().unwrap_or(0.0))
        / ticks_per_second
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

fn serve(kind: &str) {
    runtime().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        println!("{}", listener.local_addr().unwrap());
        match kind {
            "bareasgi" => ws_echo::app()
                .serve_listener(listener)
                .await
                .expect("serve"),
            _ => loop {
                let (stream, _) = listener.accept().await.expect("accept");
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else {
                        return;
                    };
                    while let Some(Ok(message)) = socket.next().await {
                        if (message.is_text() || message.is_binary())
                            && socket.send(message).await.is_err()
                        {
                            break;
                        }
                    }
                });
            },
        }
    });
}

fn client(addr: SocketAddr, args: &[String]) {
    let number = |index: usize| {
        args.get(index)
            .and_then(|arg| arg.parse::<u64>().ok())
            .expect("a number")
    };
    let (connections, secs, bytes) = (number(0), number(1), number(2));
    runtime().block_on(async move {
        let payload = "x".repeat(bytes as usize);
        let mut sockets = Vec::new();
        for _ in 0..connections {
            let (socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
                .await
                .expect("connect");
            sockets.push(socket);
        }
        let warm_up = Instant::now() + Duration::from_millis(500);
        let started = warm_up;
        let deadline = started + Duration::from_secs(secs);
        let tasks: Vec<_> = sockets
            .into_iter()
            .map(|mut socket| {
                let payload = payload.clone();
                tokio::spawn(async move {
                    let mut round_trips = 0u64;
                    loop {
                        let now = Instant::now();
                        if now >= deadline {
                            break;
                        }
                        socket
                            .send(Message::text(payload.clone()))
                            .await
                            .expect("send");
                        match socket.next().await {
                            Some(Ok(_)) => {}
                            other => panic!("no echo: {other:?}"),
                        }
                        if now >= warm_up {
                            round_trips += 1;
                        }
                    }
                    let _ = socket.close(None).await;
                    round_trips
                })
            })
            .collect();
        let mut total = 0;
        for task in tasks {
            total += task.await.expect("a client task");
        }
        println!("{total} {}", started.elapsed().as_secs_f64());
    });
}
