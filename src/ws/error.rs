//! [`WebSocketError`]: why a [`WebSocket`](super::WebSocket) call failed.

use std::fmt;

use crate::error::BoxError;
use crate::response::InvalidHeader;

/// Why a call on a [`WebSocket`](super::WebSocket) failed.
///
/// The end of a conversation is not an error: [`receive`](super::WebSocket::receive)
/// reports it once as a [`Message::Close`](super::Message::Close); only calls after that
/// get [`WebSocketError::Closed`].
#[derive(Debug)]
#[non_exhaustive]
pub enum WebSocketError {
    /// `receive` or `send` before `accept`.
    NotAccepted,
    /// `accept` or `reject` on a socket already accepted, rejected or closed.
    AlreadyAccepted,
    /// The conversation is over: its close was already reported, or the socket was closed.
    Closed,
    /// The client went away (or the request timed out) before the upgrade completed.
    HandshakeAbandoned,
    /// `accept` named a subprotocol the client did not offer.
    UnknownSubprotocol(String),
    /// `accept` was given a header that is not valid HTTP.
    InvalidHeader(InvalidHeader),
    /// `close` was given a code that may not be sent (see
    /// [`close_code::is_sendable`](super::close_code::is_sendable)).
    InvalidCloseCode(u16),
    /// `close` was given a reason longer than 123 bytes.
    CloseReasonTooLong,
    /// Sending failed because the connection broke.
    Connection(BoxError),
}

impl WebSocketError {
    /// Whether the error says the peer or the network ended the conversation, rather than
    /// a mistake in the handler. A handler returning such an error is not logged as failed.
    #[must_use]
    pub fn is_disconnect(&self) -> bool {
        matches!(
            self,
            Self::Closed | Self::HandshakeAbandoned | Self::Connection(_)
        )
    }
}

impl fmt::Display for WebSocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAccepted => f.write_str("the WebSocket was not accepted yet"),
            Self::AlreadyAccepted => f.write_str("the WebSocket handshake was already answered"),
            Self::Closed => f.write_str("the WebSocket is closed"),
            Self::HandshakeAbandoned => {
                f.write_str("the client went away before the WebSocket upgrade completed")
            }
            Self::UnknownSubprotocol(name) => {
                write!(f, "the client did not offer the subprotocol {name:?}")
            }
            Self::InvalidHeader(error) => error.fmt(f),
            Self::InvalidCloseCode(code) => write!(f, "close code {code} may not be sent"),
            Self::CloseReasonTooLong => f.write_str("a close reason must fit in 123 bytes"),
            Self::Connection(error) => write!(f, "the WebSocket connection failed: {error}"),
        }
    }
}

impl std::error::Error for WebSocketError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidHeader(error) => Some(error),
            Self::Connection(error) => Some(&**error),
            _ => None,
        }
    }
}

impl From<InvalidHeader> for WebSocketError {
    fn from(error: InvalidHeader) -> Self {
        Self::InvalidHeader(error)
    }
}
