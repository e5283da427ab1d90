//! The `metrics` example scraped by a real Prometheus while a client drives requests, event
//! streams, a WebSocket, hub traffic and a stalled body; the values are read back through
//! Prometheus's HTTP API, and `promtool` checks the exposition. One test: the recorder is
//! one per process, so the counts start from zero only once.

mod common;

#[path = "../examples/metrics.rs"]
mod metrics_example;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::external::{KillOnDrop, TempDir, free_port, missing};
use common::{TestServer, client, read_until_close};
use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::Message;

/// Prometheus on an ephemeral loopback port, scraping `target` every 200 ms, its storage in
/// a temp dir; killed when dropped.
struct Prometheus {
    _process: KillOnDrop,
    _dir: TempDir,
    port: u16,
}

impl Prometheus {
    fn start(target: std::net::SocketAddr) -> Self {
        let dir = TempDir::new("prometheus");
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 200ms\n  scrape_timeout: 150ms\n\
                 scrape_configs:\n  - job_name: bareasgi\n    metrics_path: /metrics\n    \
                 static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .unwrap();
        let port = free_port();
        let process = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus starts");
        Self {
            _process: KillOnDrop(process),
            _dir: dir,
            port,
        }
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = client()
                .get(format!("http://127.0.0.1:{}/-/ready", self.port))
                .send()
                .await;
            if ready.is_ok_and(|response| response.status() == 200) {
                return;
            }
            assert!(Instant::now() < deadline, "prometheus did not become ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The value of the instant `query` (a single-series result), `None` when it has no
    /// series yet.
    async fn query(&self, query: &str) -> Option<f64> {
        let result = self.series(query).await;
        assert!(result.len() <= 1, "{query} has several series: {result:?}");
        let value = result.first()?["value"][1].as_str().unwrap();
        Some(value.parse().unwrap())
    }

    /// The series `query` returns; fails if Prometheus refuses the query.
    async fn series(&self, query: &str) -> Vec<serde_json::Value> {
        let body = client()
            .get(format!(
                "http://127.0.0.1:{}/api/v1/query?query={}",
                self.port,
                percent_encoding::utf8_percent_encode(query, percent_encoding::NON_ALPHANUMERIC)
            ))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let response: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(response["status"], "success", "{query}: {response}");
        response["data"]["result"].as_array().unwrap().clone()
    }

    /// Waits until `query` reads `expected` in Prometheus (it scrapes every 200 ms), and
    /// fails with the last value read after 15 s.
    async fn wait_for(&self, query: &str, expected: f64) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let value = self.query(query).await;
            if value == Some(expected) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{query}: expected {expected}, Prometheus has {value:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Reads an event stream until it has seen `count` `data:` lines.
async fn read_events(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    count: usize,
) -> Vec<String> {
    let mut text = String::new();
    let read = async {
        while text.matches("data: ").count() < count {
            let chunk = stream.next().await.expect("the stream stays open").unwrap();
            text.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("the events arrive");
    text.lines()
        .filter_map(|line| line.strip_prefix("data: ").map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_requests_streams_websockets_hub_and_limits() {
    if missing(&[("prometheus", "prometheus"), ("promtool", "prometheus")]) {
        return;
    }
    let mut app = metrics_example::app();
    // Short, so that the stalled body below is cut within the test.
    app.body_read_timeout(Some(Duration::from_millis(300)));
    let server = TestServer::start(app).await;
    let prometheus = Prometheus::start(server.addr);
    prometheus.wait_ready().await;
    prometheus.wait_for("up{job=\"bareasgi\"}", 1.0).await;
    let http = client();

    // Requests: counted by route pattern, whatever the id; unknown paths share one label.
    for id in 1..=5 {
        let response = http
            .get(server.url(&format!("/api/items/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    for path in ["/nothing/here", "/api/items/not-a-number"] {
        assert_eq!(
            http.get(server.url(path)).send().await.unwrap().status(),
            404
        );
    }
    prometheus
        .wait_for(
            "http_server_request_duration_seconds_count{route=\"/api/items/{id:int}\",method=\"GET\",status=\"200\"}",
            5.0,
        )
        .await;
    prometheus
        .wait_for(
            "sum(http_server_request_duration_seconds_count{route=\"unmatched\",status=\"404\"})",
            2.0,
        )
        .await;
    assert_eq!(
        prometheus
            .query("count(http_server_request_duration_seconds_count{route=~\"/api/items/[0-9]+|/nothing.*\"})")
            .await,
        None,
        "raw paths never become labels"
    );

    // Event streams: three open, seen going up.
    let mut streams = Vec::new();
    for _ in 0..3 {
        let response = http.get(server.url("/events")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        streams.push(response.bytes_stream());
    }
    prometheus
        .wait_for("bareasgi_event_streams_open", 3.0)
        .await;

    // A WebSocket echo, seen open.
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr))
        .await
        .unwrap();
    socket.send(Message::text("ping")).await.unwrap();
    let echoed = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(echoed, Message::text("ping"));
    prometheus.wait_for("bareasgi_websockets_open", 1.0).await;

    // Hub traffic: four messages reach each of the three streams.
    for n in 0..4 {
        let response = http
            .post(server.url("/messages"))
            .body(format!("message {n}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    for stream in &mut streams {
        let events = read_events(stream, 4).await;
        assert_eq!(events.len(), 4, "{events:?}");
    }
    prometheus
        .wait_for("bareasgi_hub_published_total{group=\"feed\"}", 4.0)
        .await;
    prometheus
        .wait_for("bareasgi_hub_delivered_total{group=\"feed\"}", 12.0)
        .await;
    // Every delivery has its lag sample.
    prometheus
        .wait_for(
            "bareasgi_hub_delivery_lag_seconds_count{group=\"feed\"}",
            12.0,
        )
        .await;
    let p99 = prometheus
        .query("histogram_quantile(0.99, bareasgi_hub_delivery_lag_seconds_bucket{group=\"feed\"})")
        .await
        .unwrap();
    assert!(p99 > 0.0 && p99 < 1.0, "lag p99 {p99} s");
    let sent = prometheus
        .query("bareasgi_event_stream_sent_bytes_total")
        .await
        .unwrap();
    assert!(
        sent >= 12.0 * "data: message 0\n".len() as f64,
        "{sent} bytes"
    );

    // Closing the streams and the socket brings the gauges back down.
    drop(streams);
    socket.close(None).await.unwrap();
    prometheus
        .wait_for("bareasgi_event_streams_open", 0.0)
        .await;
    prometheus.wait_for("bareasgi_websockets_open", 0.0).await;

    // A body that stops halfway is cut by the body-read timeout: 408, counted.
    let mut stalled = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    stalled
        .write_all(b"POST /messages HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nhalf")
        .await
        .unwrap();
    let reply = read_until_close(&mut stalled, Duration::from_secs(5)).await;
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    prometheus
        .wait_for(
            "bareasgi_limit_hits_total{limit=\"body_read_timeout\"}",
            1.0,
        )
        .await;
    prometheus
        .wait_for(
            "http_server_request_duration_seconds_count{route=\"/messages\",status=\"408\"}",
            1.0,
        )
        .await;

    // Connections: every one accepted so far is counted, and the gauge has a protocol label.
    let accepted = prometheus
        .query("bareasgi_connections_accepted_total{transport=\"tcp\"}")
        .await
        .unwrap();
    assert!(accepted >= 3.0, "{accepted} connections accepted");
    assert!(
        prometheus
            .query("bareasgi_connections_open{protocol=\"http1\"}")
            .await
            .is_some()
    );

    // Every query of the Grafana dashboard parses, and the 16 over what this test did find
    // series (the others chart TLS, Redis, panics and 5xx answers).
    let dashboard: serde_json::Value =
        serde_json::from_str(include_str!("../examples/deploy/grafana-dashboard.json")).unwrap();
    let mut with_series = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"]
                .as_str()
                .unwrap()
                .replace("$__rate_interval", "1m")
                .replace("$job", ".+");
            if !prometheus.series(&expr).await.is_empty() {
                with_series += 1;
            }
        }
    }
    assert!(
        with_series >= 16,
        "{with_series} dashboard queries found series"
    );

    // promtool accepts the exposition as it is served.
    let exposition = http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        promtool
            .stdin
            .take()
            .unwrap()
            .write_all(exposition.as_bytes())
            .unwrap();
    }
    let checked = promtool.wait_with_output().unwrap();
    assert!(
        checked.status.success() && checked.stdout.is_empty() && checked.stderr.is_empty(),
        "promtool: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    server.stop().await.unwrap();
}
