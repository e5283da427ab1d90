//! One TLS connection: the handshake, bounded by the header-read timeout, then the protocol
//! ALPN chose, served by [`connection::serve_io`] as a cleartext connection would be.
//!
//! The handshake runs in the connection's own task (never in the accept loop), holding the
//! connection's slot of `max_connections`. A handshake that fails — plain HTTP sent to the
//! TLS port, a name the configuration has no certificate for, a client that stalls — is
//! logged at DEBUG and ends only its own connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;

use super::connection::{self, Protocol, Protocols};
use crate::service::AppService;
use crate::tls::TlsConfig;

/// The first byte of every TLS connection: a handshake record (RFC 8446, section 5.1).
const HANDSHAKE_RECORD: u8 = 0x16;

/// The answer to a plain-HTTP request on the TLS port, so that `curl http://` says what
/// went wrong instead of printing a TLS alert's bytes.
const PLAIN_HTTP_ANSWER: &[u8] = b"HTTP/1.1 400 Bad Request\r\n\
content-type: text/plain; charset=utf-8\r\n\
content-length: 44\r\n\
connection: close\r\n\
\r\n\
This port speaks HTTPS: use an https:// URL\n";

/// Serves one accepted connection over TLS to the end.
#[allow(clippy::too_many_arguments)] // the cleartext `serve`'s arguments, plus TLS and the peer
pub(super) async fn serve(
    protocols: Arc<Protocols>,
    tls: TlsConfig,
    stream: TcpStream,
    peer: SocketAddr,
    service: AppService,
    graceful: CancellationToken,
    hard_stop: CancellationToken,
    slot: Option<OwnedSemaphorePermit>,
) {
    #[cfg(feature = "metrics")]
    let _accepted = crate::telemetry::Open::accepted("tls");
    connection::tune_socket(&stream);
    let handshake = tokio::select! {
        biased;
        () = graceful.cancelled() => return,
        done = connection::within(protocols.header_read_timeout, handshake(&tls, stream)) => done,
    };
    let stream = match handshake {
        Some(Ok(stream)) => stream,
        Some(Err(failure)) => {
            failure.log(peer);
            return;
        }
        None => {
            tracing::debug!(%peer, "TLS handshake not done within the header-read timeout; closing");
            #[cfg(feature = "metrics")]
            crate::telemetry::limit_hit(crate::telemetry::Limit::HeaderReadTimeout);
            return;
        }
    };
    let protocol = match stream.get_ref().1.alpn_protocol() {
        Some(b"h2") => Protocol::Http2,
        Some(b"http/1.1") => Protocol::Http1,
        None => Protocol::Sniff,
        Some(other) => {
            let other = String::from_utf8_lossy(other);
            tracing::debug!(%peer, alpn = %other, "TLS client chose a protocol that is not HTTP; closing");
            return;
        }
    };
    connection::serve_io(
        &protocols, stream, protocol, service, &graceful, &hard_stop, slot,
    )
    .await;
}

/// Why a connection never got past its handshake.
enum Failure {
    /// Closed before sending anything: a port scanner, a health check.
    Closed,
    /// A cleartext HTTP request (already answered with a 400).
    PlainHttp,
    /// Not TLS at all: the first byte.
    NotTls(u8),
    /// TLS failed: a bad or unsupported client hello, no certificate for its name, a reset.
    Tls(std::io::Error),
}

impl Failure {
    fn log(&self, peer: SocketAddr) {
        match self {
            Failure::Closed => tracing::debug!(%peer, "closed before the TLS handshake"),
            Failure::PlainHttp => {
                tracing::debug!(%peer, "plain HTTP sent to the TLS port; answered 400");
            }
            Failure::NotTls(byte) => {
                tracing::debug!(%peer, first_byte = byte, "not a TLS client; closing");
            }
            Failure::Tls(error) => tracing::debug!(%peer, %error, "TLS handshake failed"),
        }
    }
}

async fn handshake(
    tls: &TlsConfig,
    mut stream: TcpStream,
) -> Result<TlsStream<TcpStream>, Failure> {
    // Peeking leaves the bytes for rustls; it returns as soon as the first have arrived.
    let mut first = [0u8; 1];
    match stream.peek(&mut first).await {
        Ok(0) => return Err(Failure::Closed),
        Ok(_) => {}
        Err(error) => return Err(Failure::Tls(error)),
    }
    if first[0] != HANDSHAKE_RECORD {
        if first[0].is_ascii_uppercase() {
            // A request line starts with a method in capitals. Best effort: the client may
            // be gone already, and the connection closes either way. The request is read
            // to the client's close, since closing with unread bytes would send a reset
            // that can destroy the answer before the client reads it.
            let answer = async {
                stream.write_all(PLAIN_HTTP_ANSWER).await?;
                stream.shutdown().await?;
                let mut sink = [0u8; 1024];
                let mut drained = 0;
                while drained < 64 * 1024 {
                    match stream.read(&mut sink).await? {
                        0 => break,
                        read => drained += read,
                    }
                }
                std::io::Result::Ok(())
            };
            let _ = tokio::time::timeout(Duration::from_secs(1), answer).await;
            return Err(Failure::PlainHttp);
        }
        return Err(Failure::NotTls(first[0]));
    }
    // The configuration is read per handshake, so a reload applies to the next one.
    TlsAcceptor::from(tls.server_config())
        .accept(stream)
        .await
        .map_err(Failure::Tls)
}

#[cfg(test)]
mod tests {
    use super::PLAIN_HTTP_ANSWER;

    #[test]
    fn the_plain_http_answer_has_the_right_content_length() {
        let text = std::str::from_utf8(PLAIN_HTTP_ANSWER).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}\r\n", body.len())));
    }
}
