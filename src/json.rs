//! The one borrowed JSON scanner every JSON input of the crate shares: Zeek JSON logs
//! ([`ZeekJsonReader`](crate::ZeekJsonReader)), Windows event JSON
//! ([`WinRecord`](crate::WinRecord)) and allowlist files.
//!
//! It hands out tokens as byte ranges: a string without escapes is a range of the input
//! (borrowed, no copy); a string with escapes is decoded into the caller's scratch buffer and
//! is a range of that. It allocates nothing itself and never recurses: each caller walks the
//! structure its own way (Zeek JSON flattens `id.*`, Windows events classify key paths, the
//! allowlist builds a small tree) over the same tokens, so escapes, surrogates, numbers and
//! literals are read one way everywhere.
//!
//! Leniency, the same for every input: an unpaired UTF-16 surrogate escape decodes to U+FFFD
//! (a record is not lost over one bad character), raw control characters inside strings are
//! kept as they are; an unknown escape, a bad `\u` escape and an unterminated string are errors.

/// A scan failure: the byte offset in the input and a static reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScanError {
    pub(crate) offset: usize,
    pub(crate) reason: &'static str,
}

pub(crate) type Scan<T> = Result<T, ScanError>;

pub(crate) fn fail<T>(offset: usize, reason: &'static str) -> Scan<T> {
    Err(ScanError { offset, reason })
}

/// Where a scanned string's text is: a range of the input (no escapes) or of the scratch
/// buffer (decoded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Text {
    Input(usize, usize),
    Scratch(usize, usize),
}

/// A JSON literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Literal {
    True,
    False,
    Null,
}

/// Where decoded strings go: `Vec<u8>` (byte inputs) or `String` (inputs already checked to be
/// UTF-8, whose decoded text stays a `str`).
pub(crate) trait Scratch {
    fn len(&self) -> usize;
    /// Input bytes between escapes (whole characters: they run from one ASCII quote or
    /// backslash to the next).
    fn push_bytes(&mut self, b: &[u8]);
    /// The same from an input known to be UTF-8: nothing to check again.
    fn push_text(&mut self, s: &str);
    fn push_char(&mut self, c: char);
}

impl Scratch for Vec<u8> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn push_bytes(&mut self, b: &[u8]) {
        self.extend_from_slice(b);
    }
    fn push_text(&mut self, s: &str) {
        self.extend_from_slice(s.as_bytes());
    }
    fn push_char(&mut self, c: char) {
        let mut tmp = [0u8; 4];
        self.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
    }
}

impl Scratch for String {
    fn len(&self) -> usize {
        String::len(self)
    }
    fn push_bytes(&mut self, b: &[u8]) {
        // Runs of a `str` cut at ASCII bytes are `str`s; anything else is replaced, never
        // let into the `String` unchecked.
        match core::str::from_utf8(b) {
            Ok(s) => self.push_str(s),
            Err(_) => self.push_str(&String::from_utf8_lossy(b)),
        }
    }
    fn push_text(&mut self, s: &str) {
        self.push_str(s);
    }
    fn push_char(&mut self, c: char) {
        self.push(c);
    }
}

/// A cursor over one JSON text.
#[derive(Debug, Clone)]
pub(crate) struct Scanner<'a> {
    b: &'a [u8],
    /// The input as a `str` when the caller has checked it: the runs of an escaped string
    /// are then copied without checking their UTF-8 again.
    text: Option<&'a str>,
    pub(crate) i: usize,
}

impl<'a> Scanner<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Self {
        Scanner { b, text: None, i: 0 }
    }

    /// A scanner over checked UTF-8 text.
    pub(crate) fn new_str(text: &'a str) -> Self {
        Scanner {
            b: text.as_bytes(),
            text: Some(text),
            i: 0,
        }
    }

    /// Copies the input's bytes `a..b` into `scratch` (a run between escapes: it starts and
    /// ends at an ASCII byte or the string's end, so at character boundaries).
    #[inline]
    fn push_input<S: Scratch>(&self, scratch: &mut S, a: usize, b: usize) {
        match self.text.and_then(|t| t.get(a..b)) {
            Some(s) => scratch.push_text(s),
            None => scratch.push_bytes(self.b.get(a..b).unwrap_or_default()),
        }
    }

    /// The input.
    #[inline]
    pub(crate) fn input(&self) -> &'a [u8] {
        self.b
    }

    /// Skips JSON whitespace.
    #[inline]
    pub(crate) fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\r' | b'\n') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    /// The byte at the cursor.
    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Skips whitespace, then `c` (else `reason` at the cursor).
    #[inline]
    pub(crate) fn eat(&mut self, c: u8, reason: &'static str) -> Scan<()> {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            fail(self.i, reason)
        }
    }

    /// Whether only whitespace is left.
    pub(crate) fn at_end(&mut self) -> bool {
        self.ws();
        self.i >= self.b.len()
    }

    /// A number's text at the cursor (on `-` or a digit): its range.
    #[inline]
    pub(crate) fn number(&mut self) -> (usize, usize) {
        let start = self.i;
        while let Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        (start, self.i)
    }

    /// `true`, `false` or `null` at the cursor.
    pub(crate) fn literal(&mut self) -> Scan<Literal> {
        let rest = self.b.get(self.i..).unwrap_or_default();
        let (n, lit) = if rest.starts_with(b"true") {
            (4, Literal::True)
        } else if rest.starts_with(b"false") {
            (5, Literal::False)
        } else if rest.starts_with(b"null") {
            (4, Literal::Null)
        } else {
            return fail(self.i, "invalid literal");
        };
        self.i += n;
        Ok(lit)
    }

    /// A string at the cursor (on its opening quote). Without escapes it is a range of the
    /// input; with escapes it is decoded into `scratch`.
    #[inline]
    pub(crate) fn string<S: Scratch>(&mut self, scratch: &mut S) -> Scan<Text> {
        let open = self.i;
        let start = open + 1;
        let rest = self.b.get(start..).unwrap_or_default();
        let first = match quote_or_backslash(rest) {
            Some(j) if rest[j] == b'"' => {
                self.i = start + j + 1;
                return Ok(Text::Input(start, start + j));
            }
            Some(j) => start + j,
            None => return fail(open, "unterminated string"),
        };
        let s0 = scratch.len();
        self.push_input(scratch, start, first);
        let mut i = first;
        loop {
            // `i` is on a backslash: decode one escape, then copy the run after it.
            let (c, next) = match self.b.get(i + 1).copied() {
                Some(b'"') => ('"', i + 2),
                Some(b'\\') => ('\\', i + 2),
                Some(b'/') => ('/', i + 2),
                Some(b'b') => ('\u{8}', i + 2),
                Some(b'f') => ('\u{c}', i + 2),
                Some(b'n') => ('\n', i + 2),
                Some(b'r') => ('\r', i + 2),
                Some(b't') => ('\t', i + 2),
                Some(b'u') => self.unicode_escape(i)?,
                None => return fail(open, "unterminated string"),
                _ => return fail(i, "invalid escape in string"),
            };
            scratch.push_char(c);
            match self.run(next, scratch) {
                Some(Ok(end)) => {
                    self.i = end;
                    return Ok(Text::Scratch(s0, scratch.len()));
                }
                Some(Err(at)) => i = at,
                None => return fail(open, "unterminated string"),
            }
        }
    }

    /// The `\uXXXX` escape at `i` (a surrogate pair taken whole; an unpaired surrogate is
    /// U+FFFD) and the offset after it.
    fn unicode_escape(&self, i: usize) -> Scan<(char, usize)> {
        let hi = self.hex4(i + 2)?;
        let i = i + 6;
        if !(0xD800..0xDC00).contains(&hi) {
            return Ok((char::from_u32(hi).unwrap_or('\u{FFFD}'), i));
        }
        let paired = self.b.get(i) == Some(&b'\\') && self.b.get(i + 1) == Some(&b'u');
        let lo = paired
            .then(|| self.hex4(i + 2))
            .transpose()?
            .filter(|lo| (0xDC00..0xE000).contains(lo));
        Ok(match lo {
            Some(lo) => (
                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)).unwrap_or('\u{FFFD}'),
                i + 6,
            ),
            None => ('\u{FFFD}', i),
        })
    }

    /// Copies the run from `i` to the next quote or backslash into `scratch`:
    /// `Ok(after the closing quote)`, `Err(at the backslash)`, or `None` if the input ends.
    #[inline]
    fn run<S: Scratch>(&self, i: usize, scratch: &mut S) -> Option<Result<usize, usize>> {
        let rest = self.b.get(i..)?;
        let j = quote_or_backslash(rest)?;
        self.push_input(scratch, i, i + j);
        Some(if rest[j] == b'"' { Ok(i + j + 1) } else { Err(i + j) })
    }

    fn hex4(&self, at: usize) -> Scan<u32> {
        let Some(d) = self.b.get(at..at + 4) else {
            return fail(at, "truncated \\u escape");
        };
        let mut v = 0u32;
        for &c in d {
            let x = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return fail(at, "invalid \\u escape"),
            };
            v = v * 16 + u32::from(x);
        }
        Ok(v)
    }

    /// Skips one value at the cursor: an object or array (balanced, strings respected, no
    /// recursion, so any depth is safe), a string, a number or a literal.
    pub(crate) fn skip_value(&mut self) -> Scan<()> {
        self.ws();
        match self.peek() {
            Some(b'{' | b'[') => {}
            Some(b'"') => {
                let open = self.i;
                let rest = self.b.get(open + 1..).unwrap_or_default();
                self.i = open
                    + 1
                    + skip_string(rest).ok_or(ScanError {
                        offset: open,
                        reason: "unterminated string",
                    })?;
                return Ok(());
            }
            Some(b'-' | b'0'..=b'9') => {
                self.number();
                return Ok(());
            }
            Some(_) => return self.literal().map(|_| ()),
            None => return fail(self.i, "unexpected end of input"),
        }
        let open = self.i;
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            match c {
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.checked_sub(1).ok_or(ScanError {
                        offset: self.i,
                        reason: "unbalanced brackets",
                    })?;
                    if depth == 0 {
                        self.i += 1;
                        return Ok(());
                    }
                }
                b'"' => {
                    let rest = self.b.get(self.i + 1..).unwrap_or_default();
                    let n = skip_string(rest).ok_or(ScanError {
                        offset: self.i,
                        reason: "unterminated string",
                    })?;
                    self.i += 1 + n;
                    continue;
                }
                _ => {}
            }
            self.i += 1;
        }
        fail(open, "unterminated object or array")
    }
}

/// The first quote or backslash in `bytes`. Most strings in event logs are short (field
/// names, numbers as text, GUIDs): their end is found eight bytes at a time in a word, which
/// costs less than `memchr2`'s call and set-up; past the first two words `memchr2` runs.
#[inline]
fn quote_or_backslash(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    for k in [0, 8] {
        let Some(word) = bytes.get(k..k + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) else {
            // Fewer than eight bytes left: the plain search (short, so cheap).
            return memchr::memchr2(b'"', b'\\', bytes.get(k..)?).map(|j| k + j);
        };
        let v = u64::from_le_bytes(word);
        let (q, b) = (v ^ (ONES * u64::from(b'"')), v ^ (ONES * u64::from(b'\\')));
        // A zero byte in `q` or `b` is a match; the lowest flagged byte is always a true one.
        let hit = ((q.wrapping_sub(ONES) & !q) | (b.wrapping_sub(ONES) & !b)) & HIGH;
        if hit != 0 {
            return Some(k + (hit.trailing_zeros() / 8) as usize);
        }
    }
    memchr::memchr2(b'"', b'\\', bytes.get(16..)?).map(|j| 16 + j)
}

/// The length of a string's body and closing quote, `rest` starting after the opening quote.
fn skip_string(rest: &[u8]) -> Option<usize> {
    let mut k = 0;
    loop {
        let j = quote_or_backslash(rest.get(k..)?)?;
        if rest[k + j] == b'\\' {
            k += j + 2;
        } else {
            return Some(k + j + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(s: &str) -> Result<String, ScanError> {
        let mut scratch = Vec::new();
        let mut sc = Scanner::new(s.as_bytes());
        let t = sc.string(&mut scratch)?;
        let b = match t {
            Text::Input(a, b) => &s.as_bytes()[a..b],
            Text::Scratch(a, b) => &scratch[a..b],
        };
        Ok(String::from_utf8(b.to_vec()).unwrap())
    }

    #[test]
    fn quote_or_backslash_at_every_place() {
        // Every length to past the word path, with a quote or a backslash at every place (and
        // bytes around it that differ from both by one bit), against the plain search.
        for len in 0..40 {
            for at in 0..=len {
                for mark in [b'"', b'\\'] {
                    for fill in [b'a', b'#', b']', 0x80, 0xA2, 0xDC] {
                        let mut v = vec![fill; len];
                        if at < len {
                            v[at] = mark;
                        }
                        let want = memchr::memchr2(b'"', b'\\', &v);
                        assert_eq!(quote_or_backslash(&v), want, "{len} {at} {mark} {fill}");
                    }
                }
            }
        }
    }

    #[test]
    fn strings_escapes_and_surrogates() {
        assert_eq!(decode(r#""plain""#).unwrap(), "plain");
        assert_eq!(decode(r#""a\"b\\c\/d\n""#).unwrap(), "a\"b\\c/d\n");
        assert_eq!(decode(r#""x\u00e9\ud83d\ude00y""#).unwrap(), "xé😀y");
        // Unpaired surrogates become U+FFFD; the text after them is kept.
        assert_eq!(decode(r#""\ud800z""#).unwrap(), "\u{FFFD}z");
        assert_eq!(decode(r#""\udc00""#).unwrap(), "\u{FFFD}");
        assert_eq!(decode(r#""\ud800\u0041""#).unwrap(), "\u{FFFD}A");
        assert_eq!(decode(r#""\q""#).unwrap_err().offset, 1);
        assert_eq!(decode(r#""\u12""#).unwrap_err().reason, "truncated \\u escape");
        assert_eq!(decode(r#""open"#).unwrap_err().offset, 0);
        assert_eq!(decode(r#""esc\"#).unwrap_err().reason, "unterminated string");
        // A String scratch gives the same text.
        let mut s = String::new();
        let mut sc = Scanner::new(r#""caf\u00e9 ü""#.as_bytes());
        assert_eq!(sc.string(&mut s).unwrap(), Text::Scratch(0, s.len()));
        assert_eq!(s, "café ü");
        // Over checked text the runs are copied as `str`s: the same text.
        for v in [r#""caf\u00e9 ü\\ ß\n€""#, r#""\"ü""#, r#""ü\"""#, r#""a\\b\\c""#] {
            let (mut a, mut b) = (String::new(), String::new());
            let ta = Scanner::new(v.as_bytes()).string(&mut a).unwrap();
            let tb = Scanner::new_str(v).string(&mut b).unwrap();
            assert_eq!((ta, &a), (tb, &b), "{v}");
        }
        let mut s = String::new();
        Scanner::new_str(r#""x\u00e9ü\\y""#).string(&mut s).unwrap();
        assert_eq!(s, "xéü\\y");
    }

    #[test]
    fn skipping_values_of_any_depth() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let mut sc = Scanner::new(deep.as_bytes());
        sc.skip_value().unwrap();
        assert!(sc.at_end());
        for (v, end) in [(r#"{"a":"}"} x"#, 9), (r#""s\"" x"#, 5), ("-1.5e3 x", 6), ("null x", 4)] {
            let mut sc = Scanner::new(v.as_bytes());
            sc.skip_value().unwrap();
            assert_eq!(sc.i, end, "{v}");
        }
        assert!(Scanner::new(b"[1, 2").skip_value().is_err());
        assert!(Scanner::new(b"tru").skip_value().is_err());
    }
}
