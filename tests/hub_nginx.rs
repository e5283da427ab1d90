//! The deployment of `examples/deploy/`: three instances of a chat example on one Redis,
//! behind nginx running the shipped `nginx.conf` (ports and paths swapped for free ones).
#![cfg(feature = "redis")]

mod common;

use std::time::{Duration, Instant};

use common::external::{ExampleProcess, Nginx, RedisServer};
use common::sse_client::{read_resuming, stream_client};
use eventsource_stream::Eventsource;
use futures_util::StreamExt;

fn start_instances(example: &str, redis: &RedisServer) -> Vec<ExampleProcess> {
    let url = redis.url();
    (0..3)
        .map(|_| ExampleProcess::start(example, &[("REDIS_URL", &url)]))
        .collect()
}

async fn post(client: &reqwest::Client, url: &str, text: &str) -> (u16, String) {
    let response = client.post(url).body(text.to_owned()).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

// Through nginx: an event reaches a stream at once (nothing buffers it), publishes are
// spread over the instances, and when one instance dies, the clients it served reconnect
// through nginx with Last-Event-ID, land on another, and miss nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx_streams_are_unbuffered_and_survive_an_instance() {
    if common::external::no_redis() || common::external::missing(&[("nginx", "nginx")]) {
        return;
    }
    const MESSAGES: usize = 300;
    let redis = RedisServer::start();
    let mut instances = start_instances("sse_chat", &redis);
    let nginx = Nginx::start(&instances.iter().map(|i| i.port).collect::<Vec<_>>());
    let client = stream_client();
    let (status, start) = post(&client, &nginx.url("/messages"), "start").await;
    assert_eq!(status, 201);

    // One small event must come through on its own: a buffering proxy would hold it.
    let probe = client
        .get(nginx.url("/events"))
        .header("last-event-id", &start)
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), 200);
    let mut probe = probe.bytes_stream().eventsource();
    let (status, probe_id) = post(&client, &nginx.url("/messages"), "probe").await;
    assert_eq!(status, 201);
    let sent = Instant::now();
    let event = tokio::time::timeout(Duration::from_secs(2), probe.next())
        .await
        .expect("the event passes nginx at once")
        .unwrap()
        .unwrap();
    assert_eq!(
        (event.id.as_str(), event.data.as_str()),
        (probe_id.as_str(), "probe")
    );
    println!("one event through nginx in {:?}", sent.elapsed());

    let mut readers = Vec::new();
    for _ in 0..6 {
        readers.push(tokio::spawn(read_resuming(
            vec![nginx.url("/events")],
            probe_id.clone(),
            MESSAGES,
        )));
    }
    let mut expected = Vec::new();
    for n in 0..MESSAGES {
        if n == MESSAGES / 3 {
            instances[1].kill();
        }
        let text = format!("m{n}");
        let (status, id) = post(&client, &nginx.url("/messages"), &text).await;
        assert_eq!(status, 201, "message {n} through nginx");
        expected.push((id, text));
    }
    let mut reconnects = 0;
    for (client, reader) in readers.into_iter().enumerate() {
        let reading = tokio::time::timeout(Duration::from_secs(60), reader)
            .await
            .expect("every client receives every message within 60 s")
            .unwrap();
        reconnects += reading.reconnects;
        assert_eq!(reading.events, expected, "client {client}");
    }
    // nginx spreads the six streams over the three instances: those on the killed one
    // had to come back.
    assert!(reconnects >= 1, "no client was on the killed instance");
}

// The WebSocket chat through nginx: the upgrade passes, and a line said on one instance
// reaches the clients on the others.
#[cfg(feature = "ws")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx_the_websocket_chat_reaches_every_instance() {
    if common::external::no_redis() || common::external::missing(&[("nginx", "nginx")]) {
        return;
    }
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;

    let redis = RedisServer::start();
    let instances = start_instances("ws_chat", &redis);
    let nginx = Nginx::start(&instances.iter().map(|i| i.port).collect::<Vec<_>>());
    async fn read_until(
        socket: &mut (
                 impl StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin
             ),
        wanted: impl Fn(&str) -> bool,
    ) -> String {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
                .await
                .expect("a line within 10 s")
                .unwrap()
                .unwrap();
            if let Message::Text(text) = message {
                let line: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
                let text = line["text"].as_str().unwrap_or_default().to_owned();
                if wanted(&text) {
                    return text;
                }
            }
        }
    }
    // Each client's first line is its own arrival (the one before it was announced before
    // it connected); then one of them speaks.
    let mut sockets = Vec::new();
    let mut names = Vec::new();
    for _ in 0..3 {
        let url = format!("ws://127.0.0.1:{}/ws", nginx.port);
        let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let joined = read_until(&mut socket, |text| text.ends_with(" joined")).await;
        names.push(joined.trim_end_matches(" joined").to_owned());
        sockets.push(socket);
    }
    let instances_used: std::collections::HashSet<&str> = names
        .iter()
        .map(|name| name.rsplit('@').next().unwrap())
        .collect();
    assert_eq!(
        instances_used.len(),
        3,
        "nginx spread {names:?} over the instances"
    );
    sockets[0]
        .send(Message::text("hello through nginx"))
        .await
        .unwrap();
    let said = format!("{}: hello through nginx", names[0]);
    for socket in &mut sockets {
        assert_eq!(read_until(socket, |text| text == said).await, said);
    }
}
