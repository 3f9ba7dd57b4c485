//! The event fields a tabular input maps columns to (CSV, Arrow, Parquet), by index, with their
//! names and the common column names tried for each.

/// How many event fields a column mapping names.
pub(crate) const N_COLS: usize = 12;
/// Each field's own name (what a mapping or an error names it by).
pub(crate) const COL_NAMES: [&str; N_COLS] = [
    "ts",
    "src",
    "dst",
    "src_port",
    "dst_port",
    "proto",
    "bytes_out",
    "bytes_in",
    "duration",
    "uid",
    "name",
    "host",
];
/// The column names tried for each field when none is set, first match wins.
pub(crate) const ALIASES: [&[&str]; N_COLS] = [
    &[
        "ts",
        "timestamp",
        "time",
        "@timestamp",
        "start_time",
        "starttime",
        "date",
        "datetime",
    ],
    &[
        "src",
        "src_ip",
        "srcip",
        "source",
        "source_ip",
        "id.orig_h",
        "srcaddr",
        "saddr",
        "client_ip",
    ],
    &[
        "dst",
        "dst_ip",
        "dstip",
        "destination",
        "destination_ip",
        "dest_ip",
        "id.resp_h",
        "dstaddr",
        "daddr",
        "server_ip",
    ],
    &["src_port", "sport", "srcport", "source_port", "id.orig_p"],
    &[
        "dst_port",
        "dport",
        "dstport",
        "destination_port",
        "dest_port",
        "id.resp_p",
    ],
    &["proto", "protocol", "transport"],
    &[
        "bytes_out",
        "orig_bytes",
        "sent_bytes",
        "bytes_sent",
        "out_bytes",
        "bytes_toserver",
    ],
    &[
        "bytes_in",
        "resp_bytes",
        "received_bytes",
        "bytes_received",
        "in_bytes",
        "bytes_toclient",
    ],
    &["duration", "dur"],
    &["uid", "flow_id", "conn_id"],
    &["name", "domain", "server_name", "sni", "query", "fqdn"],
    &["host", "hostname", "computer", "computer_name"],
];
// Each field's index in the arrays above.
pub(crate) const TS: usize = 0;
pub(crate) const SRC: usize = 1;
pub(crate) const DST: usize = 2;
pub(crate) const SRC_PORT: usize = 3;
pub(crate) const DST_PORT: usize = 4;
pub(crate) const PROTO: usize = 5;
pub(crate) const BYTES_OUT: usize = 6;
pub(crate) const BYTES_IN: usize = 7;
pub(crate) const DURATION: usize = 8;
pub(crate) const UID: usize = 9;
pub(crate) const NAME: usize = 10;
pub(crate) const HOST: usize = 11;
