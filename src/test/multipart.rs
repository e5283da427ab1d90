//! [`MultipartForm`]: a `multipart/form-data` body for a test request, as a browser's form
//! with files would send it.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{BufMut, Bytes, BytesMut};

/// The fields of a `multipart/form-data` body, for
/// [`TestRequest::multipart`](super::TestRequest::multipart): text fields and files, in
/// order.
///
#[cfg_attr(feature = "multipart", doc = "```")]
#[cfg_attr(not(feature = "multipart"), doc = "```ignore")]
/// use bareasgi::test::{MultipartForm, TestClient};
/// use bareasgi::{Application, HttpError, HttpRequest};
///
/// async fn upload(mut req: HttpRequest) -> Result<String, HttpError> {
///     let mut form = req.multipart()?;
///     let mut seen = Vec::new();
///     while let Some(field) = form.next_field().await? {
///         let name = field.name().unwrap_or("").to_owned();
///         let file = field.file_name().map(str::to_owned);
///         let bytes = field.bytes().await?;
///         seen.push(format!("{name}:{file:?}:{}", bytes.len()));
///     }
///     Ok(seen.join(" "))
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut app = Application::new();
/// app.http_router.add("POST", "/upload", upload);
/// let client = TestClient::new(app);
///
/// let form = MultipartForm::new()
///     .text("title", "holiday")
///     .file("photo", "beach.jpg", "image/jpeg", vec![0xff; 2048]);
/// let response = client.post("/upload").multipart(form).await;
/// assert_eq!(response.text().await, r#"title:None:7 photo:Some("beach.jpg"):2048"#);
/// # }
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct MultipartForm {
    parts: Vec<Part>,
}

#[derive(Clone)]
struct Part {
    name: String,
    file_name: Option<String>,
    content_type: Option<String>,
    data: Bytes,
}

impl MultipartForm {
    /// A form without fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a text field `name` with `value`.
    pub fn text(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.parts.push(Part {
            name: name.into(),
            file_name: None,
            content_type: None,
            data: Bytes::from(value.into()),
        });
        self
    }

    /// Adds a file field `name`: a file called `file_name` of `content_type` holding
    /// `data`.
    ///
    /// # Panics
    /// When `content_type` holds a line break, which would end the part's headers.
    #[track_caller]
    pub fn file(
        mut self,
        name: impl Into<String>,
        file_name: impl Into<String>,
        content_type: &str,
        data: impl Into<Bytes>,
    ) -> Self {
        if content_type.contains(['\r', '\n']) {
            panic!("the content type {content_type:?} of a multipart file has a line break");
        }
        self.parts.push(Part {
            name: name.into(),
            file_name: Some(file_name.into()),
            content_type: Some(content_type.to_owned()),
            data: data.into(),
        });
        self
    }

    /// The body and the boundary that separates its parts (one found in no part's data).
    pub(crate) fn encode(&self) -> (String, Bytes) {
        let boundary = loop {
            let candidate = new_boundary();
            let clashes = self
                .parts
                .iter()
                .any(|part| contains(&part.data, candidate.as_bytes()));
            if !clashes {
                break candidate;
            }
        };
        let size: usize = self.parts.iter().map(|part| part.data.len() + 160).sum();
        let mut body = BytesMut::with_capacity(size + boundary.len() + 8);
        for part in &self.parts {
            body.put_slice(format!("--{boundary}\r\n").as_bytes());
            let mut disposition = format!(
                "content-disposition: form-data; name=\"{}\"",
                escape(&part.name)
            );
            if let Some(file_name) = &part.file_name {
                disposition.push_str(&format!("; filename=\"{}\"", escape(file_name)));
            }
            body.put_slice(disposition.as_bytes());
            body.put_slice(b"\r\n");
            if let Some(content_type) = &part.content_type {
                body.put_slice(format!("content-type: {content_type}\r\n").as_bytes());
            }
            body.put_slice(b"\r\n");
            body.put_slice(&part.data);
            body.put_slice(b"\r\n");
        }
        body.put_slice(format!("--{boundary}--\r\n").as_bytes());
        (boundary, body.freeze())
    }
}

/// A boundary unlikely to be in any data, and different for each form.
fn new_boundary() -> String {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    let count = COUNT.fetch_add(1, Ordering::Relaxed);
    format!("bareasgi-test-{nanos:08x}{count:08x}")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// A field or file name as browsers write it in a part's head (the HTML standard's
/// multipart/form-data encoding): `"`, CR and LF percent-encoded, so the name cannot end
/// the quoted string or the header.
fn escape(name: &str) -> String {
    name.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

impl fmt::Debug for MultipartForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for part in &self.parts {
            match &part.file_name {
                Some(file_name) => list.entry(&format_args!(
                    "{:?}: file {file_name:?}, {} bytes",
                    part.name,
                    part.data.len()
                )),
                None => list.entry(&format_args!("{:?}: {} bytes", part.name, part.data.len())),
            };
        }
        list.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_has_each_part_then_the_closing_boundary() {
        let (boundary, body) = MultipartForm::new()
            .text("a\"b", "one")
            .file("f", "x.txt", "text/plain", "two")
            .encode();
        let expected = format!(
            "--{boundary}\r\ncontent-disposition: form-data; name=\"a%22b\"\r\n\r\none\r\n\
             --{boundary}\r\ncontent-disposition: form-data; name=\"f\"; filename=\"x.txt\"\r\n\
             content-type: text/plain\r\n\r\ntwo\r\n--{boundary}--\r\n"
        );
        assert_eq!(std::str::from_utf8(&body).unwrap(), expected);
    }
}
