//! A subscription cannot miss the first message (issue 20): a client that has the response
//! head of its event stream receives an event published right after, on the in-memory hub
//! and on a real `redis-server`, where a topic's first subscriber in a process used to get
//! its head before the topic's reader knew where the stream ended, and so missed the event
//! published right after it in 19 of 20 runs. And while Redis does not answer, a new stream
//! is refused with `503` and `retry-after` instead of hanging.

mod common;

use std::time::Duration;

use bareasgi::hub::Hub;
use bareasgi::sse::EventStream;
use bareasgi::{Application, HttpError, HttpRequest};
use common::TestServer;
use common::sse_client::stream_client;
use eventsource_stream::Eventsource;
use futures_util::StreamExt;

const RUNS: usize = 100;

/// The pasted-as-written handler: subscribe, answer with the stream.
async fn events(req: HttpRequest) -> Result<EventStream, HttpError> {
    let hub = req.info.get::<Hub>().expect("set up by the test");
    let topic = req.matches.get("topic").expect("in the route");
    Ok(EventStream::new(
        hub.subscribe(topic, req.last_event_id()).await?,
    ))
}

fn app(hub: Hub) -> Application {
    let mut app = Application::new();
    app.info.insert(hub);
    app.http_router.add(["GET"], "/events/{topic}", events);
    app
}

/// `RUNS` times, each on a topic nobody reads yet (so the subscription's start is fixed
/// afresh): open the stream, publish through `publisher` the moment the head arrives, and
/// expect that event first.
async fn every_first_message_arrives(server: &TestServer, publisher: &Hub) {
    let client = stream_client();
    for run in 0..RUNS {
        let topic = format!("first-{run}");
        let response = client
            .get(server.url(&format!("/events/{topic}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "run {run}");
        let id = publisher.publish(&topic, format!("hello {run}")).await;
        let id = id.unwrap().to_string();
        let mut stream = response.bytes_stream().eventsource();
        let event = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .unwrap_or_else(|_| panic!("run {run}: the event published after the head is missed"))
            .expect("the stream goes on")
            .expect("a well-formed event");
        assert_eq!(
            (event.id, event.data),
            (id, format!("hello {run}")),
            "run {run}"
        );
    }
}

#[tokio::test]
async fn the_event_published_when_the_head_arrives_is_received_in_memory() {
    let hub = Hub::memory();
    let server = TestServer::start(app(hub.clone())).await;
    every_first_message_arrives(&server, &hub).await;
}

// Published by another hub on the same Redis: another instance, as when a chat's newcomer
// is answered by one instance and its first line goes through another.
#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_published_when_the_head_arrives_is_received_on_redis() {
    if common::external::no_redis() {
        return;
    }
    let redis = common::external::RedisServer::start();
    let server = TestServer::start(app(Hub::redis(&redis.url()).unwrap())).await;
    let publisher = Hub::redis(&redis.url()).unwrap();
    every_first_message_arrives(&server, &publisher).await;
}

// Nothing listens on the port: the subscription's start can never be fixed, and the
// handler's `?` answers 503 with retry-after once the subscribe timeout has passed (the
// browser's EventSource retries by itself), instead of a stream that waits forever.
#[cfg(feature = "redis")]
#[tokio::test]
async fn a_subscription_redis_cannot_place_is_a_503_with_retry_after() {
    let url = format!("redis://127.0.0.1:{}/", common::external::free_port());
    let hub = Hub::builder()
        .subscribe_timeout(Duration::from_millis(300))
        .redis(&url)
        .unwrap();
    let started = std::time::Instant::now();
    let error = hub.subscribe("t", None).await.unwrap_err();
    assert!(error.is_unavailable(), "{error}");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        hub.local_topics(),
        0,
        "the topic's reader stops with its last subscriber"
    );

    let server = TestServer::start(app(hub)).await;
    let response = stream_client()
        .get(server.url("/events/t"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    assert!(started.elapsed() < Duration::from_secs(5));
}
