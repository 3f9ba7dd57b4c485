//! The field names the decoders ask for ([`Name`]), and [`KnownFields`]: where each one is in
//! a record, found once when the record is parsed.
//!
//! Lineage, the AN1113 join and the connection converters look a record's fields up by name
//! dozens of times per record; scanning every field with a string comparison each time was
//! half of the AN1113 join's time. Now the parser hashes each field name once against a
//! table built at compile time and notes the position of the first field of each known name
//! (per namespace); a lookup by [`Name`] is an array read. Names outside the table (from
//! callers of [`WinRecord::data`](super::WinRecord::data) with other names) are still found
//! by a scan, with the same answers.

use super::field::{Field, Ns};

macro_rules! names {
    ($($name:ident $(= $text:literal)?,)*) => {
        // Numbers the names 0, 1, 2, … in order.
        #[repr(u8)]
        #[allow(non_camel_case_types, dead_code, clippy::enum_variant_names, clippy::upper_case_acronyms)]
        enum Id {
            $($name,)*
        }

        #[allow(non_upper_case_globals)] // each constant is the field's own spelling
        impl Name {
            $(pub(crate) const $name: Name = Name(Id::$name as u8);)*
        }

        /// The text of each [`Name`], in order.
        const TEXT: &[&str] = &[$(names!(@text $name $($text)?),)*];
    };
    (@text $name:ident $text:literal) => { $text };
    (@text $name:ident) => { stringify!($name) };
}

/// A field name the decoders look up, by id (the position of its text in `TEXT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Name(u8);

names! {
    // System (evtx `Event.System.*`, Winlogbeat `winlog.*`) and their flat spellings.
    EventID, event_id, Channel, channel, Name, provider_name, SourceName, ProviderName,
    Computer, computer_name, Hostname, name, SystemTime, TimeCreated, at_timestamp = "@timestamp",
    EventTime, ActivityID, activity_id, EventRecordID, record_id, RecordNumber, Version,
    // Event data.
    UtcTime, Image, ProcessGuid, ProcessId, ProcessID, CommandLine, User, SourceIp, SourcePort,
    DestinationIp, DestinationPort, DestinationHostname, Protocol, Direction, SourceAddress,
    DestAddress, DestPort, Application, QueryName, QueryStatus, QueryResults, TaskName,
    TaskContent, TaskContentNew, SubjectUserName, SubjectDomainName, SubjectUserSid,
    SubjectLogonId, ClientProcessId, ParentProcessId, ClientProcessStartKey,
    RpcCallClientLocality, FQDN, InstanceId, TaskInstanceId, ActionName, EnginePID, Path,
    ResultCode, UserContext, UserName, Message, NewProcessId, NewProcessName, ParentProcessGuid,
    ParentImage, ParentCommandLine, ParentProcessName, LogonId, IntegrityLevel, Hashes,
    TargetLogonId, TargetUserName, TargetDomainName, MandatoryLabel, IpAddress, ImageLoaded,
    TargetFilename, TargetObject, EventType, Details, ShareName, RelativeTargetName,
    ScriptBlockText, LogonType, Signed, Signature, SignatureStatus,
}

const COUNT: usize = TEXT.len();
// Ids fit a byte; the table stays under a quarter full, so probe sequences are short.
const _: () = assert!(COUNT * 4 <= SLOTS && COUNT < 256);
const NAMESPACES: usize = 3;

/// Slots of the compile-time name table (a power of two, under a quarter full).
const SLOTS: usize = 512;

/// A fold-multiply hash of a name, eight bytes at a time, as the table is built at compile
/// time ([`hash_const`]); this one reads whole words (the parser hashes every field name).
fn hash(n: &[u8]) -> u32 {
    let mut h = (n.len() as u64).wrapping_mul(K);
    let mut words = n.chunks_exact(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        h = mix(h, u64::from_le_bytes(b));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut b = [0u8; 8];
        b[..rest.len()].copy_from_slice(rest);
        h = mix(h, u64::from_le_bytes(b));
    }
    (h ^ (h >> 32)) as u32
}

const K: u64 = 0x9E37_79B9_7F4A_7C15;

const fn mix(h: u64, w: u64) -> u64 {
    let m = ((h ^ w) as u128) * (K as u128);
    (m as u64) ^ ((m >> 64) as u64)
}

/// [`hash`] byte by byte, for the compile-time table.
const fn hash_const(n: &[u8]) -> u32 {
    let mut h = (n.len() as u64).wrapping_mul(K);
    let mut i = 0;
    while i < n.len() {
        let mut w = 0u64;
        let mut j = 0;
        while j < 8 && i + j < n.len() {
            w |= (n[i + j] as u64) << (8 * j);
            j += 1;
        }
        h = mix(h, w);
        i += 8;
    }
    (h ^ (h >> 32)) as u32
}

/// Open addressing, linear probing: each slot holds a name's id plus one (0 = empty).
const TABLE: [u8; SLOTS] = {
    let mut t = [0u8; SLOTS];
    let mut k = 0;
    while k < COUNT {
        let mut at = hash_const(TEXT[k].as_bytes()) as usize & (SLOTS - 1);
        while t[at] != 0 {
            at = (at + 1) & (SLOTS - 1);
        }
        t[at] = k as u8 + 1;
        k += 1;
    }
    t
};

/// The hash of each name, to reject most other names without comparing bytes.
const HASHES: [u32; COUNT] = {
    let mut h = [0u32; COUNT];
    let mut k = 0;
    while k < COUNT {
        h[k] = hash_const(TEXT[k].as_bytes());
        k += 1;
    }
    h
};

impl Name {
    /// The name `n` is, if it is one of the known ones.
    pub(crate) fn from_text(n: &[u8]) -> Option<Name> {
        let h = hash(n);
        let mut at = h as usize & (SLOTS - 1);
        loop {
            let k = usize::from(*TABLE.get(at)?);
            if k == 0 {
                return None;
            }
            if HASHES.get(k - 1) == Some(&h) && TEXT.get(k - 1).is_some_and(|t| t.as_bytes() == n) {
                return Some(Name(k as u8 - 1));
            }
            at = (at + 1) & (SLOTS - 1);
        }
    }
}

/// Where the first field of each known name is in one record, per namespace.
#[derive(Debug, Clone)]
pub(crate) struct KnownFields {
    // `[name * NAMESPACES + ns]`: the field's index plus one, 0 when absent.
    at: [u32; COUNT * NAMESPACES],
}

impl Default for KnownFields {
    fn default() -> Self {
        KnownFields {
            at: [0; COUNT * NAMESPACES],
        }
    }
}

impl KnownFields {
    /// Forgets the previous record.
    pub(crate) fn clear(&mut self) {
        self.at.fill(0);
    }

    /// Notes the known names among `fields` (a record's, in input order), whose names `text`
    /// resolves to bytes.
    pub(crate) fn build<'s>(&mut self, fields: &[Field], text: impl Fn(&Field) -> &'s [u8]) {
        self.clear();
        for (i, f) in fields.iter().enumerate() {
            let Some(n) = Name::from_text(text(f)) else { continue };
            let Ok(i) = u32::try_from(i + 1) else { return };
            if let Some(slot) = self.at.get_mut(usize::from(n.0) * NAMESPACES + f.ns as usize)
                && *slot == 0
            {
                // Only the first: a scan in input order finds that one.
                *slot = i;
            }
        }
    }

    /// The index in the record's fields of the first `n` in `ns`.
    pub(crate) fn get(&self, ns: Ns, n: Name) -> Option<usize> {
        let i = *self.at.get(usize::from(n.0) * NAMESPACES + ns as usize)?;
        (i > 0).then(|| i as usize - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_found_by_its_text_and_nothing_else_is() {
        for (k, t) in TEXT.iter().enumerate() {
            let n = Name::from_text(t.as_bytes()).unwrap_or_else(|| panic!("{t}"));
            assert_eq!(n.0 as usize, k, "{t}");
        }
        assert_eq!(Name::from_text(b"@timestamp"), Some(Name::at_timestamp));
        for other in ["", "image", "Image ", "EventIDx", "k0", "UtcTim"] {
            assert_eq!(Name::from_text(other.as_bytes()), None, "{other:?}");
        }
        for n in [
            "",
            "a",
            "EventID",
            "exactly8",
            "ninechars",
            "a_much_longer_field_name_than_most",
        ] {
            assert_eq!(hash(n.as_bytes()), hash_const(n.as_bytes()), "{n}");
        }
    }
}
