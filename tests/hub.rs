//! The in-memory hub: replay then live with no gap or duplicate at the seam, the lag policy,
//! resuming from ids it cannot place, and subscriptions served as event streams over a real
//! socket. (The Redis hub has its own file, `hub_redis.rs`.)

mod common;

use std::time::Duration;

use bareasgi::hub::{Event, EventId, Hub, Subscription};
use bareasgi::sse::EventStream;
use bareasgi::{Application, HttpError, HttpRequest};
use common::{TestServer, client};
use eventsource_stream::Eventsource;
use futures_util::StreamExt;

async fn next(subscription: &mut Subscription) -> Event {
    tokio::time::timeout(Duration::from_secs(5), subscription.next())
        .await
        .expect("an event within 5 s")
        .expect("the subscription does not end")
        .expect("the memory hub does not fail")
}

async fn texts(subscription: &mut Subscription, count: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        match next(subscription).await {
            Event::Message(message) => out.push(message.data().to_owned()),
            Event::Missed(missed) => out.push(format!("missed {:?}", missed.count())),
        }
    }
    out
}

/// Nothing more arrives within a short wait.
async fn assert_quiet(subscription: &mut Subscription) {
    let more = tokio::time::timeout(Duration::from_millis(100), subscription.next()).await;
    assert!(more.is_err(), "unexpected {more:?}");
}

#[tokio::test]
async fn a_new_subscriber_sees_what_is_published_after_it_subscribed() {
    let hub = Hub::memory();
    hub.publish("chat", "before").await.unwrap();
    let mut subscription = hub.subscribe("chat", None).await.unwrap();
    let id = hub.publish("chat", "after").await.unwrap();
    match next(&mut subscription).await {
        Event::Message(message) => {
            assert_eq!((message.id(), message.data()), (id, "after"));
        }
        other => panic!("{other:?}"),
    }
    assert_quiet(&mut subscription).await;
    // Topics are separate.
    hub.publish("other", "elsewhere").await.unwrap();
    assert_quiet(&mut subscription).await;
}

#[tokio::test]
async fn resuming_replays_what_came_after_the_id_then_goes_live() {
    let hub = Hub::memory();
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(hub.publish("t", format!("m{n}")).await.unwrap());
    }
    let mut subscription = hub.subscribe("t", Some(&ids[1].to_string())).await.unwrap();
    hub.publish("t", "m5").await.unwrap();
    assert_eq!(texts(&mut subscription, 4).await, ["m2", "m3", "m4", "m5"]);
    assert_quiet(&mut subscription).await;
    // "0" is before every event: the whole history.
    let mut everything = hub.subscribe("t", Some("0")).await.unwrap();
    assert_eq!(texts(&mut everything, 6).await.len(), 6);
    // Resuming from the newest id replays nothing.
    let mut caught_up = hub
        .subscribe(
            "t",
            Some(&hub.publish("t", "m6").await.unwrap().to_string()),
        )
        .await
        .unwrap();
    assert_quiet(&mut caught_up).await;
}

// The seam: subscribers that resume while events are being published must each receive
// every event after their id exactly once, in order, wherever replay turned into live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_turns_into_live_without_gap_or_duplicate_under_concurrent_publishing() {
    const TOTAL: usize = 2000;
    let hub = Hub::builder().history(TOTAL).memory();
    let first = hub.publish("seam", "0").await.unwrap();
    let publisher = {
        let hub = hub.clone();
        tokio::spawn(async move {
            for n in 1..TOTAL {
                hub.publish("seam", n.to_string()).await.unwrap();
                if n % 50 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        })
    };
    let mut readers = Vec::new();
    for start in 0..20 {
        let hub = hub.clone();
        readers.push(tokio::spawn(async move {
            // Subscribe at different moments, each resuming from the first event.
            tokio::time::sleep(Duration::from_micros(start * 300)).await;
            let mut subscription = hub
                .subscribe("seam", Some(&first.to_string()))
                .await
                .unwrap();
            let mut previous: Option<EventId> = Some(first);
            for expected in 1..TOTAL {
                match next(&mut subscription).await {
                    Event::Message(message) => {
                        assert_eq!(message.data(), expected.to_string());
                        assert!(Some(message.id()) > previous);
                        previous = Some(message.id());
                    }
                    other => panic!("subscriber {start}: {other:?} before {expected}"),
                }
            }
        }));
    }
    publisher.await.unwrap();
    for reader in readers {
        reader.await.unwrap();
    }
}

#[tokio::test]
async fn a_subscriber_overtaken_by_the_history_is_told_how_many_it_missed() {
    let hub = Hub::builder().history(4).memory();
    let mut slow = hub.subscribe("t", None).await.unwrap();
    for n in 0..10 {
        hub.publish("t", format!("m{n}")).await.unwrap();
    }
    assert_eq!(
        texts(&mut slow, 5).await,
        ["missed Some(6)", "m6", "m7", "m8", "m9"]
    );
    hub.publish("t", "m10").await.unwrap();
    assert_eq!(texts(&mut slow, 1).await, ["m10"]);
}

#[tokio::test]
async fn ids_the_hub_cannot_place_start_with_a_gap() {
    let hub = Hub::builder().history(2).memory();
    let old = hub.publish("t", "old").await.unwrap();
    for n in 0..3 {
        hub.publish("t", format!("m{n}")).await.unwrap();
    }
    // Older than the history: from the oldest event kept.
    let mut resumed = hub.subscribe("t", Some(&old.to_string())).await.unwrap();
    assert_eq!(texts(&mut resumed, 3).await, ["missed None", "m1", "m2"]);
    // Not an id, or newer than every event: from now on.
    for id in ["garbage", "99999999999999-0"] {
        let mut subscription = hub.subscribe("t", Some(id)).await.unwrap();
        assert_eq!(texts(&mut subscription, 1).await, ["missed None"]);
        hub.publish("t", id).await.unwrap();
        assert_eq!(texts(&mut subscription, 1).await, [id]);
    }
}

async fn events(req: HttpRequest) -> Result<EventStream, HttpError> {
    let hub = req.info.get::<Hub>().unwrap();
    Ok(EventStream::new(
        hub.subscribe("chat", req.last_event_id()).await?,
    ))
}

#[tokio::test]
async fn a_subscription_is_an_event_stream_that_resumes_with_last_event_id() {
    let hub = Hub::memory();
    let mut app = Application::new();
    app.info.insert(hub.clone());
    app.http_router.add(["GET"], "/events", events);
    let server = TestServer::start(app).await;
    let ids: Vec<EventId> = {
        let mut ids = Vec::new();
        for text in ["one", "two\nlines", "three"] {
            ids.push(hub.publish("chat", text).await.unwrap());
        }
        ids
    };
    let response = client()
        .get(server.url("/events"))
        .header("last-event-id", ids[0].to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut stream = response.bytes_stream().eventsource();
    let mut received = Vec::new();
    for _ in 0..2 {
        let event = stream.next().await.unwrap().unwrap();
        received.push((event.id, event.data));
    }
    assert_eq!(
        received,
        [
            (ids[1].to_string(), "two\nlines".to_owned()),
            (ids[2].to_string(), "three".to_owned()),
        ]
    );
    let live = hub.publish("chat", "four").await.unwrap();
    let event = stream.next().await.unwrap().unwrap();
    assert_eq!(
        (event.id, event.data),
        (live.to_string(), "four".to_owned())
    );
    // An id older than the history is a `missed` event on the wire.
    let small = Hub::builder().history(1).memory();
    let mut app = Application::new();
    app.info.insert(small.clone());
    app.http_router.add(["GET"], "/events", events);
    let server = TestServer::start(app).await;
    let seen = small.publish("chat", "seen").await.unwrap();
    small.publish("chat", "gone").await.unwrap();
    small.publish("chat", "kept").await.unwrap();
    let response = client()
        .get(server.url("/events"))
        .header("last-event-id", seen.to_string())
        .send()
        .await
        .unwrap();
    let mut stream = response.bytes_stream().eventsource();
    let missed = stream.next().await.unwrap().unwrap();
    assert_eq!(
        (missed.event.as_str(), missed.data.as_str()),
        ("missed", "unknown")
    );
    assert_eq!(stream.next().await.unwrap().unwrap().data, "kept");
}
