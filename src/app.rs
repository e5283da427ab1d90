//! [`Application`]: the routers, middlewares, lifespan handlers, shared info and limits of a
//! service, and the `serve` methods that run it.
//!
//! ```no_run
//! use bareasgi::{Application, HttpRequest, IntoResponse};
//!
//! async fn index(_req: HttpRequest) -> impl IntoResponse {
//!     (200, [("content-type", "text/plain")], "Hello, World!")
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), bareasgi::Error> {
//!     let mut app = Application::new();
//!     app.http_router.add(["GET"], "/", index);
//!     app.serve("127.0.0.1:9009").await // until Ctrl-C or SIGTERM
//! }
//! ```

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio_util::sync::CancellationToken;

use crate::error::{BoxError, Error};
use crate::lifespan::LifespanHandler;
pub(crate) use crate::limits::Limits;
use crate::middleware::Middleware;
use crate::request::{MinDataRate, RequestBody};
use crate::router::HttpRouter;
use crate::server::{self, Transport};
use crate::service::tower::{Inner, LayerFn};
use crate::service::{AppService, Shared};
#[cfg(feature = "tls")]
use crate::tls::TlsConfig;
use crate::typemap::TypeMap;
#[cfg(feature = "ws")]
use crate::ws::{Deflate, WsMiddleware, WsRouter, WsRuntime};

type StartupHandler = Box<dyn for<'a> LifespanHandler<'a, &'a mut TypeMap>>;
type ShutdownHandler = Box<dyn for<'a> LifespanHandler<'a, &'a TypeMap>>;

/// A web application: bareASGI's `Application`.
pub struct Application {
    /// The HTTP routes: `app.http_router.add(["GET"], "/", handler)`.
    pub http_router: HttpRouter,
    /// The WebSocket routes: `app.ws_router.add("/ws", handler)`; see [`crate::ws`].
    #[cfg(feature = "ws")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ws")))]
    pub ws_router: WsRouter,
    /// Values shared by every request (`req.info`): a database pool, a broadcast sender.
    /// Startup handlers may add to it; once serving it is read without locks.
    pub info: TypeMap,
    middlewares: Vec<Arc<dyn Middleware>>,
    /// tower layers, outermost first; composed when the application is served.
    layers: Vec<LayerFn>,
    #[cfg(feature = "ws")]
    ws_middlewares: Vec<Arc<dyn WsMiddleware>>,
    #[cfg(feature = "ws")]
    ws_deflate: Option<Deflate>,
    startup_handlers: Vec<StartupHandler>,
    shutdown_handlers: Vec<ShutdownHandler>,
    pub(crate) limits: Limits,
}

impl Application {
    /// An application with no routes and the default limits.
    #[must_use]
    pub fn new() -> Self {
        Self {
            http_router: HttpRouter::new(),
            #[cfg(feature = "ws")]
            ws_router: WsRouter::new(),
            info: TypeMap::new(),
            middlewares: Vec::new(),
            layers: Vec::new(),
            #[cfg(feature = "ws")]
            ws_middlewares: Vec::new(),
            #[cfg(feature = "ws")]
            ws_deflate: Some(Deflate::default()),
            startup_handlers: Vec::new(),
            shutdown_handlers: Vec::new(),
            limits: Limits::default(),
        }
    }

    /// Adds a middleware around every request, including those answered `404` or `405`.
    /// The first added is the outermost. Routing happens after the middlewares, so a
    /// middleware that rewrites the path changes which route answers.
    pub fn middleware(&mut self, middleware: impl Middleware) -> &mut Self {
        self.middlewares.push(Arc::new(middleware));
        self
    }

    /// Wraps the whole application in a tower [`Layer`](tower::Layer): every HTTP request,
    /// including those answered `404` or `405`, and WebSocket handshakes. The first layer
    /// added is the outermost, and all layers run outside the [`middleware`](Self::middleware)s.
    ///
    /// The layer's service receives `http::Request<`[`RequestBody`]`>` and wraps an
    /// [`Inner`] that takes any request body, so body-changing layers such as tower-http's
    /// `RequestBodyLimitLayer` fit anywhere. It may answer with any
    /// `http_body::Body<Data = Bytes>`; an error it returns is logged and answered `500`.
    /// See [`crate::tower`] for the details and the drawing.
    ///
    /// ```
    /// use bareasgi::Application;
    /// use tower_http::compression::CompressionLayer;
    /// use tower_http::cors::CorsLayer;
    /// use tower_http::trace::TraceLayer;
    ///
    /// let mut app = Application::new();
    /// app.http_router.add(["GET"], "/", |_req| async { "hi" });
    /// app.layer(TraceLayer::new_for_http()) // outermost
    ///     .layer(CorsLayer::permissive())
    ///     .layer(CompressionLayer::new()); // innermost
    /// ```
    pub fn layer<L, B>(&mut self, layer: L) -> &mut Self
    where
        L: tower::Layer<Inner> + Send + Sync + 'static,
        L::Service: tower::Service<Request<RequestBody>, Response = Response<B>>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as tower::Service<Request<RequestBody>>>::Future: Send + 'static,
        <L::Service as tower::Service<Request<RequestBody>>>::Error: Into<BoxError>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.layers.push(crate::service::tower::boxed_layer(layer));
        self
    }

    /// Adds a middleware around every WebSocket connection, run when it connects (after the
    /// HTTP middlewares, which see the handshake too) and before its handler decides; it may
    /// refuse with any HTTP response. The first added is the outermost. See
    /// [`WsMiddleware`].
    #[cfg(feature = "ws")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ws")))]
    pub fn ws_middleware(&mut self, middleware: impl WsMiddleware) -> &mut Self {
        self.ws_middlewares.push(Arc::new(middleware));
        self
    }

    /// Adds a startup handler. Startup handlers run in order before the first connection is
    /// accepted; the first to fail stops [`serve`](Self::serve), which returns its error.
    pub fn on_startup<H>(&mut self, handler: H) -> &mut Self
    where
        H: for<'a> LifespanHandler<'a, &'a mut TypeMap>,
    {
        self.startup_handlers.push(Box::new(handler));
        self
    }

    /// Adds a shutdown handler. Shutdown handlers run in order after the connections have
    /// drained; a failing one is logged and the others still run.
    pub fn on_shutdown<H>(&mut self, handler: H) -> &mut Self
    where
        H: for<'a> LifespanHandler<'a, &'a TypeMap>,
    {
        self.shutdown_handlers.push(Box::new(handler));
        self
    }

    /// Turns on Prometheus metrics (feature `metrics`): requests by route, connections,
    /// event streams, WebSockets, the hub and every limit. Installs a Prometheus recorder
    /// unless the program installed a `metrics` recorder already; route
    /// [`metrics::handler`](crate::metrics::handler) to expose them. The recorder is one
    /// per process, so this turns metrics on for every application in it. See
    /// [`metrics`](crate::metrics) for the names and labels.
    #[cfg(feature = "metrics")]
    pub fn metrics(&mut self) -> &mut Self {
        crate::telemetry::enable();
        self
    }

    /// The largest request body `req.bytes()`, `req.text()` and `req.json()` read; larger is
    /// a `413`. Default 2 MiB.
    pub fn body_limit(&mut self, bytes: usize) -> &mut Self {
        self.limits.body_limit = bytes;
        self
    }

    /// How long a client may take to send its request headers before the connection is
    /// closed (HTTP/1.1); `None` turns the timeout off. Default 30 s.
    ///
    /// It is also how long an HTTP/1.1 connection may stay idle: one that has no request
    /// open, starts none and writes nothing for this long is closed (between one timeout
    /// and one and a half after it went quiet). It also bounds the wait for a new
    /// connection's first bytes, and is the default of
    /// [`http2_idle_timeout`](Self::http2_idle_timeout).
    pub fn header_read_timeout(&mut self, timeout: Option<Duration>) -> &mut Self {
        self.limits.header_read_timeout = timeout;
        self
    }

    /// The largest request head (request line and headers) accepted; larger gets
    /// `431 Request Header Fields Too Large` and the connection is closed. Default 64 KiB,
    /// at least 8 KiB.
    pub fn max_header_size(&mut self, bytes: usize) -> &mut Self {
        self.limits.max_header_size = bytes.max(8 * 1024);
        self
    }

    /// How long a graceful shutdown waits for open requests before closing their
    /// connections. Default 10 s.
    pub fn shutdown_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.limits.shutdown_timeout = timeout;
        self
    }

    /// The most connections served at once; further connections wait in the listen backlog
    /// until one closes. Default: no limit but the process's file descriptors.
    pub fn max_connections(&mut self, limit: Option<usize>) -> &mut Self {
        self.limits.max_connections = limit;
        self
    }

    /// How long a handler (with its middlewares) may take to produce a response before the
    /// client gets `503 Service Unavailable`. A streamed body is not counted: the timeout
    /// ends when the response head is ready. Default: none.
    pub fn request_timeout(&mut self, timeout: Option<Duration>) -> &mut Self {
        self.limits.request_timeout = timeout;
        self
    }

    /// The listen backlog [`serve`](Self::serve) binds with: how many connections the kernel
    /// queues while the server is busy accepting. The standard library's 128 overflows when
    /// thousands of event-stream clients reconnect at once after a restart (each overflow
    /// costs the client a one-second SYN retry). Default 1024; the kernel caps it at
    /// `net.core.somaxconn`.
    pub fn listen_backlog(&mut self, backlog: u32) -> &mut Self {
        self.limits.listen_backlog = backlog;
        self
    }

    /// Whether [`serve`](Self::serve) (and `serve_tls`) binds with `SO_REUSEPORT`, so that several processes
    /// (each setting it) serve one port and the kernel spreads new connections among them:
    /// instances of one application on one machine, or a new version started before the old
    /// one stops. Unix only; elsewhere `serve` fails to bind when it is set. Default off.
    pub fn reuse_port(&mut self, reuse: bool) -> &mut Self {
        self.limits.reuse_port = reuse;
        self
    }

    /// The largest WebSocket message (and frame) accepted, in bytes; a larger one closes the
    /// conversation with `1009 Message Too Big`. Default 16 MiB.
    #[cfg(feature = "ws")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ws")))]
    pub fn ws_max_message_size(&mut self, bytes: usize) -> &mut Self {
        self.limits.ws_max_message_size = bytes;
        self
    }

    /// permessage-deflate (RFC 7692) for WebSockets: `Some(settings)` to offer it to clients
    /// that ask (browsers all do), `None` to turn it off. On by default with
    /// [`Deflate::default()`](crate::ws::Deflate). A message that inflates past
    /// [`ws_max_message_size`](Self::ws_max_message_size) closes the conversation with
    /// `1009`, as an uncompressed one would; see [`crate::ws`] for the costs.
    #[cfg(feature = "ws")]
    pub fn ws_deflate(&mut self, deflate: Option<Deflate>) -> &mut Self {
        self.ws_deflate = deflate;
        self
    }

    /// How long a request body may make no progress while the handler waits for it: a
    /// client that announces a body and then sends nothing (or stops half-way) for this
    /// long ends the request. The handler's read fails with
    /// [`BodyError::TimedOut`](crate::BodyError::TimedOut), which answers
    /// `408 Request Timeout` if the response has not started; over HTTP/1.1 the connection
    /// is closed after the response (its framing is lost), over HTTP/2 the stream is reset.
    /// A body that keeps coming, however slowly, is not cut. `None` turns it off; a handler
    /// that expects long pauses (a streamed upload) can change it for its request with
    /// [`HttpRequest::set_body_read_timeout`](crate::HttpRequest::set_body_read_timeout).
    /// Default 30 s.
    pub fn body_read_timeout(&mut self, timeout: Option<Duration>) -> &mut Self {
        self.limits.body_read_timeout = timeout;
        self
    }

    /// The slowest a request body may come, on average, while the handler waits for it
    /// (see [`MinDataRate`]): a client that sends a byte now and then, never stalling for
    /// the whole body-read timeout, would otherwise hold its request (and connection) for as
    /// long as the body limit allows. Below the rate the handler's read fails with
    /// [`BodyError::TooSlow`](crate::BodyError::TooSlow), which answers `408 Request
    /// Timeout`, and the request ends as for the body-read timeout. `None` turns it off;
    /// per request,
    /// [`HttpRequest::set_min_body_data_rate`](crate::HttpRequest::set_min_body_data_rate).
    /// Default 240 bytes per second after 30 seconds of waiting ([`MinDataRate::default`]).
    pub fn min_body_data_rate(&mut self, min_rate: Option<MinDataRate>) -> &mut Self {
        self.limits.min_body_data_rate = min_rate;
        self
    }

    /// How long a client may read nothing at all while the server has bytes for it: when
    /// every write finds the socket full for this long, the connection is closed and its
    /// response (and the stream producing it) dropped. A client that keeps reading,
    /// however slowly, gets every byte. Both protocols; independent of the SSE
    /// keep-alive. `None` turns it off. Default 30 s.
    pub fn write_stall_timeout(&mut self, timeout: Option<Duration>) -> &mut Self {
        self.limits.write_stall_timeout = timeout;
        self
    }

    /// Whether [`serve`](Self::serve) raises the process's soft limit on open files to its
    /// hard limit when it starts, as Go's runtime does (Unix only). The usual soft limit of
    /// 1,024 is kept for programs that use `select(2)`; under a flood of connections a
    /// server left at it runs out of file descriptors and accepts no one until some close.
    /// Child processes started afterwards inherit the raised limit. Default `true`.
    pub fn raise_fd_limit(&mut self, raise: bool) -> &mut Self {
        self.limits.raise_fd_limit = raise;
        self
    }

    /// The most streams an HTTP/2 client may have open at once on one connection
    /// (`SETTINGS_MAX_CONCURRENT_STREAMS`); more are refused with `REFUSED_STREAM`, which
    /// clients retry. Default 100 (hyper's is 200).
    pub fn http2_max_concurrent_streams(&mut self, streams: u32) -> &mut Self {
        self.limits.http2.max_concurrent_streams = streams;
        self
    }

    /// How many bytes of one HTTP/2 stream's response may wait in the server for the
    /// client's flow-control window or the socket, before the stream's body is polled for
    /// more. Default 64 KiB (hyper's is 400 KiB).
    pub fn http2_stream_send_buffer(&mut self, bytes: usize) -> &mut Self {
        self.limits.http2.stream_send_buffer = bytes;
        self
    }

    /// How many bytes of response bodies one HTTP/2 connection may hold unsent, over all
    /// its streams: once a connection's client stops reading, its streams stop producing
    /// when this much waits for the socket. With [`max_connections`](Self::max_connections)
    /// it bounds what HTTP/2 clients that never read can make the process hold. At least
    /// one chunk always goes through. Default 1 MiB.
    pub fn http2_connection_send_buffer(&mut self, bytes: usize) -> &mut Self {
        self.limits.http2.connection_send_buffer = bytes;
        self
    }

    /// How often an HTTP/2 connection from which nothing has been heard is sent a PING;
    /// a peer that does not answer within the
    /// [`http2_keep_alive_timeout`](Self::http2_keep_alive_timeout) is closed, so a
    /// vanished client does not hold its streams. `None` sends no pings. Default 30 s.
    pub fn http2_keep_alive_interval(&mut self, interval: Option<Duration>) -> &mut Self {
        self.limits.http2.keep_alive_interval = interval;
        self
    }

    /// How long an HTTP/2 peer has to answer a keep-alive PING. Default 20 s.
    pub fn http2_keep_alive_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.limits.http2.keep_alive_timeout = timeout;
        self
    }

    /// How long an HTTP/2 connection may have no open stream (and nothing left to write)
    /// before it is closed with GOAWAY, between one timeout and one and a half after its
    /// last stream ended; a peer that does not then close within a second is dropped.
    /// `None` never closes idle connections. Default: the
    /// [`header_read_timeout`](Self::header_read_timeout).
    pub fn http2_idle_timeout(&mut self, timeout: Option<Duration>) -> &mut Self {
        self.limits.http2.idle_timeout = Some(timeout);
        self
    }

    /// How often an open WebSocket from which nothing has been heard is sent a ping while
    /// its handler waits in [`receive`](crate::ws::WebSocket::receive); a peer that sends
    /// nothing back (no pong, no message) within the
    /// [`ws_ping_timeout`](Self::ws_ping_timeout) is taken for gone, and `receive` reports
    /// its close as `1006`. `None` sends no pings. Default 30 s.
    #[cfg(feature = "ws")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ws")))]
    pub fn ws_ping_interval(&mut self, interval: Option<Duration>) -> &mut Self {
        self.limits.ws_ping_interval = interval;
        self
    }

    /// How long a WebSocket peer has to answer a ping. Default 20 s.
    #[cfg(feature = "ws")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ws")))]
    pub fn ws_ping_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.limits.ws_ping_timeout = timeout;
        self
    }

    /// Turns the application, with its layers, into a tower [`Service`](tower::Service)
    /// (and a hyper one): to nest it in axum
    /// (`Router::new().nest_service("/legacy", app.into_service())`), serve it with a server
    /// of your own, or call it in-process (`tower::ServiceExt::oneshot`). It takes requests
    /// with any body (`Send`, not necessarily `Sync`). Lifespan handlers do not run, and the
    /// server's limits and timeouts are those of whoever serves it (except
    /// [`body_limit`](Self::body_limit) and [`request_timeout`](Self::request_timeout),
    /// which the application keeps itself).
    #[must_use]
    pub fn into_service(self) -> AppService {
        self.split().0
    }

    fn split(mut self) -> (AppService, Vec<ShutdownHandler>, Limits) {
        let shutdown = CancellationToken::new();
        // Browsers switch every WebSocket of an HTTP/2 connection to extended CONNECT once
        // it is advertised, so it is advertised only when WebSocket routes can answer.
        #[cfg(feature = "ws")]
        {
            self.limits.http2.connect_protocol = !self.ws_router.is_empty();
        }
        #[cfg(feature = "ws")]
        let ws = {
            let runtime = Arc::new(WsRuntime::new(
                &self.limits,
                self.ws_middlewares,
                self.ws_deflate,
                shutdown.clone(),
            ));
            self.ws_router.start(runtime.clone());
            (self.ws_router, runtime)
        };
        let shared = Shared::new(
            self.http_router,
            #[cfg(feature = "ws")]
            ws,
            self.middlewares,
            self.info,
            &self.limits,
            shutdown,
        );
        let service = AppService::new(shared, self.layers);
        (service, self.shutdown_handlers, self.limits)
    }

    /// Binds `addr` (with the [`listen_backlog`](Self::listen_backlog)) and serves until
    /// Ctrl-C or SIGTERM, then shuts down gracefully.
    ///
    /// # Errors
    /// When `addr` cannot be bound or a startup handler fails.
    pub async fn serve(self, addr: impl ToSocketAddrs + fmt::Display) -> Result<(), Error> {
        let listener = server::bind(&addr, self.limits.listen_backlog, self.limits.reuse_port)
            .await
            .map_err(|e| Error::bind(addr.to_string(), e))?;
        self.serve_listener(listener).await
    }

    /// Serves on a listener bound by the caller until Ctrl-C or SIGTERM.
    ///
    /// # Errors
    /// When a startup handler fails.
    pub async fn serve_listener(self, listener: TcpListener) -> Result<(), Error> {
        self.serve_with_shutdown(listener, server::shutdown_signal())
            .await
    }

    /// Serves on `listener` until `signal` completes, then shuts down gracefully: stops
    /// accepting, lets open requests finish (streams marked
    /// [`end_on_shutdown`](crate::Body::end_on_shutdown), such as event streams, end at
    /// once), closes what is left after the shutdown timeout, runs the shutdown handlers,
    /// and returns.
    ///
    /// # Errors
    /// When a startup handler fails; nothing has been accepted then.
    pub async fn serve_with_shutdown(
        self,
        listener: TcpListener,
        signal: impl Future<Output = ()> + Send,
    ) -> Result<(), Error> {
        self.run(listener, Transport::Cleartext, signal).await
    }

    /// Binds `addr` (with the [`listen_backlog`](Self::listen_backlog)) and serves HTTPS
    /// until Ctrl-C or SIGTERM, then shuts down gracefully. ALPN offers HTTP/2 and
    /// HTTP/1.1; see [`crate::tls`].
    ///
    /// ```no_run
    /// # async fn run(app: bareasgi::Application) -> Result<(), bareasgi::Error> {
    /// use bareasgi::tls::TlsConfig;
    ///
    /// let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?;
    /// app.serve_tls("0.0.0.0:8443", tls).await
    /// # }
    /// ```
    ///
    /// # Errors
    /// When `addr` cannot be bound or a startup handler fails.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub async fn serve_tls(
        self,
        addr: impl ToSocketAddrs + fmt::Display,
        tls: TlsConfig,
    ) -> Result<(), Error> {
        let listener = server::bind(&addr, self.limits.listen_backlog, self.limits.reuse_port)
            .await
            .map_err(|e| Error::bind(addr.to_string(), e))?;
        self.serve_tls_listener(listener, tls).await
    }

    /// Serves HTTPS on a listener bound by the caller until Ctrl-C or SIGTERM.
    ///
    /// # Errors
    /// When a startup handler fails.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub async fn serve_tls_listener(
        self,
        listener: TcpListener,
        tls: TlsConfig,
    ) -> Result<(), Error> {
        self.serve_tls_with_shutdown(listener, tls, server::shutdown_signal())
            .await
    }

    /// Serves HTTPS on `listener` until `signal` completes, then shuts down gracefully as
    /// [`serve_with_shutdown`](Self::serve_with_shutdown) does. Keep a clone of `tls` to
    /// [reload](TlsConfig::reload_from_pem_files) its certificate while serving.
    ///
    /// # Errors
    /// When a startup handler fails; nothing has been accepted then.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub async fn serve_tls_with_shutdown(
        self,
        listener: TcpListener,
        tls: TlsConfig,
        signal: impl Future<Output = ()> + Send,
    ) -> Result<(), Error> {
        self.run(listener, Transport::Tls(tls), signal).await
    }

    async fn run(
        mut self,
        listener: TcpListener,
        transport: Transport,
        signal: impl Future<Output = ()> + Send,
    ) -> Result<(), Error> {
        self.run_startup().await?;
        self.serve_started(listener, transport, signal).await;
        Ok(())
    }

    /// Runs the startup handlers in order; the first failure stops them and is returned.
    pub(crate) async fn run_startup(&mut self) -> Result<(), Error> {
        for (index, handler) in self.startup_handlers.iter().enumerate() {
            if let Err(error) = handler.call(&mut self.info).await {
                tracing::error!(handler = index, %error, "startup handler failed; not serving");
                return Err(Error::startup(index, error));
            }
        }
        Ok(())
    }

    /// Serves `listener` (the startup handlers have run) until `signal`, drains, and runs
    /// the shutdown handlers.
    pub(crate) async fn serve_started(
        self,
        listener: TcpListener,
        transport: Transport,
        signal: impl Future<Output = ()> + Send,
    ) {
        let (service, shutdown_handlers, limits) = self.split();
        let info = service.info();
        server::run(listener, transport, service, &limits, signal).await;
        for (index, handler) in shutdown_handlers.iter().enumerate() {
            if let Err(error) = handler.call(&info).await {
                tracing::error!(handler = index, %error, "shutdown handler failed");
            }
        }
    }
}

impl Default for Application {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Application {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut f = f.debug_struct("Application");
        f.field("http_router", &self.http_router);
        #[cfg(feature = "ws")]
        f.field("ws_router", &self.ws_router)
            .field("ws_middlewares", &self.ws_middlewares.len())
            .field("ws_deflate", &self.ws_deflate);
        f.field("info", &self.info)
            .field("middlewares", &self.middlewares.len())
            .field("layers", &self.layers.len())
            .field("startup_handlers", &self.startup_handlers.len())
            .field("shutdown_handlers", &self.shutdown_handlers.len())
            .field("limits", &self.limits)
            .finish()
    }
}
