//! An `EventSource` as the scale-out tests need it: reads a stream of events and, when the
//! stream ends or fails, reconnects (to the next URL in turn) with `Last-Event-ID`.

use std::time::Duration;

use eventsource_stream::Eventsource;
use futures_util::StreamExt;

/// One received event: `(id, data)` for a message, `("missed", data)` for a gap.
pub type Received = (String, String);

/// A client without a total timeout (the streams outlive any), failing fast to connect.
pub fn stream_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

/// What a resuming reader saw.
#[derive(Debug, Default)]
pub struct Reading {
    pub events: Vec<Received>,
    /// How many times it had to connect again.
    pub reconnects: usize,
}

/// Reads from `urls[0]` after `last_event_id` until `count` events arrived; whenever the
/// stream ends or fails, reconnects to the next URL (cycling) with the last id seen.
pub async fn read_resuming(urls: Vec<String>, last_event_id: String, count: usize) -> Reading {
    let client = stream_client();
    let mut reading = Reading::default();
    let mut last_id = last_event_id;
    let mut url_index = 0;
    let mut first = true;
    while reading.events.len() < count {
        if !first {
            reading.reconnects += 1;
            url_index = (url_index + 1) % urls.len();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        first = false;
        let response = match client
            .get(&urls[url_index])
            .header("last-event-id", &last_id)
            .send()
            .await
        {
            Ok(response) if response.status() == 200 => response,
            _ => continue,
        };
        let mut events = response.bytes_stream().eventsource();
        while let Some(Ok(event)) = events.next().await {
            if event.event == "missed" {
                reading.events.push(("missed".to_owned(), event.data));
            } else {
                last_id.clone_from(&event.id);
                reading.events.push((event.id, event.data));
            }
            if reading.events.len() == count {
                break;
            }
        }
    }
    reading
}
