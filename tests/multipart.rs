//! Multipart uploads over a real socket, built by a real client (reqwest's multipart form):
//! fields in order with their names, file names and data; 413 past each limit, 415 for
//! another content type, 400 for a broken body.

mod common;

use bareasgi::multipart::MultipartLimits;
use bareasgi::{Application, HttpError, HttpRequest};
use common::{TestServer, client, raw, status_of};
use futures_util::StreamExt;
use reqwest::multipart::{Form, Part};

/// Describes every field: `name[file name]=size:first bytes`, counting the file's chunks.
async fn describe(mut req: HttpRequest) -> Result<String, HttpError> {
    let limits = MultipartLimits::new()
        .whole_body(1 << 20)
        .per_field(64 * 1024)
        .field("note", 16);
    let mut form = req.multipart_with(limits)?;
    let mut lines = Vec::new();
    while let Some(field) = form.next().await {
        let mut field = field?;
        let name = field.name().unwrap_or("?").to_owned();
        let file = field
            .file_name()
            .map(|f| format!("[{f}]"))
            .unwrap_or_default();
        let kind = field.content_type().unwrap_or("-").to_owned();
        let mut data = Vec::new();
        while let Some(chunk) = field.chunk().await? {
            data.extend_from_slice(&chunk);
        }
        let head = String::from_utf8_lossy(&data[..data.len().min(5)]).into_owned();
        lines.push(format!("{name}{file} {kind} {}:{head}", data.len()));
    }
    Ok(lines.join("\n"))
}

async fn default_limits(mut req: HttpRequest) -> Result<String, HttpError> {
    let mut form = req.multipart()?;
    let mut total = 0;
    while let Some(field) = form.next_field().await? {
        total += field.bytes().await?.len();
    }
    Ok(total.to_string())
}

fn app() -> Application {
    let mut app = Application::new();
    app.body_limit(1024);
    app.http_router.add(["POST"], "/describe", describe);
    app.http_router.add(["POST"], "/default", default_limits);
    app
}

#[tokio::test]
async fn a_browser_style_form_arrives_field_by_field() {
    let server = TestServer::start(app()).await;
    let form = Form::new()
        .text("title", "holiday")
        .part(
            "photo",
            Part::bytes(vec![b'x'; 40_000])
                .file_name("beach.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        )
        .text("note", "short");
    let response = client()
        .post(server.url("/describe"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await.unwrap(),
        "title - 7:holid\nphoto[beach.jpg] image/jpeg 40000:xxxxx\nnote - 5:short"
    );
}

#[tokio::test]
async fn each_limit_is_a_413_naming_what_was_passed() {
    let server = TestServer::start(app()).await;
    let over_named = Form::new().text("note", "seventeen bytes!!");
    let response = client()
        .post(server.url("/describe"))
        .multipart(over_named)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(
        response.text().await.unwrap(),
        "multipart body too large: field \"note\" exceeded the size limit: 16 bytes"
    );

    let over_field = Form::new().part("big", Part::bytes(vec![0u8; 64 * 1024 + 1]));
    let response = client()
        .post(server.url("/describe"))
        .multipart(over_field)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);

    // The default whole-body limit is the request's body limit (1 KiB here); a declared
    // length over it is refused before the body is read.
    let over_body = Form::new().part("f", Part::bytes(vec![0u8; 2000]));
    let response = client()
        .post(server.url("/default"))
        .multipart(over_body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let text = response.text().await.unwrap();
    assert!(
        text.starts_with("multipart body too large: over the limit of"),
        "413 says too large, not invalid: {text}"
    );
    let within = Form::new().part("f", Part::bytes(vec![0u8; 500]));
    let response = client()
        .post(server.url("/default"))
        .multipart(within)
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "500");
}

#[tokio::test]
async fn another_content_type_is_415_and_a_broken_body_400() {
    let server = TestServer::start(app()).await;
    let response = client()
        .post(server.url("/describe"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    assert_eq!(
        response.text().await.unwrap(),
        "expected content-type multipart/form-data"
    );

    let no_boundary = raw(
        server.addr,
        b"POST /describe HTTP/1.1\r\nhost: x\r\ncontent-type: multipart/form-data\r\n\
          content-length: 0\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status_of(&no_boundary), 400, "{no_boundary}");

    let body = "--B\r\ncontent-disposition: form-data; name=\"a\"\r\n\r\nunterminated";
    let request = format!(
        "POST /describe HTTP/1.1\r\nhost: x\r\ncontent-type: multipart/form-data; boundary=B\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let truncated = raw(server.addr, request.as_bytes()).await;
    assert_eq!(status_of(&truncated), 400, "{truncated}");
    assert!(truncated.contains("incomplete data"), "{truncated}");
}

/// Takes uploads of up to 64 MiB, as an endpoint for large files does.
async fn large_files(mut req: HttpRequest) -> Result<String, HttpError> {
    let mut form = req.multipart_with(MultipartLimits::new().whole_body(64 << 20))?;
    let mut total = 0;
    while let Some(mut field) = form.next_field().await? {
        while let Some(chunk) = field.chunk().await? {
            total += chunk.len();
        }
    }
    Ok(total.to_string())
}

// Regression: multer holds the preamble and a field's headers in memory until it finds
// their end, so with the whole-body limit raised for large files a client could make the
// server buffer (and rescan on every read) everything up to that limit by never ending
// them. Both are now bounded (16 KiB), however large the whole-body limit.
#[tokio::test]
async fn an_endless_preamble_or_field_head_is_a_413_whatever_the_whole_body_limit() {
    let mut app = Application::new();
    app.http_router.add(["POST"], "/large", large_files);
    let server = TestServer::start(app).await;
    let post = |body: Vec<u8>| {
        client()
            .post(server.url("/large"))
            .header("content-type", "multipart/form-data; boundary=B")
            .body(body)
            .send()
    };

    let preamble = vec![b'a'; 256 * 1024];
    let response = post(preamble).await.unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(
        response.text().await.unwrap(),
        "multipart body too large: the preamble or a field's headers run past 16384 bytes"
    );

    let mut endless_head = b"--B\r\ncontent-disposition: form-data; name=\"f\"\r\nx-pad: ".to_vec();
    endless_head.resize(256 * 1024, b'a');
    let response = post(endless_head).await.unwrap();
    assert_eq!(response.status(), 413);

    // A field's data is not a head: large data, blank lines in it, is fine.
    let mut upload = b"--B\r\ncontent-disposition: form-data; name=\"f\"\r\n\r\n".to_vec();
    upload.extend(b"\r\n\r\nline\r\n".iter().cycle().take(1 << 20));
    upload.extend_from_slice(b"\r\n--B--\r\n");
    let response = post(upload).await.unwrap();
    assert_eq!(response.text().await.unwrap(), (1 << 20).to_string());
}
