//! [`Compressor`]: the write side of permessage-deflate. tungstenite writes each message as
//! one final frame; a text or binary one of at least the minimum size is compressed into a
//! frame with RSV1 set (RFC 7692 §7.2.1); every other frame goes out as it came.

use bytes::{Buf, BytesMut};
use flate2::{Compress, Compression, FlushCompress};

use super::frame::{Header, RSV1, apply_mask, write_header};

pub(super) struct Compressor {
    /// Bytes from tungstenite not yet looked at (a frame to compress waits here whole).
    pub(super) pending: BytesMut,
    /// Bytes for the socket.
    pub(super) out: BytesMut,
    /// Bytes of a frame going out untouched that are still to come.
    pass: u64,
    deflate: Option<Compress>,
    level: u32,
    window_bits: u8,
    /// This side starts each message afresh (its `no_context_takeover`): the compressor,
    /// about 256 KiB at 15 window bits, is dropped between messages.
    fresh_each_message: bool,
    min_size: u64,
}

impl Compressor {
    pub(super) fn new(
        level: u32,
        window_bits: u8,
        fresh_each_message: bool,
        min_size: usize,
    ) -> Self {
        Self {
            pending: BytesMut::new(),
            out: BytesMut::new(),
            pass: 0,
            deflate: None,
            level,
            window_bits,
            fresh_each_message,
            min_size: min_size as u64,
        }
    }

    /// Moves what it can from `pending` to `out`, compressing whole messages.
    pub(super) fn process(&mut self) -> std::io::Result<()> {
        loop {
            if self.pass > 0 {
                if self.pending.is_empty() {
                    return Ok(());
                }
                let n = self
                    .pending
                    .len()
                    .min(usize::try_from(self.pass).unwrap_or(usize::MAX));
                self.out.extend_from_slice(&self.pending.split_to(n));
                self.pass -= n as u64;
                continue;
            }
            let Some(header) = Header::parse(&self.pending) else {
                return Ok(());
            };
            let compress = header.is_data()
                && header.fin
                && header.rsv == 0
                && header.payload_len >= self.min_size;
            if !compress {
                self.out
                    .extend_from_slice(&self.pending.split_to(header.len));
                self.pass = header.payload_len;
                continue;
            }
            let payload_len = usize::try_from(header.payload_len).map_err(std::io::Error::other)?;
            if self.pending.len() < header.len + payload_len {
                return Ok(());
            }
            self.pending.advance(header.len);
            let mut payload = self.pending.split_to(payload_len);
            if let Some(mask) = header.mask {
                apply_mask(&mut payload, mask, 0);
            }
            let mut compressed = self.compress(&payload)?;
            // The client's key, chosen at random by tungstenite, masks the new payload.
            if let Some(mask) = header.mask {
                apply_mask(&mut compressed, mask, 0);
            }
            write_header(
                &mut self.out,
                true,
                RSV1,
                header.opcode,
                header.mask,
                compressed.len(),
            );
            self.out.extend_from_slice(&compressed);
        }
    }

    fn compress(&mut self, payload: &[u8]) -> std::io::Result<Vec<u8>> {
        // zlib cannot compress with a 256-byte window (it turns 8 into 9): stored blocks
        // refer to nothing, so level 0 is what honours a peer that asked for 8.
        let (level, window_bits) = match self.window_bits {
            8 => (0, 9),
            bits => (self.level, bits),
        };
        let deflate = self.deflate.get_or_insert_with(|| {
            Compress::new_with_window_bits(Compression::new(level), false, window_bits)
        });
        let mut out = Vec::with_capacity(payload.len() / 2 + 64);
        let start = deflate.total_in();
        loop {
            let consumed = (deflate.total_in() - start) as usize;
            deflate
                .compress_vec(&payload[consumed..], &mut out, FlushCompress::Sync)
                .map_err(std::io::Error::other)?;
            let all_in = (deflate.total_in() - start) as usize == payload.len();
            if all_in && out.len() < out.capacity() {
                break;
            }
            out.reserve(out.capacity().max(1024));
        }
        // RFC 7692 §7.2.1: the sync flush's empty block ends every message; the receiver
        // puts it back. An empty result is sent as one empty block (§7.2.3.6).
        if out.ends_with(&[0x00, 0x00, 0xff, 0xff]) {
            out.truncate(out.len() - 4);
        }
        if out.is_empty() {
            out.push(0x00);
        }
        if self.fresh_each_message {
            self.deflate = None;
        }
        Ok(out)
    }
}
