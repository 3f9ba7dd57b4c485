//! The crate's error type: [`Error`] wraps a boxed [`ErrorKind`] (one pointer wide, cheap to
//! return), with the position of the problem where there is one.

use core::fmt;
use std::path::PathBuf;

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Where in an input a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Position {
    /// 1-based line number (0 where the input has no lines, e.g. binary EVTX).
    pub line: u64,
    /// Byte offset of the record's start from the start of the (decompressed) input.
    pub byte: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {} (byte {})", self.line, self.byte)
        } else {
            write!(f, "byte {}", self.byte)
        }
    }
}

/// What went wrong. New variants may be added, so match with a wildcard arm.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A configuration value is out of its documented range.
    Config {
        /// The setting's name.
        field: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// Reading a file or stream failed.
    Io {
        /// The file, where there is one.
        path: Option<PathBuf>,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A record could not be parsed and the reader was asked to stop rather than skip.
    Parse {
        /// Where the record starts.
        position: Position,
        /// The field at fault, where one is.
        field: Option<String>,
        /// The offending value (truncated to 80 bytes), where one is.
        value: Option<String>,
        /// Why it was refused.
        reason: String,
    },
    /// The input's format could not be recognised or is not supported.
    Format {
        /// What was expected or seen.
        reason: String,
    },
}

/// The error type of this crate.
///
/// # Example
/// ```
/// use beaconstat::{AnalyzerConfig, ErrorKind};
/// let err = AnalyzerConfig::builder().coalesce_ratio(-1.0).build().unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::Config { field: "coalesce_ratio", .. }));
/// assert!(err.to_string().contains("coalesce_ratio"));
/// ```
#[derive(Debug)]
pub struct Error(Box<ErrorKind>);

impl Error {
    /// The kind of error.
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }

    /// Unwraps the kind.
    pub fn into_kind(self) -> ErrorKind {
        *self.0
    }

    /// Where in the input the problem was found, if anywhere.
    pub fn position(&self) -> Option<Position> {
        match &*self.0 {
            ErrorKind::Parse { position, .. } => Some(*position),
            _ => None,
        }
    }

    pub(crate) fn config(field: &'static str, reason: impl Into<String>) -> Self {
        Error(Box::new(ErrorKind::Config {
            field,
            reason: reason.into(),
        }))
    }

    /// An I/O error, with the file it concerns.
    pub fn io(path: Option<PathBuf>, source: std::io::Error) -> Self {
        Error(Box::new(ErrorKind::Io { path, source }))
    }

    /// A parse error at `position`.
    pub fn parse(position: Position, field: Option<&str>, value: Option<&[u8]>, reason: impl Into<String>) -> Self {
        let value = value.map(|v| {
            let v = &v[..v.len().min(80)];
            String::from_utf8_lossy(v).into_owned()
        });
        Error(Box::new(ErrorKind::Parse {
            position,
            field: field.map(str::to_owned),
            value,
            reason: reason.into(),
        }))
    }

    /// An unrecognised or unsupported format.
    pub fn format(reason: impl Into<String>) -> Self {
        Error(Box::new(ErrorKind::Format { reason: reason.into() }))
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error(Box::new(kind))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            ErrorKind::Config { field, reason } => write!(f, "invalid setting {field}: {reason}"),
            ErrorKind::Io { path: Some(p), source } => write!(f, "{}: {source}", p.display()),
            ErrorKind::Io { path: None, source } => write!(f, "I/O error: {source}"),
            ErrorKind::Parse {
                position,
                field,
                value,
                reason,
            } => {
                write!(f, "{position}: {reason}")?;
                if let Some(field) = field {
                    write!(f, " (field {field}")?;
                    if let Some(v) = value {
                        write!(f, ", value {v:?}")?;
                    }
                    write!(f, ")")?;
                }
                Ok(())
            }
            ErrorKind::Format { reason } => write!(f, "unrecognised input: {reason}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &*self.0 {
            ErrorKind::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
