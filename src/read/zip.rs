//! Zip archives, as public Windows datasets ship (one JSON-lines file per archive): the
//! stored and deflated members, in archive order, read as one stream (a member not ending in
//! a line break gets one), each member's CRC-32 and size checked at its end.
//!
//! Only what such archives use is read: the central directory (no ZIP64, no encryption),
//! methods 0 (stored) and 8 (deflate). Anything else is an error naming the member.

use crate::error::{Error, Result};
use flate2::Crc;
use flate2::read::DeflateDecoder;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The end-of-central-directory record's signature, and its fixed size.
const EOCD_SIG: u32 = 0x0605_4b50;
const EOCD_LEN: usize = 22;
/// The largest archive comment: how far from the end the EOCD record can be.
const MAX_COMMENT: usize = 0xffff;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const LOCAL_SIG: u32 = 0x0403_4b50;
/// A central directory larger than this is not one of the datasets this reads.
const MAX_CENTRAL_DIR: u64 = 64 << 20;

/// One file inside an archive.
#[derive(Debug, Clone)]
struct Member {
    name: String,
    method: u16,
    crc: u32,
    compressed: u64,
    size: u64,
    local_offset: u64,
}

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(i..i + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

fn bad(path: &Path, why: impl core::fmt::Display) -> Error {
    Error::format(format!("{}: not a readable zip archive: {why}", path.display()))
}

/// The file members of the archive at `path`, in central-directory order (directories left
/// out).
fn members(path: &Path, file: &mut File) -> Result<Vec<Member>> {
    let io = |e| Error::io(Some(path.to_path_buf()), e);
    let len = file.metadata().map_err(io)?.len();
    let tail_len = len.min((EOCD_LEN + MAX_COMMENT) as u64);
    file.seek(SeekFrom::Start(len - tail_len)).map_err(io)?;
    let mut tail = vec![0u8; tail_len as usize];
    file.read_exact(&mut tail).map_err(io)?;
    let eocd = (0..tail.len().saturating_sub(EOCD_LEN - 1))
        .rev()
        .find(|&i| u32_at(&tail, i) == Some(EOCD_SIG))
        .ok_or_else(|| bad(path, "no end-of-central-directory record (truncated?)"))?;
    let field = |off: usize| u32_at(&tail, eocd + off).ok_or_else(|| bad(path, "short end record"));
    let count = u16_at(&tail, eocd + 10).ok_or_else(|| bad(path, "short end record"))?;
    let (cd_size, cd_offset) = (field(12)?, field(16)?);
    if count == 0xffff || cd_size == u32::MAX || cd_offset == u32::MAX {
        return Err(bad(path, "ZIP64 archives are not read"));
    }
    let (cd_size, cd_offset) = (u64::from(cd_size), u64::from(cd_offset));
    if cd_size > MAX_CENTRAL_DIR || cd_offset.saturating_add(cd_size) > len {
        return Err(bad(path, "the central directory lies outside the file"));
    }
    file.seek(SeekFrom::Start(cd_offset)).map_err(io)?;
    let mut cd = vec![0u8; cd_size as usize];
    file.read_exact(&mut cd).map_err(io)?;
    let mut out = Vec::with_capacity(usize::from(count));
    let mut i = 0;
    for _ in 0..count {
        let entry = |off: usize| u32_at(&cd, i + off).ok_or_else(|| bad(path, "short central directory"));
        let half = |off: usize| u16_at(&cd, i + off).ok_or_else(|| bad(path, "short central directory"));
        if entry(0)? != CENTRAL_SIG {
            return Err(bad(
                path,
                format!("no central directory entry at byte {}", cd_offset + i as u64),
            ));
        }
        let flags = half(8)?;
        let method = half(10)?;
        let (crc, compressed, size) = (entry(16)?, entry(20)?, entry(24)?);
        let (name_len, extra_len, comment_len) = (half(28)?, half(30)?, half(32)?);
        let local_offset = entry(42)?;
        let name_at = i + 46;
        let name = cd
            .get(name_at..name_at + usize::from(name_len))
            .ok_or_else(|| bad(path, "short central directory"))?;
        let name = String::from_utf8_lossy(name).into_owned();
        i = name_at + usize::from(name_len) + usize::from(extra_len) + usize::from(comment_len);
        if flags & 1 != 0 {
            return Err(bad(path, format!("member {name} is encrypted")));
        }
        if name.ends_with('/') {
            continue;
        }
        out.push(Member {
            name,
            method,
            crc,
            compressed: u64::from(compressed),
            size: u64::from(size),
            local_offset: u64::from(local_offset),
        });
    }
    Ok(out)
}

/// A member's bytes, decompressed, with its CRC-32 and size checked when it ends.
struct MemberReader {
    name: String,
    inner: Box<dyn Read + Send>,
    crc: Crc,
    want_crc: u32,
    want_size: u64,
}

impl Read for MemberReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.crc.update(&buf[..n]);
            return Ok(n);
        }
        if !buf.is_empty()
            && (self.crc.sum() != self.want_crc || u64::from(self.crc.amount()) != self.want_size & 0xffff_ffff)
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "zip member {}: {} bytes with CRC-32 {:08x}, the archive says {} bytes with {:08x}",
                    self.name,
                    self.crc.amount(),
                    self.crc.sum(),
                    self.want_size,
                    self.want_crc
                ),
            ));
        }
        Ok(0)
    }
}

fn open_member(path: &Path, m: &Member) -> io::Result<MemberReader> {
    let mut f = File::open(path)?;
    f.seek(SeekFrom::Start(m.local_offset))?;
    let mut head = [0u8; 30];
    f.read_exact(&mut head)?;
    let invalid = |why: String| io::Error::new(io::ErrorKind::InvalidData, format!("zip member {}: {why}", m.name));
    if u32_at(&head, 0) != Some(LOCAL_SIG) {
        return Err(invalid("no local header where the central directory points".into()));
    }
    let skip = u64::from(u16_at(&head, 26).unwrap_or(0)) + u64::from(u16_at(&head, 28).unwrap_or(0));
    f.seek(SeekFrom::Current(skip as i64))?;
    let data = f.take(m.compressed);
    let inner: Box<dyn Read + Send> = match m.method {
        0 => Box::new(data),
        8 => Box::new(DeflateDecoder::new(data)),
        other => {
            return Err(invalid(format!(
                "compression method {other} is not read (only stored and deflate)"
            )));
        }
    };
    Ok(MemberReader {
        name: m.name.clone(),
        inner,
        crc: Crc::new(),
        want_crc: m.crc,
        want_size: m.size,
    })
}

/// Every member of an archive, one after the other, each ending in a line break.
pub(crate) struct ZipMembers {
    path: PathBuf,
    pending: VecDeque<Member>,
    current: Option<MemberReader>,
    /// The last byte handed out: a member not ending in a line break gets one.
    last: u8,
}

impl ZipMembers {
    /// Opens the archive at `path` and reads its central directory.
    ///
    /// # Errors
    /// I/O errors naming the path; [`ErrorKind::Format`](crate::ErrorKind::Format) for an
    /// archive that is not one this reads (no end record, ZIP64, encrypted members).
    pub(crate) fn open(path: &Path) -> Result<ZipMembers> {
        let mut f = File::open(path).map_err(|e| Error::io(Some(path.to_path_buf()), e))?;
        let pending = members(path, &mut f)?.into();
        Ok(ZipMembers {
            path: path.to_path_buf(),
            pending,
            current: None,
            last: b'\n',
        })
    }
}

impl Read for ZipMembers {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some(cur) = &mut self.current {
                let n = cur.read(buf)?;
                if n > 0 {
                    self.last = buf[n - 1];
                    return Ok(n);
                }
                self.current = None;
            }
            let Some(next) = self.pending.pop_front() else {
                return Ok(0);
            };
            self.current = Some(open_member(&self.path, &next)?);
            if self.last != b'\n' {
                self.last = b'\n';
                buf[0] = b'\n';
                return Ok(1);
            }
        }
    }
}

/// True when `magic` (a file's first bytes) starts a zip archive.
pub(crate) fn is_zip(magic: &[u8]) -> bool {
    magic.starts_with(b"PK\x03\x04") || magic.starts_with(b"PK\x05\x06")
}
