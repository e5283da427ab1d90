//! The end of a conversation: how it ended ([`Ending`], what `receive` reports) and the
//! rest of the closing handshake ([`Closing`]), which runs in a background task the server's
//! graceful shutdown waits for, so that a handler returns at once.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::error::{Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;

use super::message::close_code;
use super::runtime::WsRuntime;
use super::socket::Stream;

/// How long the closing handshake may take before the connection is dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// How much a failed connection may still send us after our close before we stop reading.
const DRAIN_LIMIT: usize = 1 << 20;

/// The rest of a closing handshake, run in the background.
pub(super) enum Closing {
    /// The peer closed: send the reply tungstenite has queued.
    Reply,
    /// Send our close and wait for the peer's.
    Handshake(CloseFrame),
    /// Our close is sent: wait for the peer's.
    AwaitReply,
    /// The peer broke the protocol or a limit: send our close, stop writing, and read
    /// what it still sends (without parsing it) until it hangs up, so the close frame is
    /// not lost to a reset.
    Fail(CloseFrame),
    /// The connection is gone.
    Drop,
}

/// How a conversation ended: what `receive` reports and what is left to do on the wire.
pub(super) struct Ending {
    pub(super) code: u16,
    pub(super) reason: String,
    pub(super) closing: Closing,
}

impl Ending {
    pub(super) fn ours(code: u16, reason: &str, fail: bool) -> Self {
        let frame = close_frame(code, reason);
        let closing = if fail {
            Closing::Fail(frame)
        } else {
            Closing::Handshake(frame)
        };
        Self {
            code,
            reason: reason.to_owned(),
            closing,
        }
    }

    pub(super) fn abnormal() -> Self {
        Self {
            code: close_code::ABNORMAL,
            reason: String::new(),
            closing: Closing::Drop,
        }
    }

    pub(super) fn from_peer(frame: Option<CloseFrame>) -> Self {
        let (code, reason) = match frame {
            Some(frame) => (u16::from(frame.code), frame.reason.as_str().to_owned()),
            None => (close_code::NO_STATUS, String::new()),
        };
        Self {
            code,
            reason,
            closing: Closing::Reply,
        }
    }

    pub(super) fn from_error(error: &WsError) -> Self {
        tracing::debug!(%error, "WebSocket connection failed");
        match error {
            WsError::Capacity(_) => {
                Self::ours(close_code::MESSAGE_TOO_BIG, "message too big", true)
            }
            WsError::Utf8(_) => Self::ours(
                close_code::INVALID_DATA,
                "invalid UTF-8 in a text message",
                true,
            ),
            WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake)
            | WsError::Io(_)
            | WsError::ConnectionClosed
            | WsError::AlreadyClosed => Self::abnormal(),
            WsError::Protocol(_) => Self::ours(close_code::PROTOCOL_ERROR, "protocol error", true),
            _ => Self::ours(close_code::INTERNAL_ERROR, "internal error", true),
        }
    }
}

pub(super) fn close_frame(code: u16, reason: &str) -> CloseFrame {
    CloseFrame {
        code: code.into(),
        reason: reason.into(),
    }
}

impl WsRuntime {
    pub(super) fn spawn_closing(&self, stream: Box<Stream>, closing: Closing) {
        if matches!(closing, Closing::Drop) {
            return;
        }
        // Drop may run outside a runtime (a socket leaked into a runtime's teardown).
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let hard_stop = self.hard_stop.clone();
        let finishing = async move {
            tokio::select! {
                biased;
                () = hard_stop.cancelled() => {}
                _ = tokio::time::timeout(CLOSE_TIMEOUT, finish(stream, closing)) => {}
            }
        };
        self.tasks.spawn_on(finishing, &handle);
    }
}

async fn finish(mut stream: Box<Stream>, closing: Closing) {
    match closing {
        Closing::Reply => {
            let _ = stream.flush().await;
        }
        Closing::Handshake(frame) => {
            if WebSocketStream::close(&mut stream, Some(frame))
                .await
                .is_ok()
            {
                await_reply(&mut stream).await;
            }
        }
        Closing::AwaitReply => await_reply(&mut stream).await,
        Closing::Fail(frame) => {
            let _ = WebSocketStream::close(&mut stream, Some(frame)).await;
            // tungstenite would try to buffer the rest of an oversize frame, so the bytes
            // still coming are read raw and discarded.
            let io = stream.get_mut();
            let _ = io.shutdown().await;
            let mut scratch = [0u8; 4096];
            let mut drained = 0;
            while drained < DRAIN_LIMIT {
                match io.read(&mut scratch).await {
                    Ok(0) | Err(_) => break,
                    Ok(read) => drained += read,
                }
            }
        }
        Closing::Drop => return,
    }
    // The server ends the connection first, as RFC 6455 §7.1.1 asks: a FIN over HTTP/1.1,
    // END_STREAM over HTTP/2 (RFC 8441 §5), where merely dropping the stream would leave
    // it to be reset.
    let _ = stream.get_mut().shutdown().await;
}

/// Reads (and drops) what the peer sends until its close arrives.
async fn await_reply(stream: &mut Stream) {
    while let Some(Ok(message)) = stream.next().await {
        if message.is_close() {
            // One more read lets tungstenite finish; it ends the stream at once.
            let _ = stream.next().await;
            break;
        }
    }
}
