//! Buffered input with transparent gzip, and a line splitter that tracks positions.

use crate::error::Position;
use flate2::bufread::MultiGzDecoder;
use std::io::{self, BufRead, BufReader, Read};

/// Gzip's magic bytes.
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// A buffered input, decompressing gzip when it starts with gzip's magic bytes.
pub(crate) enum Input<R: Read> {
    Plain(BufReader<R>),
    Gzip(BufReader<MultiGzDecoder<BufReader<R>>>),
}

impl<R: Read> core::fmt::Debug for Input<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Input::Plain(_) => "Input::Plain",
            Input::Gzip(_) => "Input::Gzip",
        })
    }
}

impl<R: Read> Input<R> {
    /// Wraps `rdr`, peeking at its first bytes to detect gzip.
    pub(crate) fn new(rdr: R, capacity: usize) -> io::Result<Self> {
        let mut br = BufReader::with_capacity(capacity, rdr);
        // A pipe may deliver fewer than two bytes first; such an input is read as plain text.
        let head = br.fill_buf()?;
        if head.starts_with(&GZIP_MAGIC) {
            Ok(Input::Gzip(BufReader::with_capacity(capacity, MultiGzDecoder::new(br))))
        } else {
            Ok(Input::Plain(br))
        }
    }

    /// Whether the input is gzip-compressed.
    pub(crate) fn is_gzip(&self) -> bool {
        matches!(self, Input::Gzip(_))
    }
}

impl<R: Read> Read for Input<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Input::Plain(r) => r.read(buf),
            Input::Gzip(r) => r.read(buf),
        }
    }
}

impl<R: Read> BufRead for Input<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self {
            Input::Plain(r) => r.fill_buf(),
            Input::Gzip(r) => r.fill_buf(),
        }
    }
    fn consume(&mut self, amt: usize) {
        match self {
            Input::Plain(r) => r.consume(amt),
            Input::Gzip(r) => r.consume(amt),
        }
    }
}

/// What [`Lines::next_line`] found.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineInfo {
    pub(crate) position: Position,
    /// The line was longer than the limit; `buf` holds only its first `max_line` bytes.
    pub(crate) too_long: bool,
}

/// Splits an input into lines with memchr, tracking 1-based line numbers and byte offsets.
#[derive(Debug)]
pub(crate) struct Lines<R: Read> {
    pub(crate) input: Input<R>,
    line: u64,
    byte: u64,
    max_line: usize,
}

impl<R: Read> Lines<R> {
    pub(crate) fn new(input: Input<R>, max_line: usize) -> Self {
        Lines {
            input,
            line: 0,
            byte: 0,
            max_line,
        }
    }

    /// Reads the next line into `buf` (cleared first) without its `\n` or `\r\n`.
    /// Returns `None` at end of input.
    pub(crate) fn next_line(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<LineInfo>> {
        buf.clear();
        let start = self.byte;
        let mut too_long = false;
        let mut any = false;
        loop {
            let avail = match self.input.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                break;
            }
            any = true;
            let (chunk, used, done) = match memchr::memchr(b'\n', avail) {
                Some(i) => (&avail[..i], i + 1, true),
                None => (avail, avail.len(), false),
            };
            let room = self.max_line.saturating_sub(buf.len());
            if chunk.len() > room {
                too_long = true;
                buf.extend_from_slice(&chunk[..room]);
            } else {
                buf.extend_from_slice(chunk);
            }
            self.input.consume(used);
            self.byte += used as u64;
            if done {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        self.line += 1;
        Ok(Some(LineInfo {
            position: Position {
                line: self.line,
                byte: start,
            },
            too_long,
        }))
    }

    /// The position the next line will start at.
    pub(crate) fn position(&self) -> Position {
        Position {
            line: self.line + 1,
            byte: self.byte,
        }
    }
}
