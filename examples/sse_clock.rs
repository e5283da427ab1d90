//! The flagship: a page whose clock ticks every second over server-sent events.
//!
//! ```text
//! cargo run --example sse_clock              # PORT=9009 by default
//! TLS_CERT=cert.pem TLS_KEY=key.pem cargo run --features tls --example sse_clock
//! ```
//! Open <http://localhost:9009> (or, with the certificate, <https://localhost:9009>: HTTP/2,
//! see `support/serve.rs` for making one). Each event is sent the moment it is produced (no "nudge"
//! comments), and when the tab closes the event stream is dropped.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bareasgi::sse::{Event, EventStream};
use bareasgi::{Application, HttpRequest, IntoResponse, text_writer};
use futures_util::stream;
use tokio::time::MissedTickBehavior;

#[cfg(not(test))] // the tests that include this file take its routes, and do not serve
#[path = "support/serve.rs"]
mod serve;

const PAGE: &str = r#"<!DOCTYPE html>
<html>
  <head>
    <meta charset="utf-8">
    <title>Server-Sent Events clock</title>
  </head>
  <body>
    <h1>Server-Sent Events</h1>
    <p>Time: <span id="time">waiting for the first event...</span></p>
    <script>
      const events = new EventSource("/events");
      events.onmessage = (event) => {
        document.getElementById("time").textContent = event.data;
      };
    </script>
  </body>
</html>
"#;

async fn index(_req: HttpRequest) -> impl IntoResponse {
    (
        200,
        [("content-type", "text/html; charset=utf-8")],
        text_writer(PAGE),
    )
}

async fn events(_req: HttpRequest) -> EventStream {
    let mut interval = tokio::time::interval(Duration::from_secs(1));
    interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
    // The first tick completes at once, so the first event goes out on connect.
    let ticks = stream::unfold(interval, |mut interval| async move {
        interval.tick().await;
        Some((Event::data(utc_now()), interval))
    });
    EventStream::new(ticks)
}

/// The clock's routes, shared with the test that reads its first events.
pub fn app() -> Application {
    let mut app = Application::new();
    app.http_router.add(["GET"], "/", index);
    app.http_router.add(["GET"], "/events", events);
    app
}

/// The current UTC time as `YYYY-MM-DD HH:MM:SS UTC`, without a date crate.
fn utc_now() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let (days, time_of_day) = (seconds / 86_400, seconds % 86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        time_of_day / 3600,
        time_of_day % 3600 / 60,
        time_of_day % 60
    )
}

#[cfg(not(test))] // the test that includes this file uses `app` only
#[tokio::main]
async fn main() -> Result<(), bareasgi::Error> {
    serve::serve(app(), 9009, "").await
}
