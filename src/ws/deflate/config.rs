//! [`Deflate`]: the server's permessage-deflate settings.

/// The permessage-deflate settings (RFC 7692) of an application's WebSockets, set with
/// [`Application::ws_deflate`](crate::Application::ws_deflate). On by default with
/// `Deflate::default()`; `app.ws_deflate(None)` turns the extension off.
///
/// ```
/// use bareasgi::Application;
/// use bareasgi::ws::Deflate;
///
/// let mut app = Application::new();
/// // Less memory per socket: a 4 KiB window, and no state kept between messages.
/// app.ws_deflate(Some(
///     Deflate::default()
///         .level(3)
///         .server_max_window_bits(12)
///         .server_no_context_takeover(true)
///         .min_size(256),
/// ));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deflate {
    pub(crate) level: u32,
    pub(crate) server_max_window_bits: u8,
    pub(crate) client_max_window_bits: u8,
    pub(crate) server_no_context_takeover: bool,
    pub(crate) min_size: usize,
}

impl Default for Deflate {
    /// Level 6, 32 KiB windows both ways, context kept between messages, messages of 64
    /// bytes or more compressed.
    fn default() -> Self {
        Self {
            level: 6,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
            server_no_context_takeover: false,
            min_size: 64,
        }
    }
}

impl Deflate {
    /// The compression level, `0` (stored, no compression) to `9` (smallest, slowest).
    ///
    /// # Panics
    /// Above 9.
    #[must_use]
    #[track_caller]
    pub fn level(mut self, level: u32) -> Self {
        assert!(
            level <= 9,
            "Deflate::level takes 0 to 9, not {level}: zlib's levels"
        );
        self.level = level;
        self
    }

    /// The largest window the server compresses with, as a power of two (`8` to `15`, 256
    /// bytes to 32 KiB); a client may ask for less. A smaller window is less memory per
    /// socket and less compression.
    ///
    /// # Panics
    /// Outside 8..=15.
    #[must_use]
    #[track_caller]
    pub fn server_max_window_bits(mut self, bits: u8) -> Self {
        assert!(
            (8..=15).contains(&bits),
            "Deflate::server_max_window_bits takes 8 to 15 (RFC 7692 §7.1.2), not {bits}"
        );
        self.server_max_window_bits = bits;
        self
    }

    /// The largest window the server asks clients to compress with, when they offer to be
    /// told (`client_max_window_bits` in their offer); `8` to `15`.
    ///
    /// # Panics
    /// Outside 8..=15.
    #[must_use]
    #[track_caller]
    pub fn client_max_window_bits(mut self, bits: u8) -> Self {
        assert!(
            (8..=15).contains(&bits),
            "Deflate::client_max_window_bits takes 8 to 15 (RFC 7692 §7.1.2), not {bits}"
        );
        self.client_max_window_bits = bits;
        self
    }

    /// Whether the server starts every message with a fresh compressor (answering
    /// `server_no_context_takeover` even when the client did not ask). Costs compression
    /// on small, similar messages; saves the compressor's memory (about 256 KiB at 15
    /// window bits, 200 KiB at 10: zlib's memory level is fixed at 8) between messages.
    #[must_use]
    pub fn server_no_context_takeover(mut self, yes: bool) -> Self {
        self.server_no_context_takeover = yes;
        self
    }

    /// Messages shorter than this many bytes are sent uncompressed (RFC 7692 lets each
    /// message choose): compressing a few bytes costs more than it saves.
    #[must_use]
    pub fn min_size(mut self, bytes: usize) -> Self {
        self.min_size = bytes;
        self
    }
}
