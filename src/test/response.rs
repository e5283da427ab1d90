//! [`TestResponse`]: a response as a test reads it.

use std::fmt;
use std::future::Future;
use std::panic::Location;

use bytes::Bytes;
use http::header::HeaderName;
use http::{HeaderMap, Response, StatusCode, Version};
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;

use super::events::Events;
use super::failure::fail_at;
use crate::error::BoxError;

/// A response from the application: its status and headers at once, its body read as it
/// arrives ([`chunk`](Self::chunk), [`events`](Self::events)) or whole ([`bytes`](Self::bytes),
/// [`text`](Self::text), [`json`](Self::json)).
///
/// Reading a body that breaks off (a stream that failed, a server that went away) panics
/// with what happened.
pub struct TestResponse {
    status: StatusCode,
    version: Version,
    headers: HeaderMap,
    body: UnsyncBoxBody<Bytes, BoxError>,
}

impl TestResponse {
    pub(crate) fn from_incoming(response: Response<hyper::body::Incoming>) -> Self {
        let (parts, body) = response.into_parts();
        Self {
            status: parts.status,
            version: parts.version,
            headers: parts.headers,
            body: body.map_err(Into::into).boxed_unsync(),
        }
    }

    /// The status code.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The HTTP version the response came in.
    #[must_use]
    pub fn version(&self) -> Version {
        self.version
    }

    /// The response headers.
    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first value of the header `name` as text; `None` when absent or not text.
    #[must_use]
    pub fn header(&self, name: impl TryInto<HeaderName>) -> Option<&str> {
        let name = name.try_into().ok()?;
        self.headers.get(name)?.to_str().ok()
    }

    /// The cookie `name` the response sets (its `set-cookie` header, parsed, with its
    /// attributes); to send it back, `.cookie(cookie.name(), cookie.value())`.
    #[cfg(feature = "cookies")]
    #[cfg_attr(docsrs, doc(cfg(feature = "cookies")))]
    #[must_use]
    pub fn cookie(&self, name: &str) -> Option<cookie::Cookie<'static>> {
        self.headers
            .get_all(http::header::SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .filter_map(|text| cookie::Cookie::parse(text.to_owned()).ok())
            .find(|cookie| cookie.name() == name)
    }

    /// The next chunk of the body as it arrives (each chunk a streamed body yields is one,
    /// unless the network split or joined them); `None` at the end.
    ///
    /// # Panics
    /// When the body breaks off; the panic names the test's line.
    #[track_caller]
    pub fn chunk(&mut self) -> impl Future<Output = Option<Bytes>> + '_ {
        let caller = Location::caller();
        async move {
            loop {
                let frame = match self.body.frame().await? {
                    Ok(frame) => frame,
                    Err(error) => fail_at(caller, format!("the response body broke off: {error}")),
                };
                if let Ok(data) = frame.into_data() {
                    return Some(data);
                }
            }
        }
    }

    /// The whole body.
    ///
    /// # Panics
    /// When the body breaks off; the panic names the test's line.
    #[track_caller]
    pub fn bytes(self) -> impl Future<Output = Bytes> {
        self.bytes_from(Location::caller())
    }

    async fn bytes_from(self, caller: &'static Location<'static>) -> Bytes {
        match self.body.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(error) => fail_at(caller, format!("the response body broke off: {error}")),
        }
    }

    /// The whole body as text.
    ///
    /// # Panics
    /// When the body breaks off or is not UTF-8; the panic names the test's line.
    #[track_caller]
    pub fn text(self) -> impl Future<Output = String> {
        let caller = Location::caller();
        async move {
            let bytes = self.bytes_from(caller).await;
            String::from_utf8(bytes.to_vec()).unwrap_or_else(|_| {
                fail_at(caller, format!("the response body is not UTF-8: {bytes:?}"))
            })
        }
    }

    /// The whole body as JSON, into `T`.
    ///
    /// # Panics
    /// When the body breaks off or is not JSON for a `T` (the message shows the body); the
    /// panic names the test's line.
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    #[track_caller]
    pub fn json<T: serde::de::DeserializeOwned>(self) -> impl Future<Output = T> {
        let caller = Location::caller();
        async move {
            let status = self.status;
            let bytes = self.bytes_from(caller).await;
            serde_json::from_slice(&bytes).unwrap_or_else(|error| {
                fail_at(
                    caller,
                    format!(
                        "the {status} response is not JSON for {}: {error}; body: {}",
                        std::any::type_name::<T>(),
                        String::from_utf8_lossy(&bytes)
                    ),
                )
            })
        }
    }

    /// The body as server-sent events, each one yielded as soon as it has arrived: a test
    /// can read the first events of an endless stream.
    pub fn events(self) -> Events {
        Events::new(self.body)
    }
}

impl fmt::Debug for TestResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestResponse")
            .field("status", &self.status)
            .field("version", &self.version)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}
