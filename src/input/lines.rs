//! Input with transparent gzip, and a line splitter over one growable buffer that tracks
//! positions and can hand out lines in place (no copy).

use super::stats::{ReadStats, SkipReason};
use crate::error::Position;
use flate2::read::MultiGzDecoder;
use std::io::{self, Read};

/// Whether `head` starts like a gzip member (RFC 1952): the magic bytes `1f 8b`, the only compression
/// method defined (8, deflate) and no reserved flag bit set. Plain input whose first bytes
/// happen to be the magic (a fuzzer's, a damaged text file's) is then read as text, its lines
/// counted one by one, not as one corrupt stream that hides every line after it.
pub(crate) fn is_gzip_header(head: &[u8]) -> bool {
    matches!(head, [0x1f, 0x8b, 8, flags, ..] if flags & 0xe0 == 0)
}

/// The input after its first bytes were taken to look for gzip's magic: those bytes, then
/// the rest of the reader.
type Rest<R> = io::Chain<io::Cursor<Vec<u8>>, R>;

/// An input, decompressing gzip when it starts with gzip's magic bytes. Plain input is read
/// straight into the line buffer (no intermediate buffer, so one copy).
pub(crate) enum Input<R: Read> {
    Plain(Rest<R>),
    Gzip(Box<MultiGzDecoder<Rest<R>>>),
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
    /// Wraps `rdr`, reading its first four bytes to detect gzip ([`is_gzip_header`]; short
    /// reads from pipes are retried).
    pub(crate) fn new(mut rdr: R) -> io::Result<Self> {
        let mut head = Vec::with_capacity(4);
        (&mut rdr).take(4).read_to_end(&mut head)?;
        let gzip = is_gzip_header(&head);
        let rest = io::Cursor::new(head).chain(rdr);
        if gzip {
            Ok(Input::Gzip(Box::new(MultiGzDecoder::new(rest))))
        } else {
            Ok(Input::Plain(rest))
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

/// What [`Lines::next_slice`] found.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineInfo {
    pub(crate) position: Position,
    /// The line was longer than the limit; its content was dropped (the range is empty).
    pub(crate) too_long: bool,
}

/// Splits an input into lines with memchr over one buffer, tracking 1-based line numbers and
/// byte offsets. Lines are handed out as ranges into [`Lines::buf`], valid until the next call.
#[derive(Debug)]
pub(crate) struct Lines<R: Read> {
    pub(crate) input: Input<R>,
    // Storage; the unread data is buf[pos..end].
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    eof: bool,
    line: u64,
    byte: u64,
    max_line: usize,
    // Lenient: a read error ends the input (kept in `error`) instead of failing the read, so a
    // truncated or corrupt stream keeps the lines before the damage.
    tolerant: bool,
    error: Option<io::Error>,
}

impl<R: Read> Lines<R> {
    pub(crate) fn new(input: Input<R>, capacity: usize, max_line: usize, tolerant: bool) -> Self {
        Self::with_buffer(input, Vec::new(), capacity, max_line, tolerant)
    }

    /// As [`Lines::new`], in `buf`'s memory (a buffer of an earlier `Lines` reused, so that
    /// many short inputs in turn do not each allocate and zero a buffer of their own).
    pub(crate) fn with_buffer(
        input: Input<R>,
        mut buf: Vec<u8>,
        capacity: usize,
        max_line: usize,
        tolerant: bool,
    ) -> Self {
        // Zeroed once when grown, never again: what is in it is overwritten before it is read.
        let size = buf.len().max(capacity.max(64));
        buf.resize(size, 0);
        Lines {
            input,
            buf,
            pos: 0,
            end: 0,
            eof: false,
            line: 0,
            byte: 0,
            max_line: max_line.max(1),
            tolerant,
            error: None,
        }
    }

    /// At the end of a lenient input: if a read error ended it early, counts the unreadable
    /// rest as one [`SkipReason::Truncated`] record at the position where it stopped.
    pub(crate) fn count_damage(&mut self, stats: &mut ReadStats) {
        if let Some(e) = self.error.take() {
            let what = if self.input.is_gzip() {
                "gzip stream truncated, corrupt or followed by garbage"
            } else {
                "read error"
            };
            stats.skip_detail(
                1,
                self.position(),
                SkipReason::Truncated,
                format!("{what}: {e}; the rest of the input is not read"),
            );
        }
    }

    /// The buffer's current size (it grows to hold the longest line up to the cap).
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The buffer, for [`Lines::with_buffer`].
    pub(crate) fn into_buffer(self) -> Vec<u8> {
        self.buf
    }

    /// The buffer the ranges from [`Lines::next_slice`] point into.
    #[inline]
    pub(crate) fn buf(&self) -> &[u8] {
        &self.buf
    }

    /// Reads more input after `end`, first moving unread data to the front and growing the
    /// buffer if it is full. Returns the number of bytes read (0 at end of input).
    fn fill(&mut self) -> io::Result<usize> {
        if self.eof {
            return Ok(0);
        }
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            let n = self.buf.len().saturating_mul(2);
            self.buf.resize(n, 0);
        }
        loop {
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(0);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if self.tolerant => {
                    self.eof = true;
                    self.error = Some(e);
                    return Ok(0);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// At least the first `want` bytes of the remaining input (fewer at end of input), read
    /// ahead into the buffer without consuming them.
    pub(crate) fn peek(&mut self, want: usize) -> io::Result<&[u8]> {
        while self.end - self.pos < want && self.fill()? > 0 {}
        Ok(&self.buf[self.pos..self.end])
    }

    /// The next line as a range into [`Lines::buf`], without its `\n` or `\r\n`; `None` at
    /// end of input.
    #[inline]
    pub(crate) fn next_slice(&mut self) -> io::Result<Option<(LineInfo, usize, usize)>> {
        let start_byte = self.byte;
        let mut scanned = 0; // bytes after `pos` already searched
        loop {
            let hay = &self.buf[self.pos + scanned..self.end];
            if let Some(i) = memchr::memchr(b'\n', hay) {
                let s = self.pos;
                let nl = s + scanned + i;
                self.pos = nl + 1;
                self.byte += (nl + 1 - s) as u64;
                return Ok(Some(self.finish(s, nl, start_byte)));
            }
            scanned = self.end - self.pos;
            if scanned > self.max_line {
                return self.skip_long(start_byte).map(Some);
            }
            if self.fill()? == 0 {
                if self.pos == self.end {
                    return Ok(None);
                }
                let (s, e) = (self.pos, self.end);
                self.pos = e;
                self.byte += (e - s) as u64;
                return Ok(Some(self.finish(s, e, start_byte)));
            }
        }
    }

    #[inline]
    fn finish(&mut self, s: usize, mut e: usize, start_byte: u64) -> (LineInfo, usize, usize) {
        if e > s && self.buf[e - 1] == b'\r' {
            e -= 1;
        }
        self.line += 1;
        let too_long = e - s > self.max_line;
        let info = LineInfo {
            position: Position {
                line: self.line,
                byte: start_byte,
            },
            too_long,
        };
        if too_long { (info, s, s) } else { (info, s, e) }
    }

    /// Drops the rest of an over-long line, up to and including its newline.
    #[cold]
    fn skip_long(&mut self, start_byte: u64) -> io::Result<(LineInfo, usize, usize)> {
        loop {
            let hay = &self.buf[self.pos..self.end];
            if let Some(i) = memchr::memchr(b'\n', hay) {
                self.pos += i + 1;
                self.byte += (i + 1) as u64;
                break;
            }
            self.byte += hay.len() as u64;
            self.pos = self.end;
            if self.fill()? == 0 {
                break;
            }
        }
        self.line += 1;
        let info = LineInfo {
            position: Position {
                line: self.line,
                byte: start_byte,
            },
            too_long: true,
        };
        Ok((info, self.pos, self.pos))
    }

    /// The complete lines buffered after the read position (up to and including the last
    /// `\n`), for a caller that splits them itself; not consumed (see [`Lines::consume`]).
    /// `None` when no complete line is buffered: [`Lines::next_slice`] then reads on.
    #[inline]
    pub(crate) fn complete_lines(&self) -> Option<&[u8]> {
        let hay = self.buf.get(self.pos..self.end)?;
        memchr::memrchr(b'\n', hay).and_then(|i| hay.get(..=i))
    }

    /// Consumes `bytes` bytes of [`Lines::complete_lines`], which held `lines` lines.
    #[inline]
    pub(crate) fn consume(&mut self, bytes: usize, lines: u64) {
        self.pos += bytes;
        self.byte += bytes as u64;
        self.line += lines;
    }

    /// Lines longer than this (without their line end) are dropped as too long.
    #[inline]
    pub(crate) fn max_line(&self) -> usize {
        self.max_line
    }

    /// Reads the next line into `out` (cleared first). Returns `None` at end of input.
    pub(crate) fn next_line(&mut self, out: &mut Vec<u8>) -> io::Result<Option<LineInfo>> {
        out.clear();
        match self.next_slice()? {
            Some((info, s, e)) => {
                out.extend_from_slice(&self.buf[s..e]);
                Ok(Some(info))
            }
            None => Ok(None),
        }
    }

    /// Lines handed out so far.
    pub(crate) fn lines_read(&self) -> u64 {
        self.line
    }

    /// Counts byte offsets from `byte` (for a part of a file read from the middle).
    pub(crate) fn start_at_byte(&mut self, byte: u64) {
        self.byte = byte;
    }

    /// The position the next line will start at.
    pub(crate) fn position(&self) -> Position {
        Position {
            line: self.line + 1,
            byte: self.byte,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that returns at most `n` bytes per read, to exercise refills and growth.
    struct Trickle<'a>(&'a [u8], usize);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// Gzip is taken only from a whole gzip header: plain input that starts with the magic
    /// bytes (a line of binary noise) keeps every line, read one byte at a time or at once;
    /// a real stream is still decompressed.
    #[test]
    fn gzip_needs_its_header_not_only_the_magic() {
        for (input, gzip) in [
            (&b"\x1f\x8b\n{\"ts\":1}\n"[..], false),
            (&b"\x1f\x8b"[..], false),
            (&b"\x1f\x8b\x08\xe0rest"[..], false),
            (&b"\x1f\x8b\x09\x00rest"[..], false),
            (&b"\x1f\x8b\x08\x00rest"[..], true),
        ] {
            for chunk in [1, 100] {
                assert_eq!(Input::new(Trickle(input, chunk)).unwrap().is_gzip(), gzip, "{input:?}");
            }
        }
        let mut l = Lines::new(Input::new(&b"\x1f\x8b\nsecond\n"[..]).unwrap(), 64, 100, false);
        let mut out = Vec::new();
        let mut got = Vec::new();
        while l.next_line(&mut out).unwrap().is_some() {
            got.push(out.clone());
        }
        assert_eq!(got, [b"\x1f\x8b".to_vec(), b"second".to_vec()]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut gz, b"one\ntwo\n").unwrap();
        let bytes = gz.finish().unwrap();
        let mut l = Lines::new(Input::new(&bytes[..]).unwrap(), 64, 100, false);
        let mut n = 0;
        while l.next_line(&mut out).unwrap().is_some() {
            n += 1;
        }
        assert_eq!(n, 2);
    }

    #[test]
    fn lines_across_refills_growth_and_long_lines() {
        let text = b"a\r\nbb\n\nccc-this-line-is-long\nlast";
        for chunk in [1, 2, 3, 7, 100] {
            let mut l = Lines::new(Input::new(Trickle(text, chunk)).unwrap(), 64, 10, false);
            let mut out = Vec::new();
            let mut got = Vec::new();
            while let Some(info) = l.next_line(&mut out).unwrap() {
                got.push((
                    String::from_utf8(out.clone()).unwrap(),
                    info.position.line,
                    info.position.byte,
                    info.too_long,
                ));
            }
            assert_eq!(
                got,
                [
                    ("a".into(), 1, 0, false),
                    ("bb".into(), 2, 3, false),
                    ("".into(), 3, 6, false),
                    ("".into(), 4, 7, true),
                    ("last".into(), 5, 29, false),
                ],
                "chunk {chunk}"
            );
            assert_eq!(l.position().byte, text.len() as u64);
        }
    }
}
