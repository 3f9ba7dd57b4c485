//! Flattens one Windows event object into `(namespace, name, value)` spans without building a
//! tree, on the crate's one borrowed JSON scanner: strings without escapes stay slices of the
//! line; escaped strings are decoded into the record's scratch buffer.

use super::field::{Field, Ns, Span};
use super::record::{WinRecord, WinShape};
use crate::json::{Scanner, Text, fail};

use crate::json::ScanError as JsonError;

/// Nesting deeper than this is refused (hostile input must not overflow the stack).
const MAX_DEPTH: usize = 64;

type R<T> = Result<T, JsonError>;

pub(crate) struct Walker<'r> {
    sc: Scanner<'r>,
    scratch: &'r mut String,
    fields: &'r mut Vec<Field>,
    path: &'r mut Vec<Span>,
    shape: WinShape,
}

/// A scanned string as a record span (lines are capped below 4 GiB by the caller).
fn span(t: Text) -> Span {
    match t {
        Text::Input(a, b) => Span::Line(a as u32, b as u32),
        Text::Scratch(a, b) => Span::Scratch(a as u32, b as u32),
    }
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
            sc: Scanner::new_str(line),
            scratch,
            fields,
            path,
            shape: WinShape::Flat,
        };
        w.sc.ws();
        if w.sc.peek() != Some(b'{') {
            return fail(w.sc.i, "line is not a JSON object");
        }
        w.value(0)?;
        if !w.sc.at_end() {
            return fail(w.sc.i, "trailing characters after the JSON object");
        }
        Ok(w.shape)
    }

    fn value(&mut self, depth: usize) -> R<()> {
        if depth > MAX_DEPTH {
            return fail(self.sc.i, "JSON nested too deeply");
        }
        self.sc.ws();
        match self.sc.peek() {
            Some(b'{') => {
                self.sc.i += 1;
                self.sc.ws();
                if self.sc.peek() == Some(b'}') {
                    self.sc.i += 1;
                    return Ok(());
                }
                loop {
                    self.sc.ws();
                    if self.sc.peek() != Some(b'"') {
                        return fail(self.sc.i, "expected a string key");
                    }
                    let key = span(self.sc.string(self.scratch)?);
                    self.sc.eat(b':', "expected ':' after key")?;
                    self.path.push(key);
                    self.value(depth + 1)?;
                    self.path.pop();
                    self.sc.ws();
                    match self.sc.peek() {
                        Some(b',') => self.sc.i += 1,
                        Some(b'}') => {
                            self.sc.i += 1;
                            return Ok(());
                        }
                        _ => return fail(self.sc.i, "expected ',' or '}' in object"),
                    }
                }
            }
            Some(b'[') => {
                self.sc.i += 1;
                self.sc.ws();
                if self.sc.peek() == Some(b']') {
                    self.sc.i += 1;
                    return Ok(());
                }
                loop {
                    self.value(depth + 1)?;
                    self.sc.ws();
                    match self.sc.peek() {
                        Some(b',') => self.sc.i += 1,
                        Some(b']') => {
                            self.sc.i += 1;
                            return Ok(());
                        }
                        _ => return fail(self.sc.i, "expected ',' or ']' in array"),
                    }
                }
            }
            Some(b'"') => {
                let v = span(self.sc.string(self.scratch)?);
                self.leaf(v);
                Ok(())
            }
            Some(b't' | b'f' | b'n') => {
                let start = self.sc.i;
                let lit = self.sc.literal()?;
                // `null` is no value: the field is left out.
                if lit != crate::json::Literal::Null {
                    self.leaf(Span::Line(start as u32, self.sc.i as u32));
                }
                Ok(())
            }
            Some(b'-' | b'0'..=b'9') => {
                let (a, b) = self.sc.number();
                self.leaf(Span::Line(a as u32, b as u32));
                Ok(())
            }
            Some(_) => fail(self.sc.i, "unexpected character"),
            None => fail(self.sc.i, "unexpected end of line"),
        }
    }

    /// Records a leaf under the current key path.
    fn leaf(&mut self, value: Span) {
        let (ns, name, shape) = classify(self.path, self.sc.input(), self.scratch);
        if let Some(shape) = shape {
            self.shape = shape;
        }
        if let (Some(ns), Some(name)) = (ns, name) {
            self.fields.push(Field { ns, name, value });
        }
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
        // Elastic's `event.created`: when the agent read the record (the collector time).
        (b"event", b"created") => (Ns::System, None),
        _ => return (None, None, None),
    };
    (Some(ns), last_named, shape)
}

impl WinRecord {
    /// Flattens `self.line` (already filled).
    pub(crate) fn parse_line(&mut self) -> crate::error::Result<()> {
        self.scratch.clear();
        self.fields.clear();
        self.path.clear();
        self.known.clear();
        self.event_id = None;
        self.channel_kind = Default::default();
        if self.line.len() > u32::MAX as usize {
            return Err(crate::error::Error::parse(
                self.position,
                None,
                None,
                "line longer than 4 GiB",
            ));
        }
        match Walker::run(self) {
            Ok(shape) => {
                self.shape = shape;
                self.decode_system();
                Ok(())
            }
            Err(e) => {
                let pos = crate::error::Position {
                    line: self.position.line,
                    byte: self.position.byte + e.offset as u64,
                };
                Err(crate::error::Error::parse(pos, None, None, e.reason))
            }
        }
    }
}
