//! [`TestClient`]: the way to test an application — it runs the application as production
//! does and talks to it over a real socket (feature `test`, on by default).
//!
//! ```
//! use bareasgi::test::TestClient;
//! use bareasgi::{Application, BoxError, HttpRequest, Json, TypeMap};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct Todo {
//!     title: String,
//! }
//!
//! struct Greeting(String);
//!
//! async fn hello(req: HttpRequest) -> String {
//!     // Put there by the startup handler, which the client ran first.
//!     req.info.get::<Greeting>().unwrap().0.clone()
//! }
//!
//! async fn echo(mut req: HttpRequest) -> Result<Json<Todo>, bareasgi::HttpError> {
//!     Ok(Json(req.json().await?))
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let mut app = Application::new();
//! app.on_startup(async |info: &mut TypeMap| -> Result<(), BoxError> {
//!     info.insert(Greeting("hello".into()));
//!     Ok(())
//! });
//! app.http_router.add(["GET"], "/", hello);
//! app.http_router.add(["POST"], "/echo", echo);
//!
//! let client = TestClient::new(app);
//! let response = client.get("/").header("accept", "text/plain").send().await;
//! assert_eq!(response.status(), 200);
//! assert_eq!(response.text().await, "hello");
//!
//! let todo = Todo { title: "test it".into() };
//! let echoed: Todo = client.post("/echo").json(&todo).await.json().await;
//! assert_eq!(echoed, todo);
//! # }
//! ```
//!
//! # What it runs
//! [`TestClient::new`] binds `127.0.0.1` on a free port and serves the application there
//! with [`Application::serve_with_shutdown`], the code path of
//! [`Application::serve`]: its middlewares, limits and timeouts, its routing, its
//! WebSockets, every byte over HTTP/1.1 on a real connection. The server runs on a tokio
//! runtime of its own, in a thread of its own, so it does not depend on the test's runtime
//! (or on there being one) and keeps running while a test blocks.
//!
//! - The startup handlers run before `new` returns; `new` panics with the error of one that
//!   fails ([`TestClient::try_new`] returns it instead).
//! - The shutdown handlers run when the client is shut down ([`TestClient::shutdown`]) or
//!   dropped. Dropping it stops the server gracefully and blocks the dropping thread until
//!   they have run — normally a few milliseconds; at most the application's shutdown
//!   timeout, when a response is still streaming to a reader the test holds. Because the
//!   server needs nothing from the dropping thread, this works inside an async test, in a
//!   runtime being torn down, and outside any runtime alike.
//! - Each request opens a connection of its own.
//! - Failures of the transport (the server is gone, the connection broke) panic with what
//!   happened: in a test, that is the report you want.
//! - Log lines from the application go to the subscriber the test set up (a scoped one set
//!   with `tracing::subscriber::set_default` included).
//!
//! The server's address is [`addr`](TestClient::addr), for any other client: a browser, a
//! `reqwest::Client`, raw TCP.

mod events;
mod request;
mod response;
#[cfg(feature = "ws")]
mod websocket;

pub use events::{Events, ServerEvent};
pub use request::TestRequest;
pub use response::TestResponse;
#[cfg(feature = "ws")]
pub use websocket::{TestWebSocket, WebSocketConnect};

use std::cell::Cell;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use http::header::{HeaderName, HeaderValue};
use http::{Method, Uri};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

use crate::app::Application;
use crate::body::Body;
use crate::error::Error;

thread_local! {
    /// Set on the threads of a test server, which must never wait for that server to stop.
    static ON_SERVER_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// An application served on `127.0.0.1`, and a client for it. See the [module docs](self).
pub struct TestClient {
    shared: Arc<Shared>,
    server: Option<ServerThread>,
}

/// What requests need: where the server is, and its runtime to drive their connections.
pub(crate) struct Shared {
    pub(crate) addr: SocketAddr,
    pub(crate) runtime: tokio::runtime::Handle,
}

struct ServerThread {
    stop: oneshot::Sender<()>,
    stopped: oneshot::Receiver<()>,
    thread: JoinHandle<()>,
}

impl TestClient {
    /// Serves `app` on a free port of `127.0.0.1`, once its startup handlers have run.
    ///
    /// # Panics
    /// When a startup handler fails (the message says which and why), or when no port or
    /// thread can be had.
    #[track_caller]
    #[must_use]
    pub fn new(app: Application) -> Self {
        match Self::try_new(app) {
            Ok(client) => client,
            Err(error) => panic!("the application did not start: {error}"),
        }
    }

    /// [`new`](Self::new), returning the error of a failing startup handler instead of
    /// panicking.
    ///
    /// # Errors
    /// The first startup handler's error ([`Error::is_startup`]); nothing is served then.
    ///
    /// # Panics
    /// When no port or thread can be had.
    #[track_caller]
    pub fn try_new(mut app: Application) -> Result<Self, Error> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
            .unwrap_or_else(|error| {
                panic!("cannot listen on 127.0.0.1 for a test server: {error}")
            });
        let addr = listener
            .local_addr()
            .unwrap_or_else(|error| panic!("the test server has no address: {error}"));
        let dispatch = tracing::dispatcher::get_default(Clone::clone);
        let logging = !dispatch.is::<tracing::subscriber::NoSubscriber>();
        let on_start = dispatch.clone();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("bareasgi-test-server")
            .enable_all()
            .on_thread_start(move || {
                ON_SERVER_THREAD.with(|flag| flag.set(true));
                if logging {
                    // The thread lives exactly as long as the runtime; so does the default.
                    std::mem::forget(tracing::dispatcher::set_default(&on_start));
                }
            })
            .build()
            .unwrap_or_else(|error| panic!("cannot start a runtime for the test server: {error}"));
        let handle = runtime.handle().clone();
        let (started_tx, started) = std::sync::mpsc::channel();
        let (stop, stop_rx) = oneshot::channel::<()>();
        let (stopped_tx, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("bareasgi-test-server".into())
            .spawn(move || {
                ON_SERVER_THREAD.with(|flag| flag.set(true));
                let _logging = logging.then(|| tracing::dispatcher::set_default(&dispatch));
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => listener,
                        Err(error) => {
                            let _ = started_tx.send(Err(Error::bind(addr.to_string(), error)));
                            return;
                        }
                    };
                    if let Err(error) = app.run_startup().await {
                        let _ = started_tx.send(Err(error));
                        return;
                    }
                    let _ = started_tx.send(Ok(()));
                    let stop = async move {
                        let _ = stop_rx.await;
                    };
                    app.serve_started(listener, crate::server::Transport::Cleartext, stop)
                        .await;
                });
                // Connections of clients still held by the test end here, with the runtime.
                runtime.shutdown_timeout(Duration::from_secs(1));
                let _ = stopped_tx.send(());
            })
            .unwrap_or_else(|error| panic!("cannot start the test server's thread: {error}"));
        match started.recv() {
            Ok(Ok(())) => Ok(Self {
                shared: Arc::new(Shared {
                    addr,
                    runtime: handle,
                }),
                server: Some(ServerThread {
                    stop,
                    stopped,
                    thread,
                }),
            }),
            Ok(Err(error)) => {
                let _ = thread.join();
                Err(error)
            }
            Err(_) => match thread.join() {
                Err(payload) => panic!(
                    "the application did not start: a startup handler panicked: {}",
                    crate::panic_message(&*payload)
                ),
                Ok(()) => panic!("the test server's thread ended before starting"),
            },
        }
    }

    /// The server's address, for other clients (a browser, `reqwest`, raw TCP).
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// The full URL of `path` on the server: `http://127.0.0.1:PORT/path`.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.shared.addr)
    }

    /// A request with `method` for `path` (with its query string: `/todos?done=true`).
    #[track_caller]
    pub fn request(&self, method: Method, path: &str) -> TestRequest {
        TestRequest::new(self.shared.clone(), method, path)
    }

    /// A `GET` request for `path`.
    #[track_caller]
    pub fn get(&self, path: &str) -> TestRequest {
        self.request(Method::GET, path)
    }

    /// A `POST` request for `path`.
    #[track_caller]
    pub fn post(&self, path: &str) -> TestRequest {
        self.request(Method::POST, path)
    }

    /// A `PUT` request for `path`.
    #[track_caller]
    pub fn put(&self, path: &str) -> TestRequest {
        self.request(Method::PUT, path)
    }

    /// A `PATCH` request for `path`.
    #[track_caller]
    pub fn patch(&self, path: &str) -> TestRequest {
        self.request(Method::PATCH, path)
    }

    /// A `DELETE` request for `path`.
    #[track_caller]
    pub fn delete(&self, path: &str) -> TestRequest {
        self.request(Method::DELETE, path)
    }

    /// A `HEAD` request for `path`.
    #[track_caller]
    pub fn head(&self, path: &str) -> TestRequest {
        self.request(Method::HEAD, path)
    }

    /// An `OPTIONS` request for `path`.
    #[track_caller]
    pub fn options(&self, path: &str) -> TestRequest {
        self.request(Method::OPTIONS, path)
    }

    /// A WebSocket to `path`, a route of `app.ws_router`: `client.websocket("/ws").await`
    /// gives a [`TestWebSocket`] once the server accepted it (it panics if the server
    /// refused; [`WebSocketConnect::try_connect`] returns the refusal instead). Headers and
    /// subprotocols may be added before awaiting.
    #[cfg(feature = "ws")]
    #[track_caller]
    pub fn websocket(&self, path: &str) -> WebSocketConnect {
        WebSocketConnect::new(self.shared.clone(), path)
    }

    /// Stops the server gracefully, as Ctrl-C would stop `serve`, and returns once the
    /// shutdown handlers have run.
    pub async fn shutdown(mut self) {
        if let Some(server) = self.server.take() {
            let _ = server.stop.send(());
            let _ = server.stopped.await;
            let _ = server.thread.join();
        }
    }
}

impl Drop for TestClient {
    fn drop(&mut self) {
        let Some(server) = self.server.take() else {
            return;
        };
        let _ = server.stop.send(());
        // On the server's own threads (a client dropped inside a handler) waiting would
        // never end: the server stops by itself.
        if ON_SERVER_THREAD.with(Cell::get) {
            return;
        }
        if let Err(payload) = server.thread.join()
            && !std::thread::panicking()
        {
            panic!(
                "the test server's thread panicked: {}",
                crate::panic_message(&*payload)
            );
        }
    }
}

impl fmt::Debug for TestClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestClient")
            .field("addr", &self.shared.addr)
            .field("running", &self.server.is_some())
            .finish()
    }
}

impl Shared {
    /// A new HTTP/1.1 connection to the server. The socket and the connection are driven
    /// by the server's runtime, so they make progress whatever the caller's executor does,
    /// and end with it; upgrades (WebSockets) are allowed.
    pub(crate) async fn connect(&self) -> SendRequest<Body> {
        let addr = self.addr;
        let connected = self
            .runtime
            .spawn(async move {
                let stream = tokio::net::TcpStream::connect(addr)
                    .await
                    .map_err(|error| {
                        format!("cannot connect to the test server at {addr}: {error}")
                    })?;
                let _ = stream.set_nodelay(true);
                let (sender, connection) =
                    hyper::client::conn::http1::handshake(TokioIo::new(stream))
                        .await
                        .map_err(|error| {
                            format!("cannot start HTTP/1.1 with the test server: {error}")
                        })?;
                tokio::spawn(async move {
                    if let Err(error) = connection.with_upgrades().await {
                        tracing::debug!(%error, "test client connection ended");
                    }
                });
                Ok::<_, String>(sender)
            })
            .await;
        match connected {
            Ok(Ok(sender)) => sender,
            Ok(Err(problem)) => panic!("{problem}"),
            Err(_) => panic!("the test server at {addr} has stopped"),
        }
    }
}

impl Shared {
    /// A new HTTP/2 connection (cleartext, prior knowledge) to the server, driven by the
    /// server's runtime like [`connect`](Self::connect)'s; for WebSockets over RFC 8441.
    #[cfg(feature = "ws")]
    pub(crate) async fn connect_http2(&self) -> hyper::client::conn::http2::SendRequest<Body> {
        let addr = self.addr;
        let connected = self
            .runtime
            .spawn(async move {
                let stream = tokio::net::TcpStream::connect(addr)
                    .await
                    .map_err(|error| {
                        format!("cannot connect to the test server at {addr}: {error}")
                    })?;
                let _ = stream.set_nodelay(true);
                let (sender, connection) = hyper::client::conn::http2::handshake(
                    hyper_util::rt::TokioExecutor::new(),
                    TokioIo::new(stream),
                )
                .await
                .map_err(|error| format!("cannot start HTTP/2 with the test server: {error}"))?;
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!(%error, "test client HTTP/2 connection ended");
                    }
                });
                Ok::<_, String>(sender)
            })
            .await;
        match connected {
            Ok(Ok(sender)) => sender,
            Ok(Err(problem)) => panic!("{problem}"),
            Err(_) => panic!("the test server at {addr} has stopped"),
        }
    }
}

/// The request target a test gave: a path with its query, never a whole URL.
#[track_caller]
pub(crate) fn request_target(path: &str) -> Uri {
    match path.parse::<Uri>() {
        Ok(uri) if uri.scheme().is_none() && path.starts_with('/') => uri,
        _ => panic!(
            "{path:?} is not a request target: give the path (and query), such as \"/todos?done=true\""
        ),
    }
}

/// A header a test gave, or a panic at the test's line naming what is wrong with it.
#[track_caller]
pub(crate) fn header<K, V>(name: K, value: V) -> (HeaderName, HeaderValue)
where
    K: TryInto<HeaderName>,
    K::Error: fmt::Display,
    V: TryInto<HeaderValue>,
    V::Error: fmt::Display,
{
    // A `match`, not a closure: the panic must name the caller's line.
    let name = match name.try_into() {
        Ok(name) => name,
        Err(error) => panic!("invalid header name: {error}"),
    };
    match value.try_into() {
        Ok(value) => (name, value),
        Err(error) => panic!("invalid value for header {name}: {error}"),
    }
}
