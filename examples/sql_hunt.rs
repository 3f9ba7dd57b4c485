//! Beacon hunting in SQL on DataFusion: register a Parquet or CSV file or directory as the
//! table `conn`, and rank every (source, destination) by the `beacon` aggregate.
//!
//! ```text
//! cargo run --release --features datafusion --example sql_hunt                 # generated network
//! cargo run --release --features datafusion --example sql_hunt -- conns/       # Parquet directory
//! cargo run --release --features datafusion --example sql_hunt -- conn.csv --top 30
//! ```
//!
//! Columns are found by the CSV reader's names (`ts`/`timestamp`, `id.orig_h`/`src_ip`,
//! `id.resp_h`/`dst_ip`, `orig_bytes`/`bytes_out`, …). With no argument, the bundled generated
//! network (about 150 000 connections) is written as Parquet to a temporary directory first.
//! The query, printed before its result, is:
//!
//! ```sql
//! SELECT src, dst, count(*) AS n, beacon(ts, bytes) AS b FROM conn
//! GROUP BY src, dst HAVING count(*) >= 6 ORDER BY b.score DESC LIMIT 15
//! ```

use beaconstat::arrow::{ArrowColumns, write_parquet};
use beaconstat::synth::Scenario;
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionContext};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn is_csv(p: &Path) -> bool {
    let csv = |p: &Path| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if p.is_dir() {
        std::fs::read_dir(p)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| csv(&e.path()))
    } else {
        csv(p)
    }
}

/// `"name"`, with inner quotes doubled.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

async fn run(input: Option<PathBuf>, top: usize) -> Result<(), Box<dyn std::error::Error>> {
    let path = match input {
        Some(p) => p,
        None => {
            let dir = std::env::temp_dir().join("beaconstat-sql-hunt");
            std::fs::create_dir_all(&dir)?;
            let path = dir.join("conn.parquet");
            let scenario = Scenario::builder().build();
            write_parquet(&path, &[scenario.to_record_batch()?])?;
            eprintln!(
                "wrote the generated network ({} connections) to {}",
                scenario.len(),
                path.display()
            );
            path
        }
    };
    let ctx = SessionContext::new();
    beaconstat::sql::register(&ctx);
    let location = path.to_str().ok_or("the path is not UTF-8")?;
    if is_csv(&path) {
        ctx.register_csv("conn", location, CsvReadOptions::new()).await?;
    } else {
        ctx.register_parquet("conn", location, ParquetReadOptions::default())
            .await?;
    }
    let schema = ctx.table("conn").await?.schema().as_arrow().clone();
    let found = ArrowColumns::new().find(&schema)?;
    let column = |field: &str| found.iter().find(|(f, _)| *f == field).map(|(_, c)| quoted(c));
    let (Some(ts), Some(src), Some(dst)) = (column("ts"), column("src"), column("dst")) else {
        return Err("no ts, src or dst column".into());
    };
    let args = match column("bytes_out") {
        Some(bytes) => format!("{ts}, {bytes}"),
        None => ts,
    };
    let sql = format!(
        "SELECT src, dst, n, b.score AS score, b.period_s AS period_s, b.jitter AS jitter, b.missed AS missed, \
         b.p_value AS p_value, b.explanation AS explanation FROM (\
         SELECT {src} AS src, {dst} AS dst, count(*) AS n, beacon({args}) AS b FROM conn \
         GROUP BY {src}, {dst} HAVING count(*) >= 6) ORDER BY score DESC LIMIT {top}"
    );
    eprintln!("{sql}");
    ctx.sql(&sql).await?.show().await?;
    Ok(())
}

fn main() -> ExitCode {
    let mut input = None;
    let mut top = 15;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--top" => match args.next().and_then(|v| v.parse().ok()) {
                Some(n) => top = n,
                None => {
                    eprintln!("--top needs a number");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                eprintln!("usage: sql_hunt [FILE|DIR] [--top K]");
                return ExitCode::SUCCESS;
            }
            _ => input = Some(PathBuf::from(a)),
        }
    }
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sql_hunt: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(input, top)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sql_hunt: {e}");
            ExitCode::from(2)
        }
    }
}
