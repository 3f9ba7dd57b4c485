//! Where a record came from, so a finding can point an analyst back at the raw logs.

/// Where a record is: file, record id, line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Origin {
    pub(crate) file: u32,
    pub(crate) record_id: Option<u64>,
    pub(crate) line: Option<u64>,
}
