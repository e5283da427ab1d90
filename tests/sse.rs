//! Server-sent events over a real socket, read by a spec-following SSE client
//! (`eventsource-stream`): timing, keep-alive, disconnects, shutdown, resuming, the examples.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bareasgi::sse::{Event, EventStream, KeepAlive};
use bareasgi::{Application, HttpRequest};
use common::{DropGuard, TestServer, client, read_until_close};
use eventsource_stream::Eventsource;
use futures_util::{Stream, StreamExt, stream};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::oneshot;

#[path = "../examples/sse_clock.rs"]
mod sse_clock;

#[path = "../examples/sse_chat.rs"]
mod sse_chat;

type Log = Arc<Mutex<Vec<Instant>>>;

/// Events 0..count, `interval` apart, logging when each is yielded.
fn paced_events(count: u64, interval: Duration, yielded: Log) -> impl Stream<Item = Event> + Send {
    stream::unfold(0, move |n| {
        let yielded = yielded.clone();
        async move {
            if n == count {
                return None;
            }
            if n > 0 {
                tokio::time::sleep(interval).await;
            }
            yielded.lock().unwrap().push(Instant::now());
            Some((Event::data(format!("event {n}")).id(n), n + 1))
        }
    })
}

async fn open(
    server: &TestServer,
    path: &str,
) -> impl Stream<Item = eventsource_stream::Event> + Unpin + use<> {
    let response = client().get(server.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    Box::pin(
        response
            .bytes_stream()
            .eventsource()
            .map(|event| event.unwrap()),
    )
}

#[tokio::test]
async fn each_event_arrives_within_50ms_of_being_yielded() {
    let yielded: Log = Arc::default();
    let log = yielded.clone();
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/events", move |_req: HttpRequest| {
            let log = log.clone();
            async move { EventStream::new(paced_events(4, Duration::from_millis(500), log)) }
        });
    let server = TestServer::start(app).await;
    let mut events = open(&server, "/events").await;
    let mut arrivals = Vec::new();
    while let Some(event) = events.next().await {
        arrivals.push(Instant::now());
        assert_eq!(event.data, format!("event {}", arrivals.len() - 1));
        assert_eq!(event.id, (arrivals.len() - 1).to_string());
    }
    let yielded = yielded.lock().unwrap().clone();
    assert_eq!(arrivals.len(), 4);
    for (n, (arrived, sent)) in arrivals.iter().zip(&yielded).enumerate() {
        let lag = *arrived - *sent;
        assert!(
            lag < Duration::from_millis(50),
            "event {n} arrived {lag:?} after it was yielded"
        );
    }
}

#[tokio::test]
async fn the_response_has_the_event_stream_headers() {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/events", |_req: HttpRequest| async {
            EventStream::new(stream::iter([Event::data("x")]))
        });
    let server = TestServer::start(app).await;
    let response = client().get(server.url("/events")).send().await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["cache-control"], "no-cache");
    assert_eq!(response.headers()["x-accel-buffering"], "no");
    assert!(response.headers().get("content-encoding").is_none());
    assert_eq!(response.text().await.unwrap(), "data: x\n\n");
}

#[tokio::test]
async fn multi_line_data_event_names_and_retry_reach_a_real_client() {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/events", |_req: HttpRequest| async {
            let events = [
                Event::data("line one\r\nline two\rline three\n")
                    .event("note")
                    .retry(Duration::from_secs(2)),
                Event::data("").comment("an empty event follows"),
            ];
            EventStream::new(stream::iter(events))
        });
    let server = TestServer::start(app).await;
    let events: Vec<_> = open(&server, "/events").await.collect().await;
    assert_eq!(events.len(), 2);
    assert_eq!(
        (events[0].event.as_str(), events[0].data.as_str()),
        ("note", "line one\nline two\nline three\n")
    );
    assert_eq!(events[0].retry, Some(Duration::from_secs(2)));
    assert_eq!(
        (events[1].event.as_str(), events[1].data.as_str()),
        ("message", "")
    );
}

// A name from the client goes through `try_event`: a line break in it is the client's
// mistake (400), not a panic, and no injected field reaches anyone.
#[tokio::test]
async fn an_event_name_from_the_client_is_checked_with_try_event() {
    let mut app = Application::new();
    app.http_router
        .add("GET", "/events", |req: HttpRequest| async move {
            #[derive(serde::Deserialize)]
            struct Room {
                room: String,
            }
            let Room { room } = req.query_as()?;
            let event = Event::data("hello")
                .try_event(room)
                .map_err(|invalid| bareasgi::HttpError::bad_request(invalid.to_string()))?;
            Ok::<_, bareasgi::HttpError>(EventStream::new(stream::iter([event.id(1)])))
        });
    let server = TestServer::start(app).await;
    let events: Vec<_> = open(&server, "/events?room=lobby").await.collect().await;
    assert_eq!(
        (
            events[0].event.as_str(),
            events[0].id.as_str(),
            events[0].data.as_str()
        ),
        ("lobby", "1", "hello")
    );
    let refused = client()
        .get(server.url("/events?room=lobby%0Aid:%200"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert_eq!(
        refused.text().await.unwrap(),
        "server-sent event event must not contain '\\n'"
    );
}

#[tokio::test]
async fn keep_alive_comments_fill_the_silences() {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/quiet", |_req: HttpRequest| async {
            EventStream::new(stream::pending::<Event>()).keep_alive(
                KeepAlive::new()
                    .interval(Duration::from_millis(100))
                    .text("still here")
                    .unwrap(),
            )
        });
    app.http_router
        .add(["GET"], "/silent", |_req: HttpRequest| async {
            EventStream::new(stream::pending::<Event>()).without_keep_alive()
        });
    let server = TestServer::start(app).await;
    let read = |path: &'static str| {
        let addr = server.addr;
        async move {
            let mut socket = TcpStream::connect(addr).await.unwrap();
            socket
                .write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
                .await
                .unwrap();
            read_until_close(&mut socket, Duration::from_millis(450)).await
        }
    };
    let quiet = read("/quiet").await;
    let comments = quiet.matches(": still here\n\n").count();
    assert!(
        (3..=5).contains(&comments),
        "{comments} keep-alives in 450 ms at 100 ms: {quiet:?}"
    );
    let silent = read("/silent").await;
    assert!(
        !silent.contains("\r\n\r\n:") && silent.ends_with("\r\n\r\n"),
        "{silent:?}"
    );
}

#[tokio::test]
async fn a_client_that_goes_away_drops_the_stream_within_the_keep_alive_interval() {
    const KEEP_ALIVE: Duration = Duration::from_millis(300);
    let (dropped, on_drop) = oneshot::channel();
    let guard = Arc::new(Mutex::new(Some(dropped)));
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/events", move |_req: HttpRequest| {
            let guard = DropGuard(guard.lock().unwrap().take());
            async move {
                // One event, then nothing: the stream is pending when the client leaves.
                let events = stream::iter([Event::data("hello")])
                    .chain(stream::pending())
                    .map(move |event| {
                        let _hold = &guard;
                        event
                    });
                EventStream::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
            }
        });
    let server = TestServer::start(app).await;
    let mut events = open(&server, "/events").await;
    assert_eq!(events.next().await.unwrap().data, "hello");
    drop(events);
    let left = Instant::now();
    let dropped_at = tokio::time::timeout(Duration::from_secs(5), on_drop)
        .await
        .expect("the stream was never dropped")
        .unwrap();
    let delay = dropped_at.saturating_duration_since(left);
    assert!(
        delay <= KEEP_ALIVE,
        "dropped {delay:?} after the client left"
    );
}

#[tokio::test]
async fn shutdown_ends_open_event_streams_cleanly_after_what_was_yielded() {
    let yielded: Log = Arc::default();
    let log = yielded.clone();
    let mut app = Application::new();
    app.shutdown_timeout(Duration::from_secs(10));
    app.http_router
        .add(["GET"], "/events", move |_req: HttpRequest| {
            let log = log.clone();
            async move { EventStream::new(paced_events(u64::MAX, Duration::from_millis(100), log)) }
        });
    let mut server = TestServer::start(app).await;
    let mut events = open(&server, "/events").await;
    for n in 0..3 {
        assert_eq!(events.next().await.unwrap().data, format!("event {n}"));
    }
    let stopping = Instant::now();
    server.trigger_stop();
    let served = tokio::time::timeout(Duration::from_secs(2), server.take_handle()).await;
    assert!(
        served.is_ok(),
        "serve must return long before the 10 s drain timeout"
    );
    served.unwrap().unwrap().unwrap();
    let returned_after = stopping.elapsed();
    // The client reads every event that was yielded, then a clean end of stream (no error).
    let mut received = 3;
    while let Some(event) = events.next().await {
        assert_eq!(event.data, format!("event {received}"));
        received += 1;
    }
    assert_eq!(
        received,
        yielded.lock().unwrap().len(),
        "every yielded event reached the client"
    );
    assert!(
        returned_after < Duration::from_secs(1),
        "serve returned after {returned_after:?}"
    );
}

#[tokio::test]
async fn last_event_id_lets_a_stream_resume() {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/events", |req: HttpRequest| async move {
            let next = req
                .last_event_id()
                .and_then(|id| id.parse::<u64>().ok())
                .map_or(0, |id| id + 1);
            EventStream::new(stream::iter(next..next + 2).map(|n| Event::data(n.to_string()).id(n)))
        });
    let server = TestServer::start(app).await;
    let response = client()
        .get(server.url("/events"))
        .header("last-event-id", "41")
        .send()
        .await
        .unwrap();
    let events: Vec<_> = response
        .bytes_stream()
        .eventsource()
        .map(|e| e.unwrap().data)
        .collect()
        .await;
    assert_eq!(events, ["42", "43"]);
}

#[tokio::test]
async fn a_last_event_id_in_utf8_comes_back_as_sent() {
    // Regression: only ASCII ids were returned, so a browser resuming after an id such as
    // "événement-7" (which Chromium sends back as raw UTF-8) got the events replayed.
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/id", |req: HttpRequest| async move {
            format!("{:?}", req.last_event_id())
        });
    let server = TestServer::start(app).await;
    let mut request =
        b"GET /id HTTP/1.1\r\nhost: x\r\nconnection: close\r\nlast-event-id: ".to_vec();
    request.extend("événement-7 ✓".as_bytes());
    request.extend(b"\r\n\r\n");
    let reply = common::raw(server.addr, &request).await;
    assert!(reply.ends_with("Some(\"événement-7 ✓\")"), "{reply}");
    // Not UTF-8: no id, rather than a wrong one.
    let reply = common::raw(
        server.addr,
        b"GET /id HTTP/1.1\r\nhost: x\r\nconnection: close\r\nlast-event-id: \xff7\r\n\r\n",
    )
    .await;
    assert!(reply.ends_with("None"), "{reply}");
}

#[tokio::test]
async fn a_failing_event_stream_is_cut_off_not_completed() {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/events", |_req: HttpRequest| async {
            let items = stream::iter([
                Ok(Event::data("ok")),
                Err(std::io::Error::other("feed broke")),
            ]);
            EventStream::new(items)
        });
    let server = TestServer::start(app).await;
    let outcome = async {
        client()
            .get(server.url("/events"))
            .send()
            .await?
            .bytes()
            .await
    }
    .await;
    assert!(outcome.is_err(), "{outcome:?}");
}

#[tokio::test]
async fn the_sse_clock_sends_its_first_event_at_once_and_then_every_second() {
    let server = TestServer::start(sse_clock::app()).await;
    let page = client()
        .get(server.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"id="time""#) && page.contains(r#"new EventSource("/events")"#));
    let started = Instant::now();
    let mut events = open(&server, "/events").await;
    let first = events.next().await.unwrap();
    let first_at = started.elapsed();
    let second = events.next().await.unwrap();
    let second_at = started.elapsed();
    assert!(
        first_at < Duration::from_millis(500),
        "first event after {first_at:?}"
    );
    assert!(
        second_at - first_at > Duration::from_millis(800),
        "second event {:?} after the first",
        second_at - first_at
    );
    assert!(
        first.data.ends_with(" UTC") && first.data.len() == "2026-11-25 12:00:00 UTC".len(),
        "{}",
        first.data
    );
    assert_ne!(first.data, second.data);
}

#[tokio::test]
async fn the_chat_fans_messages_out_to_every_listener() {
    let server = TestServer::start(sse_chat::app(bareasgi::hub::Hub::memory())).await;
    let mut alice = open(&server, "/events").await;
    let mut bob = open(&server, "/events").await;
    // Both streams are subscribed once their response head has arrived.
    let mut ids = Vec::new();
    for text in ["hello", "multi\nline"] {
        let posted = client()
            .post(server.url("/messages"))
            .body(text)
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 201);
        ids.push(posted.text().await.unwrap());
    }
    for listener in [&mut alice, &mut bob] {
        let first = listener.next().await.unwrap();
        assert_eq!(
            (first.id.as_str(), first.data.as_str()),
            (ids[0].as_str(), "hello")
        );
        let second = listener.next().await.unwrap();
        assert_eq!(
            (second.id.as_str(), second.data.as_str()),
            (ids[1].as_str(), "multi\nline")
        );
    }
    let too_long = client()
        .post(server.url("/messages"))
        .body("x".repeat(5000))
        .send()
        .await
        .unwrap();
    assert_eq!(too_long.status(), 413);
}
