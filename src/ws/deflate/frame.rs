//! The frame header of RFC 6455 §5.2, as far as the deflate layer needs it: where a frame
//! ends, whether it starts a compressed message, and writing the header of a frame it makes.

use bytes::{BufMut, BytesMut};

pub(super) const OP_CONTINUATION: u8 = 0x0;
pub(super) const OP_TEXT: u8 = 0x1;
pub(super) const OP_BINARY: u8 = 0x2;

const FIN: u8 = 0x80;
/// RFC 7692 §6: RSV1 on a message's first frame says the message is compressed.
pub(super) const RSV1: u8 = 0x40;
const RSV2: u8 = 0x20;
const RSV_ALL: u8 = 0x70;
const MASKED: u8 = 0x80;

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Header {
    pub(super) fin: bool,
    /// The three reserved bits, in place (`0x70` mask of the first byte).
    pub(super) rsv: u8,
    pub(super) opcode: u8,
    pub(super) mask: Option<[u8; 4]>,
    pub(super) payload_len: u64,
    /// How many bytes the header itself takes.
    pub(super) len: usize,
}

impl Header {
    /// The header at the start of `buf`, or `None` while it is not all there.
    pub(super) fn parse(buf: &[u8]) -> Option<Self> {
        let (&first, rest) = buf.split_first()?;
        let (&second, rest) = rest.split_first()?;
        let (payload_len, extended) = match second & 0x7f {
            126 => (
                u64::from(u16::from_be_bytes(rest.get(..2)?.try_into().ok()?)),
                2,
            ),
            127 => (u64::from_be_bytes(rest.get(..8)?.try_into().ok()?), 8),
            short => (u64::from(short), 0),
        };
        let mask = if second & MASKED != 0 {
            Some(rest.get(extended..extended + 4)?.try_into().ok()?)
        } else {
            None
        };
        Some(Self {
            fin: first & FIN != 0,
            rsv: first & RSV_ALL,
            opcode: first & 0x0f,
            mask,
            payload_len,
            len: 2 + extended + if mask.is_some() { 4 } else { 0 },
        })
    }

    pub(super) fn is_data(&self) -> bool {
        self.opcode == OP_TEXT || self.opcode == OP_BINARY
    }
}

/// Writes the header of a frame of `payload_len` bytes.
pub(super) fn write_header(
    out: &mut BytesMut,
    fin: bool,
    rsv: u8,
    opcode: u8,
    mask: Option<[u8; 4]>,
    payload_len: usize,
) {
    out.put_u8(if fin { FIN } else { 0 } | rsv | opcode);
    let masked = if mask.is_some() { MASKED } else { 0 };
    match payload_len {
        0..=125 => out.put_u8(masked | payload_len as u8),
        126..=0xffff => {
            out.put_u8(masked | 126);
            out.put_u16(payload_len as u16);
        }
        _ => {
            out.put_u8(masked | 127);
            out.put_u64(payload_len as u64);
        }
    }
    if let Some(mask) = mask {
        out.put_slice(&mask);
    }
}

/// A frame tungstenite rejects as a protocol error (RSV2 is set and no extension gives it a
/// meaning): how the deflate layer fails a connection whose compressed data is corrupt, so
/// that the close (`1002`) and its handshake run as for any other protocol error.
pub(super) fn write_poison(out: &mut BytesMut, mask: Option<[u8; 4]>) {
    write_header(out, true, RSV2, OP_CONTINUATION, mask, 0);
}

/// XORs `data` with `mask`, starting `offset` bytes into the payload; returns the new offset.
pub(super) fn apply_mask(data: &mut [u8], mask: [u8; 4], offset: usize) -> usize {
    for (i, byte) in data.iter_mut().enumerate() {
        *byte ^= mask[(offset + i) % 4];
    }
    (offset + data.len()) % 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_at_each_length_form() {
        for len in [0usize, 125, 126, 65535, 65536] {
            for mask in [None, Some([1, 2, 3, 4])] {
                let mut out = BytesMut::new();
                write_header(&mut out, true, RSV1, OP_TEXT, mask, len);
                let header = Header::parse(&out).expect("complete");
                assert_eq!(header.len, out.len());
                assert_eq!(header.payload_len, len as u64);
                assert_eq!(header.mask, mask);
                assert_eq!(header.rsv, RSV1);
                assert!(header.fin && header.is_data());
                assert_eq!(Header::parse(&out[..out.len() - 1]), None);
            }
        }
    }

    #[test]
    fn masking_twice_restores_the_data_across_split_calls() {
        let mut data = *b"hello, world";
        let mask = [9, 8, 7, 6];
        let offset = apply_mask(&mut data[..5], mask, 0);
        apply_mask(&mut data[5..], mask, offset);
        apply_mask(&mut data, mask, 0);
        assert_eq!(&data, b"hello, world");
    }
}
