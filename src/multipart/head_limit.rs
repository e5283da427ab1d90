//! A bound on what the multipart parser must hold before it can hand anything over: the
//! preamble before the first boundary, and each field's head (its boundary line and
//! headers).
//!
//! multer streams a field's data, but it keeps the preamble and a field's whole head in
//! memory until it finds their end, and searches all of it again on every read. With the
//! whole-body limit raised for large files, a client that never ends them would make the
//! server hold (and rescan) up to that limit. [`HeadLimited`] sits between the request body
//! and multer, follows the boundaries multer looks for, and fails once a preamble or a head
//! runs past [`HEAD_LIMIT`] bytes. A field's data passes untouched.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use memchr::memmem;

use crate::error::BoxError;

/// The most bytes a preamble, or a field's boundary line and headers, may take. Browsers
/// send no preamble and a few hundred bytes of headers; ASP.NET allows 16 KiB too.
pub(super) const HEAD_LIMIT: usize = 16 * 1024;

/// A preamble or a field's head longer than [`HEAD_LIMIT`].
#[derive(Debug)]
pub(super) struct HeadTooLarge;

impl fmt::Display for HeadTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the preamble or a field's headers run past {HEAD_LIMIT} bytes"
        )
    }
}

impl std::error::Error for HeadTooLarge {}

/// The request body on its way to multer, failing with [`HeadTooLarge`].
pub(super) struct HeadLimited<S> {
    body: S,
    scanner: Scanner,
    failed: bool,
}

impl<S> HeadLimited<S> {
    pub(super) fn new(body: S, boundary: &str) -> Self {
        Self {
            body,
            scanner: Scanner::new(boundary),
            failed: false,
        }
    }
}

impl<S, E> Stream for HeadLimited<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Into<BoxError>,
{
    type Item = Result<Bytes, BoxError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.failed {
            return Poll::Ready(None);
        }
        match std::task::ready!(Pin::new(&mut this.body).poll_next(cx)) {
            Some(Ok(chunk)) => {
                if this.scanner.scan(&chunk).is_err() {
                    this.failed = true;
                    return Poll::Ready(Some(Err(Box::new(HeadTooLarge))));
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Some(Err(error)) => Poll::Ready(Some(Err(error.into()))),
            None => Poll::Ready(None),
        }
    }
}

/// Where the body is, by the same marks multer parses it by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Before the first `--boundary` (multer finds it anywhere, not only after a CRLF).
    Preamble,
    /// After a boundary, up to the CRLF that ends its line (multer allows padding there).
    BoundaryLine,
    /// The field's headers, up to the blank line: the first CRLF CRLF after the boundary
    /// line's CRLF.
    Headers,
    /// The field's data, up to the next `\r\n--boundary`.
    Data,
}

struct Scanner {
    /// `\r\n--boundary`; the first boundary is the same without the CRLF.
    delimiter: Vec<u8>,
    part: Part,
    /// Bytes of the current preamble or head so far.
    held: usize,
    /// The last bytes of the previous chunks, shorter than the mark looked for: a mark may
    /// be split between chunks.
    carry: Vec<u8>,
}

impl Scanner {
    fn new(boundary: &str) -> Self {
        Self {
            delimiter: [b"\r\n--", boundary.as_bytes()].concat(),
            part: Part::Preamble,
            held: 0,
            carry: Vec::new(),
        }
    }

    /// Follows `chunk`; an error once a preamble or a head is over [`HEAD_LIMIT`].
    fn scan(&mut self, mut chunk: &[u8]) -> Result<(), HeadTooLarge> {
        while !chunk.is_empty() {
            let mark: &[u8] = match self.part {
                Part::Preamble => &self.delimiter[2..],
                Part::BoundaryLine => b"\r\n",
                Part::Headers => b"\r\n\r\n",
                Part::Data => &self.delimiter,
            };
            let found = find(&self.carry, chunk, mark);
            let (passed, next) = match found {
                Some(end) => (end, Some(self.next_part())),
                None => (chunk.len(), None),
            };
            if self.part != Part::Data {
                self.held += passed;
                if self.held > HEAD_LIMIT {
                    return Err(HeadTooLarge);
                }
            }
            match next {
                Some(part) => {
                    if part == Part::BoundaryLine {
                        self.held = 0;
                    }
                    self.part = part;
                    self.carry.clear();
                    chunk = &chunk[passed..];
                }
                None => {
                    keep_tail(&mut self.carry, chunk, mark.len() - 1);
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// The part that follows the mark ending the current one.
    fn next_part(&self) -> Part {
        match self.part {
            Part::Preamble | Part::Data => Part::BoundaryLine,
            Part::BoundaryLine => Part::Headers,
            Part::Headers => Part::Data,
        }
    }
}

/// Where the first `mark` in `carry` followed by `chunk` ends, as an index into `chunk`.
/// `carry` is shorter than `mark`, so a match always ends inside `chunk`.
fn find(carry: &[u8], chunk: &[u8], mark: &[u8]) -> Option<usize> {
    if !carry.is_empty() {
        let joined = [carry, &chunk[..chunk.len().min(mark.len() - 1)]].concat();
        if let Some(start) = memmem::find(&joined, mark) {
            return Some(start + mark.len() - carry.len());
        }
    }
    memmem::find(chunk, mark).map(|start| start + mark.len())
}

/// Keeps in `carry` the last `keep` bytes of `carry` followed by `chunk`.
fn keep_tail(carry: &mut Vec<u8>, chunk: &[u8], keep: usize) {
    if chunk.len() >= keep {
        carry.clear();
        carry.extend_from_slice(&chunk[chunk.len() - keep..]);
    } else {
        carry.extend_from_slice(chunk);
        let excess = carry.len().saturating_sub(keep);
        carry.drain(..excess);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: &[u8] =
        b"--B\r\ncontent-disposition: form-data; name=\"a\"\r\n\r\nfirst\r\n\r\ndata\
        \r\n--B\r\ncontent-disposition: form-data; name=\"b\"\r\n\r\n\r\n--B--\r\n";

    /// Scans `body` cut into pieces of `size` bytes.
    fn scan_in_pieces(body: &[u8], size: usize) -> Result<Part, HeadTooLarge> {
        let mut scanner = Scanner::new("B");
        for piece in body.chunks(size) {
            scanner.scan(piece)?;
        }
        Ok(scanner.part)
    }

    #[test]
    fn marks_are_found_however_the_body_is_cut() {
        for size in 1..=FORM.len() {
            let mut scanner = Scanner::new("B");
            let mut parts = vec![scanner.part];
            for piece in FORM.chunks(size) {
                scanner.scan(piece).unwrap();
                parts.push(scanner.part);
            }
            assert_eq!(scanner.part, Part::Headers, "pieces of {size}");
            if size == 1 {
                parts.dedup();
                use Part::*;
                let expected = [Preamble, BoundaryLine, Headers, Data, BoundaryLine, Headers]
                    .into_iter()
                    .chain([Data, BoundaryLine, Headers]);
                assert_eq!(parts, expected.collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn data_is_never_counted_but_heads_and_preambles_are() {
        let mut large = b"--B\r\nname: a\r\n\r\n".to_vec();
        large.extend(b"\r\n\r\n-B\r\n--".iter().cycle().take(10 * HEAD_LIMIT));
        for size in [1, 7, 4096, large.len()] {
            assert_eq!(scan_in_pieces(&large, size).unwrap(), Part::Data);
        }

        let preamble = vec![b'x'; HEAD_LIMIT + 1];
        assert!(scan_in_pieces(&preamble, 1000).is_err());
        let mut preamble_then_form = vec![b'x'; HEAD_LIMIT - 3];
        preamble_then_form.extend_from_slice(FORM);
        assert!(scan_in_pieces(&preamble_then_form, 100).is_ok());

        let mut head = b"--B\r\nx-pad: ".to_vec();
        head.resize(HEAD_LIMIT + 16, b'a');
        for size in [1, 100, head.len()] {
            assert!(scan_in_pieces(&head, size).is_err(), "pieces of {size}");
        }
        // Each head has its own allowance.
        let mut many = Vec::new();
        for _ in 0..4 {
            many.extend_from_slice(b"--B\r\nx-pad: ");
            many.extend(std::iter::repeat_n(b'a', HEAD_LIMIT / 2));
            many.extend_from_slice(b"\r\n\r\ndata\r\n");
        }
        assert!(scan_in_pieces(&many, 333).is_ok());
    }

    #[test]
    fn a_blank_line_straight_after_the_boundary_line_does_not_end_the_head() {
        // multer looks for the headers' end only after the boundary line's CRLF, so
        // "--B\r\n\r\n" leaves it still reading headers; so must the count.
        let mut head = b"--B\r\n\r\n".to_vec();
        head.resize(HEAD_LIMIT + 16, b'a');
        assert!(scan_in_pieces(&head, 64).is_err());
    }
}
