//! [`Message`]: what a WebSocket receives and sends, and the [`close_code`]s.

use bytes::Bytes;

/// One WebSocket message: text, binary, or the close that ended the conversation.
///
/// Fragmented messages arrive whole; pings are answered and pongs consumed before
/// [`receive`](super::WebSocket::receive) returns, so they never appear here.
///
/// ```
/// use bareasgi::ws::Message;
///
/// assert_eq!(Message::from("hi"), Message::Text("hi".into()));
/// assert_eq!(Message::from(vec![1u8, 2]), Message::Binary(bytes::Bytes::from_static(&[1, 2])));
/// assert!(Message::Binary(bytes::Bytes::new()).as_text().is_none()); // empty binary stays binary
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message (always valid UTF-8).
    Text(String),
    /// A binary message, possibly empty.
    Binary(Bytes),
    /// The conversation ended: the peer's close, or the one the server sent (a size limit,
    /// a protocol error, shutdown), or `1006` when the connection dropped without one.
    Close {
        /// The close code; see [`close_code`].
        code: u16,
        /// Why, as text (at most 123 bytes on the wire); often empty.
        reason: String,
    },
}

impl Message {
    /// The text of a [`Message::Text`].
    #[must_use]
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The bytes of a [`Message::Binary`].
    #[must_use]
    pub fn as_binary(&self) -> Option<&Bytes> {
        match self {
            Self::Binary(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// Whether this is a [`Message::Close`].
    #[must_use]
    pub fn is_close(&self) -> bool {
        matches!(self, Self::Close { .. })
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<Bytes> for Message {
    fn from(bytes: Bytes) -> Self {
        Self::Binary(bytes)
    }
}

impl From<Vec<u8>> for Message {
    fn from(bytes: Vec<u8>) -> Self {
        Self::Binary(bytes.into())
    }
}

impl From<&'static [u8]> for Message {
    fn from(bytes: &'static [u8]) -> Self {
        Self::Binary(Bytes::from_static(bytes))
    }
}

/// The close codes of RFC 6455 §7.4.1 that a server meets. Any code from 3000 to 4999 is
/// the application's to define.
pub mod close_code {
    /// 1000: the purpose of the connection was fulfilled.
    pub const NORMAL: u16 = 1000;
    /// 1001: the server is shutting down (or the browser left the page).
    pub const GOING_AWAY: u16 = 1001;
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// 1003: a kind of data the endpoint cannot take (text to a binary-only endpoint).
    pub const UNSUPPORTED_DATA: u16 = 1003;
    /// 1005: reported, never sent: the peer's close frame had no code.
    pub const NO_STATUS: u16 = 1005;
    /// 1006: reported, never sent: the connection dropped without a close frame.
    pub const ABNORMAL: u16 = 1006;
    /// 1007: a text message that was not UTF-8.
    pub const INVALID_DATA: u16 = 1007;
    /// 1008: a message that breaks the endpoint's policy.
    pub const POLICY_VIOLATION: u16 = 1008;
    /// 1009: a message larger than the endpoint takes
    /// ([`Application::ws_max_message_size`](crate::Application::ws_max_message_size)).
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    /// 1011: the server failed (a handler panicked or returned an error).
    pub const INTERNAL_ERROR: u16 = 1011;

    /// Whether `code` may be sent in a close frame: 1000–1003, 1007–1014, 3000–4999.
    #[must_use]
    pub fn is_sendable(code: u16) -> bool {
        matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}
