//! A small JSON walker that flattens one Windows event object into `(namespace, name, value)`
//! spans without building a tree: strings without escapes stay slices of the line; escaped
//! strings are decoded into the record's scratch buffer.

use super::record::{Field, Ns, Span, WinRecord, WinShape};

/// Nesting deeper than this is refused (hostile input must not overflow the stack).
const MAX_DEPTH: usize = 64;

/// A parse failure: byte offset inside the line and a static reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JsonError {
    pub(crate) offset: usize,
    pub(crate) reason: &'static str,
}

type R<T> = Result<T, JsonError>;

pub(crate) struct Walker<'r> {
    line: &'r [u8],
    pos: usize,
    scratch: &'r mut String,
    fields: &'r mut Vec<Field>,
    path: &'r mut Vec<Span>,
    shape: WinShape,
}

fn err<T>(offset: usize, reason: &'static str) -> R<T> {
    Err(JsonError { offset, reason })
}

impl<'r> Walker<'r> {
    /// Flattens `rec.line` into `rec.fields`.
    pub(crate) fn run(rec: &'r mut WinRecord) -> R<WinShape> {
        let WinRecord {
            line,
            scratch,
            fields,
            path,
            ..
        } = rec;
        let mut w = Walker {
            line: line.as_bytes(),
            pos: 0,
            scratch,
            fields,
            path,
            shape: WinShape::Flat,
        };
        w.ws();
        if w.peek() != Some(b'{') {
            return err(w.pos, "line is not a JSON object");
        }
        w.value(0)?;
        w.ws();
        if w.pos != w.line.len() {
            return err(w.pos, "trailing characters after the JSON object");
        }
        Ok(w.shape)
    }

    fn peek(&self) -> Option<u8> {
        self.line.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\r' | b'\n') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect(&mut self, c: u8, reason: &'static str) -> R<()> {
        self.ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            err(self.pos, reason)
        }
    }

    fn value(&mut self, depth: usize) -> R<()> {
        if depth > MAX_DEPTH {
            return err(self.pos, "JSON nested too deeply");
        }
        self.ws();
        match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                self.ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    self.ws();
                    if self.peek() != Some(b'"') {
                        return err(self.pos, "expected a string key");
                    }
                    let key = self.string()?;
                    self.expect(b':', "expected ':' after key")?;
                    self.path.push(key);
                    self.value(depth + 1)?;
                    self.path.pop();
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return err(self.pos, "expected ',' or '}' in object"),
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                self.ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    self.value(depth + 1)?;
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return err(self.pos, "expected ',' or ']' in array"),
                    }
                }
            }
            Some(b'"') => {
                let v = self.string()?;
                self.leaf(v);
                Ok(())
            }
            Some(b't') => self.literal(b"true", true),
            Some(b'f') => self.literal(b"false", true),
            Some(b'n') => self.literal(b"null", false),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                while let Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') = self.peek() {
                    self.pos += 1;
                }
                self.leaf(Span::Line(start as u32, self.pos as u32));
                Ok(())
            }
            Some(_) => err(self.pos, "unexpected character"),
            None => err(self.pos, "unexpected end of line"),
        }
    }

    fn literal(&mut self, word: &[u8], keep: bool) -> R<()> {
        let start = self.pos;
        if self.line.get(start..start + word.len()) != Some(word) {
            return err(start, "invalid literal");
        }
        self.pos += word.len();
        if keep {
            self.leaf(Span::Line(start as u32, self.pos as u32));
        }
        Ok(())
    }

    /// Records a leaf under the current key path.
    fn leaf(&mut self, value: Span) {
        let (ns, name, shape) = classify(self.path, self.line, self.scratch);
        if let Some(shape) = shape {
            self.shape = shape;
        }
        if let (Some(ns), Some(name)) = (ns, name) {
            self.fields.push(Field { ns, name, value });
        }
    }

    /// Parses a string at `self.pos` (which is on the opening quote).
    fn string(&mut self) -> R<Span> {
        let start = self.pos + 1;
        let mut i = start;
        // Fast path: scan for the closing quote; bail to the slow path at the first backslash.
        loop {
            match self.line.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(Span::Line(start as u32, i as u32));
                }
                Some(b'\\') => break,
                Some(c) if *c < 0x20 => return err(i, "control character in string"),
                Some(_) => i += 1,
                None => return err(start - 1, "unterminated string"),
            }
        }
        let s0 = self.scratch.len();
        // The prefix before the first escape is valid UTF-8 (the line is a `str` and `i` is at
        // an ASCII byte), so pushing it as a str slice is exact.
        self.push_str(start, i);
        loop {
            let run = i;
            while let Some(&c) = self.line.get(i) {
                if c == b'"' || c == b'\\' {
                    break;
                }
                if c < 0x20 {
                    return err(i, "control character in string");
                }
                i += 1;
            }
            self.push_str(run, i);
            match self.line.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(Span::Scratch(s0 as u32, self.scratch.len() as u32));
                }
                Some(b'\\') => {
                    let esc = self.line.get(i + 1).copied();
                    i += 2;
                    let ch = match esc {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let hi = self.hex4(i)?;
                            i += 4;
                            if (0xD800..0xDC00).contains(&hi) {
                                if self.line.get(i) == Some(&b'\\') && self.line.get(i + 1) == Some(&b'u') {
                                    let lo = self.hex4(i + 2)?;
                                    if (0xDC00..0xE000).contains(&lo) {
                                        i += 6;
                                        let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                        char::from_u32(c).unwrap_or('\u{FFFD}')
                                    } else {
                                        '\u{FFFD}'
                                    }
                                } else {
                                    '\u{FFFD}'
                                }
                            } else {
                                char::from_u32(hi).unwrap_or('\u{FFFD}')
                            }
                        }
                        _ => return err(i - 2, "invalid escape in string"),
                    };
                    self.scratch.push(ch);
                }
                _ => return err(start - 1, "unterminated string"),
            }
        }
    }

    fn push_str(&mut self, a: usize, b: usize) {
        if let Some(s) = self.line.get(a..b).and_then(|s| core::str::from_utf8(s).ok()) {
            self.scratch.push_str(s);
        }
    }

    fn hex4(&self, at: usize) -> R<u32> {
        let d = self.line.get(at..at + 4).ok_or(JsonError {
            offset: at,
            reason: "truncated \\u escape",
        })?;
        let mut v = 0u32;
        for &c in d {
            let x = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return err(at, "invalid \\u escape"),
            };
            v = v * 16 + u32::from(x);
        }
        Ok(v)
    }
}

fn text<'a>(s: Span, line: &'a [u8], scratch: &'a str) -> &'a [u8] {
    match s {
        Span::Line(a, b) => line.get(a as usize..b as usize).unwrap_or(b""),
        Span::Scratch(a, b) => scratch.as_bytes().get(a as usize..b as usize).unwrap_or(b""),
    }
}

/// Decides the namespace and the name of a leaf from its key path.
///
/// * evtx JSON: `Event.System.X[.#attributes].Y` → (System, last non-`#` key);
///   `Event.EventData.X` / `Event.UserData.*.X` → (Data, last non-`#` key).
/// * Winlogbeat: `winlog.event_data.X` / `winlog.user_data.X` → Data; other `winlog.*` → System
///   (last key); top-level `@timestamp` → Top.
/// * Flat (NXLog / OTRF): top-level keys → Top.
fn classify(path: &[Span], line: &[u8], scratch: &str) -> (Option<Ns>, Option<Span>, Option<WinShape>) {
    let Some(&first) = path.first() else {
        return (None, None, None);
    };
    let last_named = path
        .iter()
        .rev()
        .copied()
        .find(|k| !text(*k, line, scratch).starts_with(b"#"));
    if path.len() == 1 {
        return (Some(Ns::Top), Some(first), None);
    }
    let k0 = text(first, line, scratch);
    let k1 = text(path[1], line, scratch);
    let (ns, shape) = match (k0, k1) {
        (b"Event", b"System") => (Ns::System, Some(WinShape::Evtx)),
        (b"Event", b"EventData" | b"UserData") => (Ns::Data, Some(WinShape::Evtx)),
        (b"winlog", b"event_data" | b"user_data") => (Ns::Data, Some(WinShape::Winlogbeat)),
        (b"winlog", _) => (Ns::System, Some(WinShape::Winlogbeat)),
        (b"host", b"name") => (Ns::System, None),
        _ => return (None, None, None),
    };
    (Some(ns), last_named, shape)
}
