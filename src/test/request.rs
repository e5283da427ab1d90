//! [`TestRequest`]: the fluent builder of one request to a [`TestClient`](super::TestClient).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;

use http::header::{COOKIE, HOST, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Uri};

use super::failure::fail_at;
use super::response::TestResponse;
use super::{MultipartForm, Options, Shared};
use crate::body::Body;

/// A request being built: `client.get("/todos?done=true").header("accept", "application/json")`,
/// then `.send().await` (or just `.await`) for the [`TestResponse`].
///
/// The builder methods panic, at the caller's line, for a header name or value that is not
/// valid HTTP: a test's typo, reported where it is.
#[must_use = "a request does nothing until it is sent: `.send().await` or `.await`"]
pub struct TestRequest {
    shared: Arc<Shared>,
    options: Options,
    method: Method,
    target: Uri,
    headers: HeaderMap,
    cookies: Vec<String>,
    body: Body,
}

impl TestRequest {
    #[track_caller]
    pub(crate) fn new(shared: Arc<Shared>, options: Options, method: Method, path: &str) -> Self {
        Self {
            shared,
            options,
            method,
            target: super::request_target(path),
            headers: HeaderMap::new(),
            cookies: Vec::new(),
            body: Body::empty(),
        }
    }

    /// Adds a header (a repeated name adds another value).
    ///
    /// # Panics
    /// When the name or value is not valid HTTP.
    #[track_caller]
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        K: TryInto<HeaderName>,
        K::Error: fmt::Display,
        V: TryInto<HeaderValue>,
        V::Error: fmt::Display,
    {
        let (name, value) = super::header(name, value);
        self.headers.append(name, value);
        self
    }

    /// Sends the cookie `name=value` (all cookies go in one `cookie` header, as browsers
    /// send them).
    ///
    /// # Panics
    /// When the pair cannot be sent as one cookie: an empty name, a name with `=`, `;` or
    /// whitespace, a value with `;` or a control character. (To send a malformed `cookie`
    /// header on purpose, use [`header`](Self::header).)
    #[track_caller]
    pub fn cookie(mut self, name: &str, value: &str) -> Self {
        let bad_name = name.is_empty()
            || name
                .chars()
                .any(|c| c == '=' || c == ';' || c.is_whitespace() || c.is_control());
        if bad_name || value.chars().any(|c| c == ';' || c.is_control()) {
            panic!("cannot send {name:?}={value:?} as one cookie");
        }
        self.cookies.push(format!("{name}={value}"));
        self
    }

    /// Sets the body: text, bytes, or a [`Body`] streamed from any `Stream` of chunks.
    pub fn body(mut self, body: impl Into<Body>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets the body to `value` as JSON, with `content-type: application/json`.
    ///
    /// # Panics
    /// When `value` cannot be serialized as JSON.
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    #[track_caller]
    pub fn json<T: serde::Serialize + ?Sized>(mut self, value: &T) -> Self {
        let bytes = match serde_json::to_vec(value) {
            Ok(bytes) => bytes,
            Err(error) => panic!("cannot serialize the request body as JSON: {error}"),
        };
        self.headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        self.body = Body::from(bytes);
        self
    }

    /// Sets the body to `value` as an HTML form would send it,
    /// `application/x-www-form-urlencoded`.
    ///
    /// # Panics
    /// When `value` cannot be serialized as a form (it must be a struct, a map or a sequence
    /// of pairs).
    #[cfg(feature = "form")]
    #[cfg_attr(docsrs, doc(cfg(feature = "form")))]
    #[track_caller]
    pub fn form<T: serde::Serialize + ?Sized>(mut self, value: &T) -> Self {
        let text = match serde_html_form::to_string(value) {
            Ok(text) => text,
            Err(error) => panic!("cannot serialize the request body as a form: {error}"),
        };
        self.headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        self.body = Body::from(text);
        self
    }

    /// Sets the body to `form` as `multipart/form-data`, with its `content-type` and
    /// boundary: what a handler reads with `req.multipart()` (feature `multipart`).
    /// See [`MultipartForm`].
    pub fn multipart(mut self, form: MultipartForm) -> Self {
        let (boundary, body) = form.encode();
        let content_type = format!("multipart/form-data; boundary={boundary}");
        self.headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::try_from(content_type).expect("the boundary is header text"),
        );
        self.body = Body::from(body);
        self
    }

    /// Sends the request over a new connection and returns the response once its head has
    /// arrived; its body is read from the [`TestResponse`] as it comes.
    ///
    /// A response the server sent before reading the whole body (a `413` for a
    /// `content-length` over the limit) is the one returned, as curl shows it.
    ///
    /// # Panics
    /// When the server cannot be reached or the connection breaks before the response head;
    /// the panic names the test's line.
    #[track_caller]
    pub fn send(self) -> impl Future<Output = TestResponse> + Send {
        self.send_from(Location::caller())
    }

    async fn send_from(self, caller: &'static Location<'static>) -> TestResponse {
        let Self {
            shared,
            options,
            method,
            target,
            mut headers,
            cookies,
            body,
        } = self;
        #[cfg(feature = "cookies")]
        let cookies = match &options.jar {
            Some(jar) => jar.with_kept(target.path(), cookies),
            None => cookies,
        };
        if !options.http2 && !headers.contains_key(HOST) {
            let host = HeaderValue::try_from(shared.addr.to_string())
                .expect("a socket address is valid header text");
            headers.insert(HOST, host);
        }
        if !cookies.is_empty() {
            match HeaderValue::try_from(cookies.join("; ")) {
                Ok(value) => {
                    headers.append(COOKIE, value);
                }
                Err(_) => fail_at(
                    caller,
                    format!("the cookies {cookies:?} are not valid header text"),
                ),
            }
        }
        #[cfg(feature = "cookies")]
        let path = target.path().to_owned();
        let mut request = Request::new(body);
        *request.method_mut() = method;
        *request.headers_mut() = headers;
        // HTTP/2 carries the scheme and authority in the request (`:authority` for Host).
        *request.uri_mut() = if options.http2 {
            let absolute = format!("http://{}{target}", shared.addr);
            absolute
                .parse()
                .expect("an address and a request target make a URI")
        } else {
            target
        };

        let (method, uri) = (request.method().clone(), request.uri().clone());
        let sent = if options.http2 {
            match shared.connect_h2().await {
                Ok(mut sender) => sender.send_request(request).await,
                Err(problem) => fail_at(caller, problem),
            }
        } else {
            match shared.connect().await {
                Ok(mut sender) => sender.send_request(request).await,
                Err(problem) => fail_at(caller, problem),
            }
        };
        let response = match sent {
            Ok(response) => response,
            Err(error) => fail_at(caller, format!("{method} {uri} failed: {error}")),
        };
        #[cfg(feature = "cookies")]
        if let Some(jar) = &options.jar {
            jar.store(response.headers(), &path);
        }
        TestResponse::from_incoming(response)
    }
}

impl IntoFuture for TestRequest {
    type Output = TestResponse;
    type IntoFuture = Pin<Box<dyn Future<Output = TestResponse> + Send>>;

    /// `client.get("/").await` is `client.get("/").send().await`.
    #[track_caller]
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send_from(Location::caller()))
    }
}

impl fmt::Debug for TestRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestRequest")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("headers", &self.headers)
            .field("cookies", &self.cookies)
            .finish_non_exhaustive()
    }
}
