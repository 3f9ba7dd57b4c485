//! Reader throughput: Zeek TSV and Zeek JSON → borrowed `ConnEvent`s, in MB/s of input; and the
//! same TSV gzip-compressed, read through the readers' transparent gzip path, in MB/s of
//! **decompressed** input (the bench id says so; the compressed size is printed once).
//!
//! `cargo bench --bench read`

use beaconstat::read::{ZeekJsonReader, ZeekReader};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flate2::Compression;
use flate2::write::GzEncoder;
use std::fmt::Write;
use std::hint::black_box;
use std::io::Write as _;

const TARGET_BYTES: usize = 20 * 1024 * 1024;

/// A deterministic pseudo-random generator (xorshift) so the input is the same every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

const HEADER: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n\
#open\t2023-01-05-18-51-06\n\
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n\
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n";

struct Row {
    ts: u64,
    us: u64,
    uid: String,
    src: String,
    sport: u64,
    dst: String,
    dport: u64,
    dur: u64,
    ob: u64,
    ib: u64,
    op: u64,
    ip: u64,
}

fn rows(mut f: impl FnMut(&Row) -> usize) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut total = 0;
    let mut ts = 1_672_843_056u64;
    while total < TARGET_BYTES {
        let r = rng.next();
        ts += r % 3;
        let row = Row {
            ts,
            us: r % 1_000_000,
            uid: format!("C{:017X}", rng.next()),
            src: format!("10.{}.{}.{}", r >> 8 & 255, r >> 16 & 255, r >> 24 & 255),
            sport: 1024 + (r >> 32) % 60000,
            dst: format!(
                "{}.{}.{}.{}",
                1 + (r >> 40) % 223,
                r >> 48 & 255,
                r >> 56 & 255,
                r >> 4 & 255
            ),
            dport: [443, 80, 53, 123, 8443, 3128][(r >> 20) as usize % 6],
            dur: rng.next() % 10_000_000,
            ob: rng.next() % 100_000,
            ib: rng.next() % 1_000_000,
            op: 1 + r % 300,
            ip: 1 + (r >> 9) % 300,
        };
        total += f(&row);
    }
}

/// The generated rows, one a line after `head`, each written by `$fmt` from the row's values
/// in this order: ts, µs, uid, source, source port, destination, destination port, duration
/// (seconds, µs), bytes out, bytes in, packets out, IP bytes out, packets in, IP bytes in.
macro_rules! rows_text {
    ($head:expr, $fmt:literal) => {{
        let mut s = String::from($head);
        rows(|r| {
            let before = s.len();
            let _ = writeln!(
                s,
                $fmt,
                r.ts,
                r.us,
                r.uid,
                r.src,
                r.sport,
                r.dst,
                r.dport,
                r.dur / 1_000_000,
                r.dur % 1_000_000,
                r.ob,
                r.ib,
                r.op,
                r.ob + 40 * r.op,
                r.ip,
                r.ib + 40 * r.ip
            );
            s.len() - before
        });
        s.into_bytes()
    }};
}

fn tsv() -> Vec<u8> {
    rows_text!(
        HEADER,
        "{}.{:06}\t{}\t{}\t{}\t{}\t{}\ttcp\tssl\t{}.{:06}\t{}\t{}\tSF\tT\tF\t0\tShADadFf\t{}\t{}\t{}\t{}\t-"
    )
}

fn json() -> Vec<u8> {
    rows_text!(
        "",
        r#"{{"ts":{}.{:06},"uid":"{}","id.orig_h":"{}","id.orig_p":{},"id.resp_h":"{}","id.resp_p":{},"proto":"tcp","service":"ssl","duration":{}.{:06},"orig_bytes":{},"resp_bytes":{},"conn_state":"SF","local_orig":true,"local_resp":false,"missed_bytes":0,"history":"ShADadFf","orig_pkts":{},"orig_ip_bytes":{},"resp_pkts":{},"resp_ip_bytes":{}}}"#
    )
}

/// Reads every event of `$reader` into a checksum (so nothing is optimised away), checking
/// that none was skipped.
macro_rules! checksum {
    ($reader:expr) => {{
        let mut r = $reader;
        let mut acc = 0u64;
        r.for_each(|e| acc = acc.wrapping_add(e.ts.as_micros() as u64 ^ e.dst.len() as u64))
            .unwrap();
        assert_eq!(r.stats().skipped, 0);
        acc
    }};
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("read");
    g.sample_size(10);

    let data = tsv();
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("zeek_tsv_events", |b| {
        b.iter(|| checksum!(ZeekReader::from_reader(black_box(&data[..])).unwrap()))
    });

    // The same TSV as a `.log.gz` in memory (default level, as Zeek's log rotation writes it).
    // The reader sees the gzip magic and decompresses; throughput is still per decompressed
    // byte, so the figure compares directly with `zeek_tsv_events`.
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(&data).unwrap();
    let gz = enc.finish().unwrap();
    eprintln!(
        "read/zeek_tsv_gzip: {} bytes decompressed, {} compressed (ratio {:.1}:1)",
        data.len(),
        gz.len(),
        data.len() as f64 / gz.len() as f64
    );
    g.bench_function("zeek_tsv_gzip_events_decompressed_bytes", |b| {
        b.iter(|| {
            let r = ZeekReader::from_reader(black_box(&gz[..])).unwrap();
            assert!(r.is_gzip());
            checksum!(r)
        })
    });

    let data = json();
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("zeek_json_events", |b| {
        b.iter(|| checksum!(ZeekJsonReader::from_reader(black_box(&data[..])).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
