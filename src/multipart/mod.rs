//! `multipart/form-data` uploads, streamed (feature `multipart`, on [multer]).
//!
//! [`HttpRequest::multipart`] gives the fields one after another, and each field is a
//! stream of chunks as they come off the connection: a file goes to disk without ever being
//! held whole in memory.
//!
//! ```
//! use bareasgi::multipart::{MultipartError, MultipartLimits};
//! use bareasgi::{HttpError, HttpRequest};
//! use tokio::io::AsyncWriteExt;
//!
//! async fn upload(mut req: HttpRequest) -> Result<String, HttpError> {
//!     // Up to 1 GiB in all, 8 KiB for the `title` field; past either, a 413.
//!     let limits = MultipartLimits::new().whole_body(1 << 30).field("title", 8 * 1024);
//!     let mut form = req.multipart_with(limits)?;
//!     let mut saved = Vec::new();
//!     while let Some(mut field) = form.next_field().await? {
//!         let Some(file_name) = field.file_name().map(sanitize) else {
//!             let _text = field.text().await?; // a plain form field
//!             continue;
//!         };
//!         let path = std::env::temp_dir().join(&file_name);
//!         let mut file = tokio::fs::File::create(&path).await.map_err(io_error)?;
//!         while let Some(chunk) = field.chunk().await? {
//!             file.write_all(&chunk).await.map_err(io_error)?;
//!         }
//!         file.flush().await.map_err(io_error)?; // tokio writes in the background
//!         saved.push(file_name);
//!     }
//!     Ok(format!("saved {saved:?}"))
//! }
//!
//! fn sanitize(name: &str) -> String {
//!     name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '.').collect()
//! }
//!
//! fn io_error(error: std::io::Error) -> HttpError {
//!     tracing::error!(%error, "cannot store the upload");
//!     HttpError::internal("cannot store the upload")
//! }
//! ```
//!
//! The whole-body limit defaults to the request's [body limit](HttpRequest::body_limit)
//! (2 MiB unless the application or the handler raised it), so an endpoint that takes large
//! files says how large with [`MultipartLimits::whole_body`] (or
//! [`HttpRequest::set_body_limit`]). A `content-length` over the limit is refused before
//! anything is read. Whatever the limits, what comes before the first field (a preamble)
//! and each field's headers may take at most 16 KiB, since the parser holds those in memory
//! until their end: past that, a `413`.
//!
//! [multer]: https://docs.rs/multer

mod head_limit;

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use http::header::CONTENT_LENGTH;
use http::{HeaderMap, StatusCode};

use crate::error::HttpError;
use crate::request::{HttpRequest, media_type};
use crate::response::{HttpResponse, IntoResponse};
use head_limit::{HeadLimited, HeadTooLarge};

/// How much a multipart body may hold: in all, per field, and for fields named one by one.
///
/// Past a limit, reading fails with [`MultipartError`] whose status is `413`.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct MultipartLimits {
    whole_body: Option<u64>,
    per_field: Option<u64>,
    fields: Vec<(String, u64)>,
}

impl MultipartLimits {
    /// The request's body limit for the whole body; no limit per field but that.
    pub fn new() -> Self {
        Self::default()
    }

    /// The most bytes the whole body may hold (boundaries and part headers included).
    pub fn whole_body(mut self, bytes: u64) -> Self {
        self.whole_body = Some(bytes);
        self
    }

    /// The most bytes any one field's data may hold.
    pub fn per_field(mut self, bytes: u64) -> Self {
        self.per_field = Some(bytes);
        self
    }

    /// The most bytes the field called `name` may hold, in place of
    /// [`per_field`](Self::per_field) for it.
    pub fn field(mut self, name: impl Into<String>, bytes: u64) -> Self {
        self.fields.push((name.into(), bytes));
        self
    }

    fn constraints(&self, body_limit: u64) -> multer::Constraints {
        let whole = self.whole_body.unwrap_or(body_limit);
        let mut size = multer::SizeLimit::new()
            .whole_stream(whole)
            .per_field(self.per_field.unwrap_or(whole));
        for (name, limit) in &self.fields {
            size = size.for_field(name.clone(), *limit);
        }
        multer::Constraints::new().size_limit(size)
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "multipart")))]
impl HttpRequest {
    /// The body as a `multipart/form-data` stream of fields, within the request's
    /// [body limit](Self::body_limit). Takes the body: call it once.
    ///
    /// # Errors
    /// [`MultipartError`] with status `415` when the content type is not
    /// `multipart/form-data`, `400` when it has no boundary, `413` when `content-length`
    /// is already over the limit.
    pub fn multipart(&mut self) -> Result<Multipart, MultipartError> {
        self.multipart_with(MultipartLimits::new())
    }

    /// [`multipart`](Self::multipart) with limits of its own.
    ///
    /// # Errors
    /// As [`multipart`](Self::multipart).
    pub fn multipart_with(&mut self, limits: MultipartLimits) -> Result<Multipart, MultipartError> {
        let is_multipart = media_type(self.headers())
            .is_some_and(|essence| essence.eq_ignore_ascii_case("multipart/form-data"));
        if !is_multipart {
            return Err(MultipartError::new(multer::Error::NoMultipart));
        }
        let content_type = self.headers()[http::header::CONTENT_TYPE]
            .to_str()
            .unwrap_or_default();
        let boundary = multer::parse_boundary(content_type).map_err(MultipartError::new)?;
        let constraints = limits.constraints(self.body_limit() as u64);
        let whole = limits.whole_body.unwrap_or(self.body_limit() as u64);
        let declared = self
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|length| length > whole) {
            return Err(MultipartError::new(multer::Error::StreamSizeExceeded {
                limit: whole,
            }));
        }
        let body = HeadLimited::new(self.take_body(), &boundary);
        Ok(Multipart {
            inner: multer::Multipart::with_constraints(body, boundary, constraints),
        })
    }
}

/// The fields of a `multipart/form-data` body, in order: call
/// [`next_field`](Self::next_field), or use it as a `Stream` of fields.
///
/// A field must be dropped (or read to its end) before the next is asked for; asking while
/// holding one is a programming error reported as a `500`.
pub struct Multipart {
    inner: multer::Multipart<'static>,
}

impl Multipart {
    /// The next field, or `None` after the last.
    ///
    /// # Errors
    /// [`MultipartError`]: a malformed body (`400`), a limit passed (`413`), or the
    /// previous field still held (`500`).
    pub async fn next_field(&mut self) -> Result<Option<Field>, MultipartError> {
        std::future::poll_fn(|cx| self.inner.poll_next_field(cx))
            .await
            .map(|field| field.map(|inner| Field { inner }))
            .map_err(MultipartError::new)
    }
}

impl Stream for Multipart {
    type Item = Result<Field, MultipartError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut()
            .inner
            .poll_next_field(cx)
            .map(|polled| match polled {
                Ok(Some(inner)) => Some(Ok(Field { inner })),
                Ok(None) => None,
                Err(error) => Some(Err(MultipartError::new(error))),
            })
    }
}

impl fmt::Debug for Multipart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Multipart").finish_non_exhaustive()
    }
}

/// One field of a multipart body: its name, file name, content type and headers, and its
/// data as a stream of chunks ([`chunk`](Self::chunk), or use it as a `Stream`).
pub struct Field {
    inner: multer::Field<'static>,
}

impl Field {
    /// The field's name (`name=` in its `content-disposition`).
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.inner.name()
    }

    /// The file name the client gave (`filename=`); set for file inputs. It is the
    /// client's text: never use it as a path without cleaning it.
    #[must_use]
    pub fn file_name(&self) -> Option<&str> {
        self.inner.file_name()
    }

    /// The field's `content-type`, as the client declared it.
    #[must_use]
    pub fn content_type(&self) -> Option<&str> {
        self.inner.content_type().map(AsRef::as_ref)
    }

    /// The field's own headers.
    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// The next chunk of the field's data, or `None` at its end.
    ///
    /// # Errors
    /// [`MultipartError`] for a malformed body or a limit passed.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, MultipartError> {
        self.inner.chunk().await.map_err(MultipartError::new)
    }

    /// The field's whole data, within its limit.
    ///
    /// # Errors
    /// As [`chunk`](Self::chunk).
    pub async fn bytes(self) -> Result<Bytes, MultipartError> {
        self.inner.bytes().await.map_err(MultipartError::new)
    }

    /// The field's whole data as text (in the charset its content type names, UTF-8 by
    /// default), within its limit.
    ///
    /// # Errors
    /// As [`chunk`](Self::chunk).
    pub async fn text(self) -> Result<String, MultipartError> {
        self.inner.text().await.map_err(MultipartError::new)
    }
}

impl Stream for Field {
    type Item = Result<Bytes, MultipartError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.get_mut().inner)
            .poll_next(cx)
            .map(|polled| polled.map(|chunk| chunk.map_err(MultipartError::new)))
    }
}

impl fmt::Debug for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Field")
            .field("name", &self.name())
            .field("file_name", &self.file_name())
            .field("content_type", &self.content_type())
            .finish_non_exhaustive()
    }
}

/// Why a multipart body could not be read. It is a response with the right status, so `?`
/// in a handler returning `Result<_, HttpError>` answers correctly.
#[derive(Debug)]
pub struct MultipartError {
    inner: multer::Error,
}

impl MultipartError {
    fn new(inner: multer::Error) -> Self {
        Self { inner }
    }

    /// A preamble or a field's headers over their bound, which multer reports as a failed
    /// read of the stream it was given.
    fn head_too_large(&self) -> bool {
        matches!(&self.inner, multer::Error::StreamReadFailed(source) if source.is::<HeadTooLarge>())
    }

    /// The status this error answers with: `413` past a limit, `415` for a body that is not
    /// `multipart/form-data`, `500` when the handler asked for a field while holding the
    /// previous one, `400` for anything else the client got wrong.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match &self.inner {
            multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            _ if self.head_too_large() => StatusCode::PAYLOAD_TOO_LARGE,
            multer::Error::NoMultipart | multer::Error::DecodeContentType(_) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            multer::Error::LockFailure => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// Whether a size limit was passed.
    #[must_use]
    pub fn is_too_large(&self) -> bool {
        self.status() == StatusCode::PAYLOAD_TOO_LARGE
    }
}

impl fmt::Display for MultipartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            multer::Error::NoMultipart | multer::Error::DecodeContentType(_) => {
                f.write_str("expected content-type multipart/form-data")
            }
            multer::Error::LockFailure => {
                f.write_str("a multipart field was asked for while the previous one was held")
            }
            // "Too large", not "invalid": a body over a limit is not malformed, and the
            // client's fix is a smaller one.
            multer::Error::StreamReadFailed(source) if source.is::<HeadTooLarge>() => {
                write!(f, "multipart body too large: {source}")
            }
            multer::Error::FieldSizeExceeded { .. } => {
                write!(f, "multipart body too large: {}", self.inner)
            }
            multer::Error::StreamSizeExceeded { limit } => {
                write!(
                    f,
                    "multipart body too large: over the limit of {limit} bytes"
                )
            }
            multer::Error::StreamReadFailed(_) => {
                f.write_str("failed to read the multipart request body")
            }
            other => write!(f, "invalid multipart body: {other}"),
        }
    }
}

impl std::error::Error for MultipartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.inner)
    }
}

impl IntoResponse for MultipartError {
    fn into_response(self) -> HttpResponse {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "multipart misuse in the handler; answering 500");
            return HttpResponse::internal_server_error();
        }
        tracing::debug!(error = %self, source = ?self.inner, "refused the multipart body");
        HttpResponse::text(status, self.to_string())
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "multipart")))]
impl From<MultipartError> for HttpError {
    fn from(error: MultipartError) -> Self {
        let status = error.status();
        if status.is_server_error() {
            tracing::error!(%error, "multipart misuse in the handler; answering 500");
            return HttpError::internal("Internal Server Error");
        }
        HttpError::new(status, error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    fn multipart(body: &'static str, limits: &MultipartLimits) -> multer::Multipart<'static> {
        let stream = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(body)]);
        multer::Multipart::with_constraints(stream, "X", limits.constraints(1 << 20))
    }

    const TWO_FIELDS: &str = "--X\r\ncontent-disposition: form-data; name=\"title\"\r\n\r\nhello\r\n\
        --X\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\
        content-type: text/plain\r\n\r\n0123456789\r\n--X--\r\n";

    #[tokio::test]
    async fn fields_come_in_order_with_their_names_and_data() {
        let mut form = Multipart {
            inner: multipart(TWO_FIELDS, &MultipartLimits::new()),
        };
        let title = form.next_field().await.unwrap().unwrap();
        assert_eq!((title.name(), title.file_name()), (Some("title"), None));
        assert_eq!(title.text().await.unwrap(), "hello");
        let file = form.next().await.unwrap().unwrap();
        assert_eq!(file.file_name(), Some("a.txt"));
        assert_eq!(file.content_type(), Some("text/plain"));
        let chunks: Vec<Bytes> = file.map(Result::unwrap).collect().await;
        assert_eq!(chunks.concat(), b"0123456789");
        assert!(form.next_field().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn limits_per_field_by_name_and_in_all_are_413() {
        let limits = MultipartLimits::new().field("file", 4);
        let mut form = Multipart {
            inner: multipart(TWO_FIELDS, &limits),
        };
        let title = form.next_field().await.unwrap().unwrap();
        assert_eq!(
            title.text().await.unwrap(),
            "hello",
            "other fields are not limited"
        );
        let error = form
            .next_field()
            .await
            .unwrap()
            .unwrap()
            .bytes()
            .await
            .unwrap_err();
        assert_eq!(error.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            error.to_string(),
            "multipart body too large: field \"file\" exceeded the size limit: 4 bytes"
        );

        let mut form = Multipart {
            inner: multipart(TWO_FIELDS, &MultipartLimits::new().whole_body(50)),
        };
        let error = loop {
            match form.next_field().await {
                Ok(Some(field)) => {
                    if let Err(error) = field.bytes().await {
                        break error;
                    }
                }
                Ok(None) => panic!("the whole-body limit was not applied"),
                Err(error) => break error,
            }
        };
        assert!(error.is_too_large(), "{error}");
        assert!(
            error.to_string().starts_with("multipart body too large"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_malformed_body_is_400_and_holding_a_field_is_500() {
        let mut form = Multipart {
            inner: multipart("--X\r\nno headers end", &MultipartLimits::new()),
        };
        let error = form.next_field().await.unwrap_err();
        assert_eq!(error.status(), StatusCode::BAD_REQUEST, "{error}");

        let mut form = Multipart {
            inner: multipart(TWO_FIELDS, &MultipartLimits::new()),
        };
        let _held = form.next_field().await.unwrap().unwrap();
        let error = form.next_field().await.unwrap_err();
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            error.into_response().status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
