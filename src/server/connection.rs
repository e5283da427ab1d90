//! One connection: tell HTTP/1.1 from HTTP/2 by its first bytes (or take the protocol TLS
//! negotiated), then let hyper serve it until it closes or the server shuts down.
//!
//! Telling the protocols apart here, rather than with hyper-util's auto builder, does two
//! things. The wait for the first bytes is bounded by the header-read timeout (the auto
//! builder waits forever for a client that connects and sends nothing, so such clients
//! could hold connections open indefinitely). And each protocol's state is hyper's own,
//! boxed apart from the task: an HTTP/1.1 connection holds no room for HTTP/2's, and one
//! sending an event stream drops hyper's altogether while it does (see `http1` and
//! `handoff`).
//!
//! Every connection is then watched by one timer (see `watchdog`): closed when idle for
//! the idle timeout (HTTP/1.1: the header-read timeout; HTTP/2, with GOAWAY: its own, which
//! defaults to the same) and when its client reads nothing for the write-stall timeout.

use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;

use super::http1::Http1Connection;
use super::http2::{Http2Service, SendBudget};
use super::io::Metered;
use super::signal::LazySignal;
use super::sniffed::{Prefix, Sniffed, sniff};
use super::watchdog::{Verdict, Watchdog};
use crate::body::in_flight::{Activity, Sample};
use crate::limits::Limits;
use crate::service::AppService;

/// The protocol settings every connection is served with.
pub(super) struct Protocols {
    http1: http1::Builder,
    http2: http2::Builder<TokioExecutor>,
    pub(super) header_read_timeout: Option<Duration>,
    http2_idle_timeout: Option<Duration>,
    write_stall_timeout: Option<Duration>,
    http2_connection_send_buffer: usize,
}

impl Protocols {
    pub(super) fn new(limits: &Limits) -> Self {
        let mut http1 = http1::Builder::new();
        // The header-read timeout is kept by `drive` (see `watchdog`), not by hyper.
        http1
            .header_read_timeout(None)
            .max_header_size(limits.max_header_size)
            .keep_alive(true);
        // Everything that bounds what one HTTP/2 connection may hold is set here; the
        // budget over all of a connection's streams is `http2::SendBudget`.
        let http2_limits = &limits.http2;
        let mut http2 = http2::Builder::new(TokioExecutor::new());
        http2
            .timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(limits.max_header_size).unwrap_or(u32::MAX))
            .max_concurrent_streams(http2_limits.max_concurrent_streams)
            .max_send_buf_size(http2_limits.stream_send_buffer)
            .keep_alive_interval(http2_limits.keep_alive_interval)
            .keep_alive_timeout(http2_limits.keep_alive_timeout);
        if http2_limits.connect_protocol {
            http2.enable_connect_protocol();
        }
        Self {
            http1,
            http2,
            header_read_timeout: limits.header_read_timeout,
            http2_idle_timeout: http2_limits
                .idle_timeout
                .unwrap_or(limits.header_read_timeout),
            write_stall_timeout: limits.write_stall_timeout,
            http2_connection_send_buffer: http2_limits.connection_send_buffer,
        }
    }
}

/// Which protocol a connection speaks, when something before hyper already knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "tls"), allow(dead_code))] // only ALPN knows the protocol first
pub(super) enum Protocol {
    Http1,
    Http2,
    /// Not negotiated (cleartext, or TLS without ALPN): told by the first bytes.
    Sniff,
}

/// Serves one accepted cleartext connection to the end.
pub(super) async fn serve(
    protocols: Arc<Protocols>,
    stream: TcpStream,
    service: AppService,
    graceful: CancellationToken,
    hard_stop: CancellationToken,
    slot: Option<OwnedSemaphorePermit>,
) {
    #[cfg(feature = "metrics")]
    let _accepted = crate::telemetry::Open::accepted("tcp");
    tune_socket(&stream);
    serve_io(
        &protocols,
        stream,
        Protocol::Sniff,
        service,
        &graceful,
        &hard_stop,
        slot,
    )
    .await;
}

/// `TCP_NODELAY`, so that a small chunk (an event) is not held back waiting for the
/// previous one's ACK; and a cap on unsent bytes, so that a slow reader's progress shows
/// (see `io`).
pub(super) fn tune_socket(stream: &TcpStream) {
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(%error, "could not set TCP_NODELAY");
    }
    super::io::cap_unsent_bytes(stream);
}

/// Serves a connection over any transport (a TCP socket, a TLS stream) to the end, with
/// `protocol` if it is already known, otherwise the one its first bytes show.
pub(super) async fn serve_io<I>(
    protocols: &Protocols,
    mut stream: I,
    protocol: Protocol,
    service: AppService,
    graceful: &CancellationToken,
    hard_stop: &CancellationToken,
    slot: Option<OwnedSemaphorePermit>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (is_http2, prefix) = match protocol {
        Protocol::Http1 => (false, Prefix::EMPTY),
        Protocol::Http2 => (true, Prefix::EMPTY),
        Protocol::Sniff => {
            let sniffed = tokio::select! {
                biased;
                () = graceful.cancelled() => return,
                sniffed = within(protocols.header_read_timeout, sniff(&mut stream)) => sniffed,
            };
            match sniffed {
                Some(Ok(Some(sniffed))) => sniffed,
                Some(Ok(None)) => return, // closed before sending anything
                Some(Err(error)) => {
                    tracing::debug!(%error, "connection failed before its first request");
                    return;
                }
                None => {
                    tracing::debug!(
                        "no request within the header-read timeout; closing the connection"
                    );
                    #[cfg(feature = "metrics")]
                    crate::telemetry::limit_hit(crate::telemetry::Limit::HeaderReadTimeout);
                    return;
                }
            }
        }
    };
    #[cfg(feature = "metrics")]
    let _open = crate::telemetry::Open::connection(is_http2);
    let activity = Arc::new(Activity::default());
    let io = TokioIo::new(Metered::new(
        Sniffed::new(prefix, stream),
        activity.clone(),
        slot,
        !is_http2,
    ));
    let result = if is_http2 {
        let budget = Arc::new(SendBudget::new(protocols.http2_connection_send_buffer));
        let service = Http2Service {
            app: service,
            activity: activity.clone(),
            budget: budget.clone(),
        };
        // Boxed: the rarer protocol does not make every connection's task bigger.
        let mut connection = Box::pin(protocols.http2.serve_connection(io, service));
        let watch = Watchdog::new(
            protocols.http2_idle_timeout,
            protocols.write_stall_timeout,
            false,
        )
        .map(|watchdog| Watch {
            watchdog,
            activity,
            unsent: Some(budget),
        });
        drive(connection.as_mut(), graceful, hard_stop, watch).await
    } else {
        let connection = pin!(Http1Connection::new(
            &protocols.http1,
            io,
            service,
            activity.clone()
        ));
        let watch = Watchdog::new(
            protocols.header_read_timeout,
            protocols.write_stall_timeout,
            true,
        )
        .map(|watchdog| Watch {
            watchdog,
            activity,
            unsent: None,
        });
        drive(connection, graceful, hard_stop, watch).await
    };
    if let Err(error) = result {
        tracing::debug!(%error, "connection closed with an error");
    }
}

pub(super) async fn within<F: Future>(limit: Option<Duration>, future: F) -> Option<F::Output> {
    match limit {
        Some(limit) => tokio::time::timeout(limit, future).await.ok(),
        None => Some(future.await),
    }
}

/// A connection's watchdog and what it samples.
struct Watch {
    watchdog: Watchdog,
    activity: Arc<Activity>,
    /// HTTP/2: response bytes not yet written keep the connection busy.
    unsent: Option<Arc<SendBudget>>,
}

impl Watch {
    fn sample(&self) -> Sample {
        let mut sample = self.activity.sample();
        sample.open |= self
            .unsent
            .as_ref()
            .is_some_and(|unsent| unsent.has_unsent());
        sample
    }
}

/// How long an HTTP/2 connection closed for idleness may take to answer the GOAWAY's ping
/// before it is dropped.
const GOAWAY_GRACE: Duration = Duration::from_secs(1);

/// Drives a connection, starting its graceful shutdown when `graceful` fires, dropping it
/// when `hard_stop` does, and closing it when its watchdog finds it idle or stalled.
async fn drive<C: Connection>(
    mut connection: Pin<&mut C>,
    graceful: &CancellationToken,
    hard_stop: &CancellationToken,
    mut watch: Option<Watch>,
) -> Result<(), hyper::Error> {
    let graceful = pin!(graceful.cancelled());
    let mut graceful = LazySignal::new(graceful);
    let hard_stop = pin!(hard_stop.cancelled());
    let mut hard_stop = LazySignal::new(hard_stop);
    let mut draining = false;
    // When an idle HTTP/2 connection was sent GOAWAY: it is dropped at the next firing.
    let mut went_away = false;
    let timer = pin!(
        watch
            .as_ref()
            .map(|watch| tokio::time::sleep(watch.watchdog.period()))
    );
    let mut timer = timer.as_pin_mut().map(LazySignal::new);
    std::future::poll_fn(|cx| {
        // Set when the timer, reset, was already due: its wake-up went nowhere.
        let mut timer_due = false;
        loop {
            if !draining && graceful.fired(cx) {
                draining = true;
                connection.as_mut().start_graceful_shutdown();
            }
            if draining && hard_stop.fired(cx) {
                return Poll::Ready(Ok(()));
            }
            if let Poll::Ready(result) = connection.as_mut().poll(cx) {
                return Poll::Ready(result);
            }
            let (Some(timer), Some(watch)) = (&mut timer, &mut watch) else {
                return Poll::Pending;
            };
            if !timer_due && !timer.fired(cx) {
                return Poll::Pending;
            }
            let sample = watch.sample();
            let mut next = watch.watchdog.period();
            // Whether the connection has something new to do (a GOAWAY to write).
            let mut changed = false;
            if went_away {
                if !sample.open {
                    tracing::debug!(
                        "idle HTTP/2 connection did not close after GOAWAY; dropping it"
                    );
                    return Poll::Ready(Ok(()));
                }
                // A request that crossed the GOAWAY is being answered; the connection closes
                // after it.
                went_away = false;
                watch.watchdog.restart(sample);
            } else {
                match watch.watchdog.tick(sample) {
                    Verdict::Fine => {}
                    Verdict::Stalled => {
                        tracing::debug!(
                            "the client read nothing for the write-stall timeout; closing"
                        );
                        #[cfg(feature = "metrics")]
                        crate::telemetry::limit_hit(crate::telemetry::Limit::WriteStall);
                        return Poll::Ready(Ok(()));
                    }
                    Verdict::Idle if C::IS_HTTP2 && !draining => {
                        tracing::debug!("idle HTTP/2 connection; sending GOAWAY");
                        #[cfg(feature = "metrics")]
                        crate::telemetry::limit_hit(crate::telemetry::Limit::Idle);
                        draining = true;
                        went_away = true;
                        changed = true;
                        connection.as_mut().start_graceful_shutdown();
                        next = next.min(GOAWAY_GRACE);
                    }
                    Verdict::Idle => {
                        tracing::debug!(
                            "no request within the idle (header-read) timeout; closing"
                        );
                        #[cfg(feature = "metrics")]
                        crate::telemetry::limit_hit(crate::telemetry::Limit::HeaderReadTimeout);
                        return Poll::Ready(Ok(()));
                    }
                }
            }
            timer.signal_mut().reset(tokio::time::Instant::now() + next);
            // Registers for the new deadline. Goes round again when the connection has
            // something to write (the GOAWAY just queued would otherwise wait for the next
            // wake-up) or the deadline has already passed (its wake-up went nowhere); not
            // otherwise, so that a firing costs no second poll of every open stream.
            timer_due = timer.poll_now(cx);
            if !timer_due && !changed {
                return Poll::Pending;
            }
        }
    })
    .await
}

/// A hyper connection that can be asked to finish gracefully: HTTP/1.1 closes after the
/// response in flight, HTTP/2 sends GOAWAY and finishes its open streams.
pub(super) trait Connection: Future<Output = Result<(), hyper::Error>> {
    const IS_HTTP2: bool;

    fn start_graceful_shutdown(self: Pin<&mut Self>);
}

/// The transport as hyper sees it: metered, with the sniffed bytes put back in front.
pub(super) type Io<I> = TokioIo<Metered<Sniffed<I>>>;

impl<I> Connection for http2::Connection<Io<I>, Http2Service, TokioExecutor>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    const IS_HTTP2: bool = true;

    fn start_graceful_shutdown(self: Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}
