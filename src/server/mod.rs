//! The accept loop: connections, timeouts, limits and graceful shutdown.
//!
//! Each accepted socket is served by [`connection::serve`]: HTTP/1.1 with keep-alive, or
//! HTTP/2 when the client starts with the HTTP/2 preface (prior knowledge, no TLS). With
//! TLS, `tls::serve` does the handshake in the connection's task and ALPN chooses.
//!
//! Every connection, stream and byte is bounded: one timer per connection closes it when
//! idle or when its client reads nothing (`watchdog`, fed by `activity` and the metered
//! socket of `io`); HTTP/2 connections have their streams capped and their unsent bytes
//! budgeted (`http2`); HTTP/1.1 requests need a valid `Host` (`host`); `serve` raises the
//! open-file limit and rides out running out of descriptors (`fd_limit`). Request bodies
//! carry their own read timeout (`crate::request::RequestBody`).
//!
//! Shutdown: stop accepting; ask every connection to finish gracefully (HTTP/1.1 closes
//! after the response in flight, HTTP/2 sends GOAWAY) and end the streams marked
//! `end_on_shutdown`; after the shutdown timeout, drop whatever is still open.

mod connection;
mod fd_limit;
mod handoff;
mod host;
mod http1;
mod http2;
mod io;
mod signal;
mod sniffed;
#[cfg(feature = "tls")]
mod tls;
mod watchdog;

use std::future::Future;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpSocket, ToSocketAddrs};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::limits::Limits;
use crate::service::AppService;
use connection::Protocols;
use fd_limit::AcceptErrors;

/// What the accepted connections speak.
#[derive(Debug)]
pub(crate) enum Transport {
    /// HTTP/1.1 and HTTP/2 with prior knowledge, without TLS.
    Cleartext,
    /// TLS, with HTTP/2 or HTTP/1.1 as ALPN chooses.
    #[cfg(feature = "tls")]
    Tls(crate::tls::TlsConfig),
}

pub(crate) async fn run(
    listener: TcpListener,
    transport: Transport,
    service: AppService,
    limits: &Limits,
    signal: impl Future<Output = ()> + Send,
) {
    if limits.raise_fd_limit {
        fd_limit::raise_open_file_limit();
    }
    let protocols = Arc::new(Protocols::new(limits));
    let mut accept_errors = AcceptErrors::default();
    let graceful = service.shutdown_token().clone();
    let hard_stop = CancellationToken::new();
    let connections = TaskTracker::new();
    let slots = limits
        .max_connections
        .map(|limit| Arc::new(Semaphore::new(limit)));
    if let Ok(addr) = listener.local_addr() {
        match transport {
            Transport::Cleartext => tracing::info!(%addr, "serving"),
            #[cfg(feature = "tls")]
            Transport::Tls(_) => tracing::info!(%addr, "serving over TLS"),
        }
    }
    tokio::pin!(signal);

    loop {
        // With a connection limit, wait for a free slot before accepting, so the excess waits
        // in the kernel's backlog instead of holding a file descriptor here.
        // Counted when the loop has to wait: the limit is holding connections back.
        #[cfg(feature = "metrics")]
        if slots
            .as_ref()
            .is_some_and(|slots| slots.available_permits() == 0)
        {
            crate::telemetry::limit_hit(crate::telemetry::Limit::MaxConnections);
        }
        let slot = match &slots {
            None => None,
            Some(slots) => tokio::select! {
                biased;
                () = &mut signal => break,
                slot = slots.clone().acquire_owned() => Some(slot.expect("the semaphore is never closed")),
            },
        };
        let (stream, _peer) = tokio::select! {
            biased;
            () = &mut signal => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_errors.pause_after(&error).await;
                    continue;
                }
            },
        };
        match &transport {
            Transport::Cleartext => connections.spawn(connection::serve(
                protocols.clone(),
                stream,
                service.clone(),
                graceful.clone(),
                hard_stop.clone(),
                slot,
            )),
            #[cfg(feature = "tls")]
            Transport::Tls(config) => connections.spawn(tls::serve(
                protocols.clone(),
                config.clone(),
                stream,
                _peer,
                service.clone(),
                graceful.clone(),
                hard_stop.clone(),
                slot,
            )),
        };
    }

    drop(listener);
    tracing::info!(
        open = connections.len(),
        "shutting down: draining connections"
    );
    let deadline = tokio::time::Instant::now() + limits.shutdown_timeout;
    graceful.cancel();
    connections.close();
    if tokio::time::timeout_at(deadline, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            open = connections.len(),
            timeout = ?limits.shutdown_timeout,
            "connections still open after the shutdown timeout; closing them"
        );
        hard_stop.cancel();
        connections.wait().await;
    }
    // Upgraded connections have left hyper's hands; their sockets got 1001 when `graceful`
    // was cancelled and close within the same deadline.
    #[cfg(feature = "ws")]
    service
        .ws_runtime()
        .drain(deadline.saturating_duration_since(tokio::time::Instant::now()))
        .await;
    tracing::info!("server stopped");
}

/// Binds the first address `addr` resolves to that accepts a bind, with `backlog`, and
/// `SO_REUSEPORT` if `reuse_port`.
pub(crate) async fn bind(
    addr: impl ToSocketAddrs,
    backlog: u32,
    reuse_port: bool,
) -> std::io::Result<TcpListener> {
    let mut last_error = None;
    for addr in tokio::net::lookup_host(addr).await? {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        // As the standard library does: rebinding right after a restart must not fail.
        socket.set_reuseaddr(true)?;
        if reuse_port {
            set_reuseport(&socket)?;
        }
        match socket.bind(addr).and_then(|()| socket.listen(backlog)) {
            Ok(listener) => return Ok(listener),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the address resolved to nothing",
        )
    }))
}

// The platforms where tokio offers SO_REUSEPORT.
#[cfg(all(
    unix,
    not(any(
        target_os = "solaris",
        target_os = "illumos",
        target_os = "cygwin",
        target_os = "nuttx"
    ))
))]
fn set_reuseport(socket: &TcpSocket) -> std::io::Result<()> {
    socket.set_reuseport(true)
}

#[cfg(not(all(
    unix,
    not(any(
        target_os = "solaris",
        target_os = "illumos",
        target_os = "cygwin",
        target_os = "nuttx"
    ))
)))]
fn set_reuseport(_socket: &TcpSocket) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "reuse_port (SO_REUSEPORT) is not available on this platform",
    ))
}

/// Completes on Ctrl-C or, on Unix, SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}
