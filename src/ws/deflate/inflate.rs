//! [`Inflater`]: the read side of permessage-deflate. Frames from the peer pass through to
//! tungstenite untouched, except compressed messages, which are inflated and handed on as
//! plain fragmented messages (a first frame, continuations, an empty final frame), so that
//! tungstenite still checks everything it checks on plain messages: sizes, UTF-8, frame
//! order, control frames between fragments.
//!
//! Inflating is driven by tungstenite's reads, and at most [`READY_LIMIT`] inflated bytes
//! wait for it: a message that inflates to gigabytes is stopped by tungstenite's message
//! size limit after at most that limit plus one chunk is held, whatever its compressed size.

use bytes::{Buf, BytesMut};
use flate2::{Decompress, FlushDecompress, Status};

use super::frame::{Header, OP_CONTINUATION, RSV1, apply_mask, write_header, write_poison};

/// The largest frame made from inflated data.
const CHUNK: usize = 16 * 1024;
/// How many processed bytes may wait for tungstenite before inflating pauses.
pub(super) const READY_LIMIT: usize = 64 * 1024;
/// What RFC 7692 §7.2.2 has the receiver append to a message before inflating it.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

pub(super) struct Inflater {
    /// Bytes read from the socket, not yet looked at.
    pub(super) raw: BytesMut,
    /// Bytes for tungstenite.
    pub(super) ready: BytesMut,
    state: State,
    /// The opcode of the compressed message being inflated, and whether its first frame
    /// went to tungstenite.
    message: Option<(u8, bool)>,
    /// Compressed bytes (unmasked) not yet inflated.
    input: BytesMut,
    inflate: Option<Decompress>,
    scratch: Vec<u8>,
    window_bits: u8,
    /// The peer starts each message afresh (its `no_context_takeover`): the inflater is
    /// dropped between messages, and its memory with it.
    fresh_each_message: bool,
    /// How frames made here are masked: tungstenite's server wants masked frames from a
    /// client (a zero key leaves the payload as it is); its client wants unmasked ones.
    emit_mask: Option<[u8; 4]>,
    /// A compressed frame longer than this is handed to tungstenite as it came, to be
    /// refused by its frame size limit.
    max_frame: u64,
    /// The compressed data was corrupt: everything after goes through untouched.
    broken: bool,
}

enum State {
    Header,
    Pass(u64),
    Inflate {
        remaining: u64,
        mask: Option<[u8; 4]>,
        offset: usize,
        fin: bool,
    },
}

impl Inflater {
    pub(super) fn new(
        window_bits: u8,
        fresh_each_message: bool,
        emit_mask: Option<[u8; 4]>,
        max_frame: u64,
    ) -> Self {
        Self {
            raw: BytesMut::new(),
            ready: BytesMut::new(),
            state: State::Header,
            message: None,
            input: BytesMut::new(),
            inflate: None,
            scratch: Vec::new(),
            window_bits,
            fresh_each_message,
            emit_mask,
            max_frame,
            broken: false,
        }
    }

    /// Turns as much of `raw` into `ready` as `ready` has room for.
    pub(super) fn process(&mut self) {
        while self.ready.len() < READY_LIMIT {
            match self.state {
                State::Header => {
                    let Some(header) = Header::parse(&self.raw) else {
                        return;
                    };
                    if self.takes(&header) {
                        self.raw.advance(header.len);
                        if header.opcode != OP_CONTINUATION {
                            self.message = Some((header.opcode, false));
                        }
                        if header.fin && header.payload_len == 0 {
                            self.input.extend_from_slice(&TAIL);
                        }
                        self.state = State::Inflate {
                            remaining: header.payload_len,
                            mask: header.mask,
                            offset: 0,
                            fin: header.fin,
                        };
                    } else {
                        // A data frame inside a compressed message breaks it: tungstenite
                        // gets it as it came and fails the connection.
                        if self.message.is_some()
                            && (header.is_data() || header.opcode == OP_CONTINUATION)
                        {
                            self.broken = true;
                        }
                        self.ready.extend_from_slice(&self.raw.split_to(header.len));
                        self.state = State::Pass(header.payload_len);
                    }
                }
                State::Pass(0) => self.state = State::Header,
                State::Pass(remaining) => {
                    if self.raw.is_empty() {
                        return;
                    }
                    let n = self
                        .raw
                        .len()
                        .min(usize::try_from(remaining).unwrap_or(usize::MAX));
                    self.ready.extend_from_slice(&self.raw.split_to(n));
                    self.state = State::Pass(remaining - n as u64);
                }
                State::Inflate {
                    remaining,
                    mask,
                    offset,
                    fin,
                } => {
                    let n = self
                        .raw
                        .len()
                        .min(usize::try_from(remaining).unwrap_or(usize::MAX));
                    let mut offset = offset;
                    if n > 0 {
                        let mut chunk = self.raw.split_to(n);
                        if let Some(mask) = mask {
                            offset = apply_mask(&mut chunk, mask, offset);
                        }
                        self.input.extend_from_slice(&chunk);
                        if fin && n as u64 == remaining {
                            self.input.extend_from_slice(&TAIL);
                        }
                    }
                    let remaining = remaining - n as u64;
                    self.state = State::Inflate {
                        remaining,
                        mask,
                        offset,
                        fin,
                    };
                    match self.inflate_input() {
                        // Paused with `ready` full: tungstenite reads first.
                        Ok(true) => continue,
                        Ok(false) if self.input.is_empty() => {}
                        // Input the inflater will not take is as corrupt as input it refuses.
                        Ok(false) | Err(_) => {
                            self.fail(remaining);
                            continue;
                        }
                    }
                    if remaining > 0 {
                        if self.raw.is_empty() {
                            return;
                        }
                        continue;
                    }
                    if fin {
                        self.finish_message();
                    }
                    self.state = State::Header;
                }
            }
        }
    }

    /// Whether a frame is one to inflate: the first of a compressed message, or a
    /// continuation of one.
    fn takes(&self, header: &Header) -> bool {
        if self.broken || header.payload_len > self.max_frame {
            return false;
        }
        match self.message {
            None => header.is_data() && header.rsv == RSV1,
            // RFC 7692 §6.1: RSV1 is set on the first frame only.
            Some(_) => header.opcode == OP_CONTINUATION && header.rsv == 0,
        }
    }

    /// Inflates `input` into frames in `ready`, until the input is used up or `ready` full;
    /// `Ok(true)` when it paused because `ready` is full.
    fn inflate_input(&mut self) -> Result<bool, flate2::DecompressError> {
        let window_bits = self.window_bits.max(9);
        let inflate = self
            .inflate
            .get_or_insert_with(|| Decompress::new_with_window_bits(false, window_bits));
        loop {
            self.scratch.clear();
            self.scratch.reserve(CHUNK);
            let (in_before, out_before) = (inflate.total_in(), inflate.total_out());
            let status =
                inflate.decompress_vec(&self.input, &mut self.scratch, FlushDecompress::Sync)?;
            let consumed = (inflate.total_in() - in_before) as usize;
            let produced = (inflate.total_out() - out_before) as usize;
            self.input.advance(consumed);
            if produced > 0 {
                let (opcode, started) = self.message.as_mut().expect("inflating a message");
                let opcode = if *started { OP_CONTINUATION } else { *opcode };
                *started = true;
                write_header(&mut self.ready, false, 0, opcode, self.emit_mask, produced);
                self.ready.extend_from_slice(&self.scratch);
            }
            if status == Status::StreamEnd {
                // The peer ended its deflate stream (a final block): what follows belongs
                // to no stream, and the next message starts a new one.
                self.input.clear();
                inflate.reset(false);
                return Ok(false);
            }
            let output_full = produced == self.scratch.capacity();
            if (consumed == 0 && produced == 0) || (self.input.is_empty() && !output_full) {
                return Ok(false);
            }
            if self.ready.len() >= READY_LIMIT {
                return Ok(true);
            }
        }
    }

    /// The last frame of the message: empty, final.
    fn finish_message(&mut self) {
        let (opcode, started) = self.message.take().expect("inflating a message");
        let opcode = if started { OP_CONTINUATION } else { opcode };
        write_header(&mut self.ready, true, 0, opcode, self.emit_mask, 0);
        // The 16 KiB of scratch would otherwise stay with every idle socket.
        self.scratch = Vec::new();
        if self.fresh_each_message {
            self.inflate = None;
        }
    }

    fn fail(&mut self, remaining: u64) {
        tracing::debug!("a compressed WebSocket message does not inflate; failing the connection");
        write_poison(&mut self.ready, self.emit_mask);
        self.broken = true;
        self.message = None;
        self.input = BytesMut::new();
        self.inflate = None;
        self.state = State::Pass(remaining);
    }
}
