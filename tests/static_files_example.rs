//! The `static_files` example, served for real: the page, its files from `ServeDir`
//! (compressed, ranged), the JSON route with CORS, and the event stream left uncompressed.

mod common;

#[path = "../examples/static_files.rs"]
mod static_files;

use std::io::Read;
use std::time::Duration;

use common::{TestServer, client};
use futures_util::StreamExt;
use http::header::{
    ACCEPT_ENCODING, ACCESS_CONTROL_ALLOW_ORIGIN, CONTENT_ENCODING, CONTENT_TYPE, ORIGIN, RANGE,
};

#[tokio::test]
async fn the_example_serves_its_page_files_route_and_events() {
    let server = TestServer::start(static_files::app(static_files::static_dir())).await;
    let client = client();

    let page = client.get(server.url("/")).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("/static/app.js"));

    let script = client
        .get(server.url("/static/app.js"))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert_eq!(script.headers()[CONTENT_ENCODING], "gzip");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&script.bytes().await.unwrap()[..])
        .read_to_string(&mut text)
        .unwrap();
    let on_disk = std::fs::read_to_string(static_files::static_dir().join("app.js")).unwrap();
    assert_eq!(text, on_disk);

    let css = client
        .get(server.url("/static/style.css"))
        .header(RANGE, "bytes=0-1")
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), 206);
    assert_eq!(css.text().await.unwrap(), "/*");

    let greeting = client
        .get(server.url("/api/greeting"))
        .header(ORIGIN, "https://example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(greeting.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    assert!(greeting.text().await.unwrap().contains("Hello"));

    let events = client
        .get(server.url("/events"))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(events.headers()[CONTENT_TYPE], "text/event-stream");
    assert!(events.headers().get(CONTENT_ENCODING).is_none());
    let first = tokio::time::timeout(Duration::from_secs(5), events.bytes_stream().next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(first.starts_with(b"data: "), "{first:?}");
}
