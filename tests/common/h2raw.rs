//! HTTP/2 by hand, for clients that misbehave in ways the `h2` crate will not: never
//! reading, never answering a PING, staying silent after the preface.

use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

pub const DATA: u8 = 0x0;
pub const HEADERS: u8 = 0x1;
pub const RST_STREAM: u8 = 0x3;
pub const SETTINGS: u8 = 0x4;
pub const PING: u8 = 0x6;
pub const GOAWAY: u8 = 0x7;
pub const WINDOW_UPDATE: u8 = 0x8;

pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let length = u32::try_from(payload.len()).unwrap();
    let mut bytes = length.to_be_bytes()[1..].to_vec();
    bytes.extend([kind, flags]);
    bytes.extend(stream.to_be_bytes());
    bytes.extend(payload);
    bytes
}

/// The preface and an empty SETTINGS frame.
pub fn preface() -> Vec<u8> {
    let mut bytes = PREFACE.to_vec();
    bytes.extend(frame(SETTINGS, 0, 0, &[]));
    bytes
}

/// The preface, SETTINGS with the largest stream window, and the largest connection
/// window: the server may send as much as it likes.
pub fn preface_with_open_windows() -> Vec<u8> {
    let mut bytes = PREFACE.to_vec();
    let mut settings = vec![0, 4]; // SETTINGS_INITIAL_WINDOW_SIZE
    settings.extend(0x7fff_ffffu32.to_be_bytes());
    bytes.extend(frame(SETTINGS, 0, 0, &settings));
    bytes.extend(frame(
        WINDOW_UPDATE,
        0,
        0,
        &(0x7fff_ffffu32 - 65_535).to_be_bytes(),
    ));
    bytes
}

/// HEADERS for `method path` (HPACK literals, no Huffman coding); `end_stream` when there
/// is no body. `extra` headers are lowercase `(name, value)` pairs.
pub fn request(
    stream: u32,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
    end_stream: bool,
) -> Vec<u8> {
    let mut block = Vec::new();
    let mut literal = |name: &str, value: &str| {
        block.push(0x00); // literal without indexing, new name
        block.push(u8::try_from(name.len()).unwrap());
        block.extend(name.as_bytes());
        block.push(u8::try_from(value.len()).unwrap());
        block.extend(value.as_bytes());
    };
    literal(":method", method);
    literal(":scheme", "http");
    literal(":path", path);
    literal(":authority", "x");
    for (name, value) in extra {
        literal(name, value);
    }
    let flags = 0x4 | u8::from(end_stream); // END_HEADERS, END_STREAM
    frame(HEADERS, flags, stream, &block)
}

/// A frame as read: type, flags, stream and payload.
#[derive(Debug)]
pub struct Frame {
    pub kind: u8,
    pub flags: u8,
    pub stream: u32,
    pub payload: Vec<u8>,
}

/// Reads frames until the server closes the connection or `limit` passes: the frames,
/// and whether it closed.
pub async fn read_frames(socket: &mut TcpStream, limit: Duration) -> (Vec<Frame>, bool) {
    let mut received = Vec::new();
    let closed = tokio::time::timeout(limit, async {
        let mut buffer = [0u8; 16 * 1024];
        loop {
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(read) => received.extend_from_slice(&buffer[..read]),
            }
        }
    })
    .await
    .is_ok();
    (parse(&received), closed)
}

pub fn parse(mut bytes: &[u8]) -> Vec<Frame> {
    let mut frames = Vec::new();
    while bytes.len() >= 9 {
        let length =
            usize::from(bytes[0]) << 16 | usize::from(bytes[1]) << 8 | usize::from(bytes[2]);
        if bytes.len() < 9 + length {
            break;
        }
        frames.push(Frame {
            kind: bytes[3],
            flags: bytes[4],
            stream: u32::from_be_bytes([bytes[5], bytes[6], bytes[7], bytes[8]]) & 0x7fff_ffff,
            payload: bytes[9..9 + length].to_vec(),
        });
        bytes = &bytes[9 + length..];
    }
    frames
}
