//! The Redis hub against a real `redis-server` (each test starts its own on an ephemeral
//! port, in a temp dir, and kills it when done): several instances on one Redis, an
//! instance killed mid-run, Redis restarted mid-run, slow subscribers, and resuming.
#![cfg(feature = "redis")]

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use bareasgi::hub::{Event, EventId, Hub, Subscription};
use common::TestServer;
use common::external::{ExampleProcess, RedisServer};
use common::sse_client::{Received, read_resuming, stream_client};
use eventsource_stream::Eventsource;
use futures_util::StreamExt;

#[path = "../examples/sse_chat.rs"]
mod sse_chat;

const MESSAGES: usize = 1000;

/// Posts `text` to the chat at `base` and returns the status and the body (the id on 201).
async fn post(client: &reqwest::Client, url: &str, text: &str) -> (u16, String) {
    let response = client.post(url).body(text.to_owned()).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn next(subscription: &mut Subscription) -> Event {
    tokio::time::timeout(Duration::from_secs(10), subscription.next())
        .await
        .expect("an event within 10 s")
        .expect("the subscription does not end")
        .expect("the subscription does not fail")
}

fn message_data(event: &Event) -> String {
    match event {
        Event::Message(message) => message.data().to_owned(),
        Event::Missed(missed) => format!("missed {:?}", missed.count()),
    }
}

/// Checks that every client received exactly `expected` (ids and texts), in order.
fn assert_all_received(readings: &[Vec<Received>], expected: &[Received]) {
    for (client, events) in readings.iter().enumerate() {
        if events != expected {
            let first_difference = events
                .iter()
                .zip(expected)
                .position(|(got, want)| got != want);
            panic!(
                "client {client}: {} events, expected {}; first difference at {first_difference:?}: {:?}",
                events.len(),
                expected.len(),
                first_difference.map(|at| (&events[at], &expected[at])),
            );
        }
    }
}

// Three instances, each with its own hub (its own connections and reader) on one Redis,
// two clients on each; 1,000 messages published round-robin through all three reach every
// client once each, in publish order, under the ids the publishes returned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_deliver_every_message_to_every_client_once_in_order() {
    if common::external::no_redis() {
        return;
    }
    let redis = RedisServer::start();
    let mut instances = Vec::new();
    for _ in 0..3 {
        let hub = Hub::redis(&redis.url()).unwrap();
        instances.push(TestServer::start(sse_chat::app(hub)).await);
    }
    let client = stream_client();
    let (status, start) = post(&client, &instances[0].url("/messages"), "start").await;
    assert_eq!(status, 201);
    let mut readers = Vec::new();
    for instance in &instances {
        for _ in 0..2 {
            let urls = vec![instance.url("/events")];
            readers.push(tokio::spawn(read_resuming(urls, start.clone(), MESSAGES)));
        }
    }
    let mut expected = Vec::new();
    for n in 0..MESSAGES {
        let text = format!("m{n}");
        let (status, id) = post(&client, &instances[n % 3].url("/messages"), &text).await;
        assert_eq!(status, 201, "message {n}");
        expected.push((id, text));
    }
    let ids: Vec<EventId> = expected.iter().map(|(id, _)| id.parse().unwrap()).collect();
    assert!(
        ids.windows(2).all(|pair| pair[0] < pair[1]),
        "ids follow publish order"
    );
    let mut readings = Vec::new();
    for reader in readers {
        let reading = tokio::time::timeout(Duration::from_secs(60), reader)
            .await
            .expect("every client receives every message within 60 s")
            .unwrap();
        assert_eq!(reading.reconnects, 0);
        readings.push(reading.events);
    }
    assert_all_received(&readings, &expected);
}

// An instance killed (SIGKILL) in the middle of a run: its clients' streams break, they
// reconnect to another instance with Last-Event-ID, and still receive every message once,
// in order. The instances are the sse_chat example binary, as deployed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_instances_clients_resume_on_another_without_gap_or_duplicate() {
    if common::external::no_redis() {
        return;
    }
    let redis = RedisServer::start();
    let env = [("REDIS_URL", redis.url())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut instances: Vec<ExampleProcess> = (0..3)
        .map(|_| ExampleProcess::start("sse_chat", &env))
        .collect();
    let client = stream_client();
    let (status, start) = post(&client, &instances[0].url("/messages"), "start").await;
    assert_eq!(status, 201);
    let mut readers = Vec::new();
    for first in 0..3 {
        // Each client starts on its own instance and moves to the next one when it breaks.
        let urls: Vec<String> = (0..3)
            .map(|k| instances[(first + k) % 3].url("/events"))
            .collect();
        for _ in 0..2 {
            readers.push(tokio::spawn(read_resuming(
                urls.clone(),
                start.clone(),
                MESSAGES,
            )));
        }
    }
    let mut expected = Vec::new();
    let mut live = vec![0, 1, 2];
    for n in 0..MESSAGES {
        if n == MESSAGES / 3 {
            // Between two publishes, so no publish is left in doubt.
            instances[1].kill();
            live.retain(|&instance| instance != 1);
        }
        let text = format!("m{n}");
        let target = &instances[live[n % live.len()]];
        let (status, id) = post(&client, &target.url("/messages"), &text).await;
        assert_eq!(status, 201, "message {n}");
        expected.push((id, text));
    }
    let mut readings = Vec::new();
    for (client, reader) in readers.into_iter().enumerate() {
        let reading = tokio::time::timeout(Duration::from_secs(60), reader)
            .await
            .expect("every client receives every message within 60 s")
            .unwrap();
        let on_killed_instance = client / 2 == 1;
        assert_eq!(
            reading.reconnects >= 1,
            on_killed_instance,
            "client {client} reconnected {} times",
            reading.reconnects
        );
        readings.push(reading.events);
    }
    assert_all_received(&readings, &expected);
}

// Redis killed (SIGKILL) and restarted mid-run, with AOF persistence (`appendfsync
// always`, as production runs it, so an acknowledged XADD survives the kill). While it is
// down every publish is refused with 503 quickly (none hangs); the clients' streams stay
// open throughout; once Redis is back they go on, and every message that got a 201
// reaches every client exactly once, in order. A publish refused with 503 is delivered to
// every client or to none: never to some.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_refuses_publishes_fast_and_loses_nothing_acknowledged() {
    if common::external::no_redis() {
        return;
    }
    let mut redis = RedisServer::start_with_aof();
    let mut instances = Vec::new();
    for _ in 0..3 {
        // The default publish timeout (1 s): a shorter one turned a publish made while the
        // 2-core machine was busy with the other tests into a 503 before the outage.
        let hub = Hub::builder().redis(&redis.url()).unwrap();
        instances.push(TestServer::start(sse_chat::app(hub)).await);
    }
    let client = stream_client();
    let (status, start) = post(&client, &instances[0].url("/messages"), "start").await;
    assert_eq!(status, 201);
    // Plain readers that never reconnect: their one stream must survive the outage.
    let mut readers = Vec::new();
    for instance in &instances {
        for _ in 0..2 {
            let response = client
                .get(instance.url("/events"))
                .header("last-event-id", &start)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            readers.push(tokio::spawn(async move {
                let mut events = response.bytes_stream().eventsource();
                let mut received: Vec<Received> = Vec::new();
                while let Some(event) = events.next().await {
                    let event = event.expect("the stream stays open");
                    if event.data == "end" {
                        return received;
                    }
                    received.push((event.id, event.data));
                }
                panic!("the stream ended after {} events", received.len());
            }));
        }
    }

    let mut acknowledged: Vec<Received> = Vec::new();
    let mut refused: HashSet<String> = HashSet::new();
    let mut slowest = Duration::ZERO;
    let mut n = 0;
    let mut outage: Option<Instant> = None;
    let mut restarted = false;
    loop {
        let acknowledged_before = acknowledged.len();
        if acknowledged_before == 150 && outage.is_none() {
            tokio::task::block_in_place(|| redis.kill());
            outage = Some(Instant::now());
        }
        if !restarted && outage.is_some_and(|at| at.elapsed() > Duration::from_millis(1500)) {
            tokio::task::block_in_place(|| redis.restart());
            restarted = true;
        }
        if restarted && acknowledged.len() >= 300 {
            break;
        }
        let text = format!("m{n}");
        let started = Instant::now();
        let (status, body) = post(&client, &instances[n % 3].url("/messages"), &text).await;
        slowest = slowest.max(started.elapsed());
        match status {
            201 => acknowledged.push((body, text)),
            503 => {
                assert!(outage.is_some(), "503 before Redis went down: {body}");
                refused.insert(text);
            }
            other => panic!("message {n}: {other} {body}"),
        }
        n += 1;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The end marker, retried: the first publishes after the restart may still be refused.
    let deadline = Instant::now() + Duration::from_secs(10);
    while post(&client, &instances[0].url("/messages"), "end").await.0 != 201 {
        assert!(Instant::now() < deadline, "Redis never came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    assert!(
        !refused.is_empty(),
        "no publish was refused while Redis was down"
    );
    assert!(
        slowest < Duration::from_secs(3),
        "a publish took {slowest:?}: publishes must fail fast"
    );
    let mut readings = Vec::new();
    for reader in readers {
        readings.push(
            tokio::time::timeout(Duration::from_secs(60), reader)
                .await
                .expect("the clients receive everything within 60 s")
                .unwrap(),
        );
    }
    // Every client saw the same events; they are the acknowledged ones, plus any refused
    // publish that Redis had taken before the connection broke.
    for (client, events) in readings.iter().enumerate() {
        assert_eq!(
            events, &readings[0],
            "client {client} differs from client 0"
        );
    }
    let delivered_refusals: Vec<&Received> = readings[0]
        .iter()
        .filter(|(_, text)| refused.contains(text))
        .collect();
    let without_refusals: Vec<Received> = readings[0]
        .iter()
        .filter(|(_, text)| !refused.contains(text))
        .cloned()
        .collect();
    assert_eq!(
        without_refusals,
        acknowledged,
        "every acknowledged message, once, in order ({} refused publishes were delivered anyway)",
        delivered_refusals.len()
    );
    println!(
        "{} acknowledged, {} refused ({} of them delivered anyway), slowest publish {slowest:?}",
        acknowledged.len(),
        refused.len(),
        delivered_refusals.len()
    );
    let numbers: Vec<usize> = readings[0]
        .iter()
        .map(|(_, text)| text[1..].parse().unwrap())
        .collect();
    assert!(
        numbers.windows(2).all(|pair| pair[0] < pair[1]),
        "publish order"
    );
}

// A subscriber that stops reading falls out of its instance's local buffer (8 events
// here); instead of skipping, it catches up from the Redis stream, page by page.
#[tokio::test]
async fn a_slow_subscriber_catches_up_from_the_stream_instead_of_missing_events() {
    if common::external::no_redis() {
        return;
    }
    let redis = RedisServer::start();
    let hub = Hub::builder().local_buffer(8).redis(&redis.url()).unwrap();
    let mut slow = hub.subscribe("t", None).await.unwrap();
    for n in 0..600 {
        hub.publish("t", format!("m{n}")).await.unwrap();
    }
    for n in 0..600 {
        assert_eq!(message_data(&next(&mut slow).await), format!("m{n}"));
    }
    hub.publish("t", "live").await.unwrap();
    assert_eq!(message_data(&next(&mut slow).await), "live");
}

// Resuming from an id older than this instance's buffer reads the gap from Redis, then
// joins the live events: every event once, in order, across the seam.
#[tokio::test]
async fn resuming_from_an_old_id_replays_from_the_stream_then_goes_live() {
    if common::external::no_redis() {
        return;
    }
    let redis = RedisServer::start();
    let publisher = Hub::redis(&redis.url()).unwrap();
    let hub = Hub::builder().local_buffer(4).redis(&redis.url()).unwrap();
    // Another subscriber keeps the topic's reader (and its small buffer) running.
    let mut watcher = hub.subscribe("t", None).await.unwrap();
    let first = publisher.publish("t", "m0").await.unwrap();
    for n in 1..300 {
        publisher.publish("t", format!("m{n}")).await.unwrap();
    }
    let mut resumed = hub.subscribe("t", Some(&first.to_string())).await.unwrap();
    // Keep publishing while it catches up, to cross the seam with events arriving.
    let live = tokio::spawn(async move {
        for n in 300..400 {
            publisher.publish("t", format!("m{n}")).await.unwrap();
        }
    });
    for n in 1..400 {
        assert_eq!(message_data(&next(&mut resumed).await), format!("m{n}"));
    }
    live.await.unwrap();
    for n in 0..400 {
        assert_eq!(message_data(&next(&mut watcher).await), format!("m{n}"));
    }
}

// Ids the stream cannot place start the subscription with a `missed` event: one trimmed
// away (the history is capped), or one newer than anything in the stream.
#[tokio::test]
async fn ids_the_stream_no_longer_holds_start_with_a_gap() {
    if common::external::no_redis() {
        return;
    }
    let redis = RedisServer::start();
    let hub = Hub::builder().history(10).redis(&redis.url()).unwrap();
    let first = hub.publish("t", "m0").await.unwrap();
    let mut last = first;
    for n in 1..1000 {
        last = hub.publish("t", format!("m{n}")).await.unwrap();
    }
    let kept: usize = redis.cli(&["XLEN", "bareasgi:hub:t"]).parse().unwrap();
    assert!((10..1000).contains(&kept), "MAXLEN ~ 10 kept {kept}");
    let mut resumed = hub.subscribe("t", Some(&first.to_string())).await.unwrap();
    assert_eq!(message_data(&next(&mut resumed).await), "missed None");
    let mut texts = Vec::new();
    for _ in 0..kept {
        texts.push(message_data(&next(&mut resumed).await));
    }
    let expected: Vec<String> = (1000 - kept..1000).map(|n| format!("m{n}")).collect();
    assert_eq!(texts, expected);

    let future = EventId::new(last.millis() + 3_600_000, 0).to_string();
    let mut from_elsewhere = hub.subscribe("t", Some(&future)).await.unwrap();
    assert_eq!(
        message_data(&next(&mut from_elsewhere).await),
        "missed None"
    );
    hub.publish("t", "next").await.unwrap();
    assert_eq!(message_data(&next(&mut from_elsewhere).await), "next");
    assert_eq!(message_data(&next(&mut resumed).await), "next");
}

// With no Redis at all, a publish fails at once, as a 503 with retry-after; the instance
// itself starts and serves, and a new stream (whose start Redis cannot fix) is a 503 with
// retry-after too, after the subscribe timeout, so the browser retries.
#[tokio::test]
async fn without_redis_publishes_fail_fast_with_503() {
    let nobody = common::external::free_port();
    let hub = Hub::redis(&format!("redis://127.0.0.1:{nobody}/")).unwrap();
    let error = hub.publish("t", "x").await.unwrap_err();
    assert!(error.is_unavailable(), "{error}");
    let server = TestServer::start(sse_chat::app(hub)).await;
    let client = stream_client();
    let started = Instant::now();
    let response = client
        .post(server.url("/messages"))
        .body("hello")
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    let started = Instant::now();
    let stream = client.get(server.url("/events")).send().await.unwrap();
    assert_eq!(stream.status(), 503);
    assert_eq!(stream.headers()["retry-after"], "1");
    assert!(started.elapsed() < Duration::from_secs(5));
}

// A topic's reader (and its Redis connection) lives while the topic has subscribers in
// the process, and no longer.
#[tokio::test]
async fn a_topics_reader_stops_with_its_last_subscriber() {
    if common::external::no_redis() {
        return;
    }
    let redis = RedisServer::start();
    let hub = Hub::redis(&redis.url()).unwrap();
    let clients = || -> usize {
        redis
            .cli(&["CLIENT", "LIST"])
            .lines()
            .filter(|line| line.contains("cmd=xread"))
            .count()
    };
    let first = hub.subscribe("a", None).await.unwrap();
    let second = hub.subscribe("a", None).await.unwrap();
    let other = hub.subscribe("b", None).await.unwrap();
    assert_eq!(hub.local_topics(), 2);
    let deadline = Instant::now() + Duration::from_secs(5);
    while clients() != 2 {
        assert!(Instant::now() < deadline, "two readers expected");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(first);
    assert_eq!(hub.local_topics(), 2);
    drop(second);
    drop(other);
    assert_eq!(hub.local_topics(), 0);
    while clients() != 0 {
        assert!(
            Instant::now() < deadline,
            "the readers' connections stay open"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A new subscriber starts the topic again.
    let mut again = hub.subscribe("a", None).await.unwrap();
    hub.publish("a", "again").await.unwrap();
    assert_eq!(message_data(&next(&mut again).await), "again");
    assert_eq!(hub.local_topics(), 1);
}
