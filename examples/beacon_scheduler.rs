//! A Ballista scheduler with the `beacon` aggregate registered (feature `ballista`): run one,
//! then executors (`beacon_executor`), then query it with
//! `beaconstat::sql::ballista::remote_context("df://HOST:PORT", …)`.
//!
//! ```text
//! cargo run --release --features ballista --example beacon_scheduler -- --bind 0.0.0.0 --port 50050
//! ```
//!
//! Defaults: `--bind 127.0.0.1 --port 50050`.

use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use beaconstat::sql::ballista::session_builder;
use std::process::ExitCode;
use std::sync::Arc;

async fn run(bind: String, port: u16) -> Result<(), Box<dyn std::error::Error>> {
    let config = SchedulerConfig {
        bind_host: bind,
        bind_port: port,
        // The aggregate on the scheduler's sessions: Ballista's default state plus `beacon`.
        override_session_builder: Some(Arc::new(session_builder)),
        ..SchedulerConfig::default()
    };
    let address = format!("{}:{}", config.bind_host, config.bind_port).parse()?;
    let cluster = BallistaCluster::new_from_config(&config).await?;
    eprintln!("beacon_scheduler listening on {address}");
    start_server(cluster, address, Arc::new(config)).await?;
    Ok(())
}

fn main() -> ExitCode {
    let (mut bind, mut port) = ("127.0.0.1".to_string(), 50050u16);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--bind", Some(v)) => bind = v,
            ("--port", Some(v)) if v.parse::<u16>().is_ok() => port = v.parse().unwrap_or(port),
            _ => {
                eprintln!("usage: beacon_scheduler [--bind ADDR] [--port PORT]");
                return ExitCode::from(2);
            }
        }
    }
    let result = tokio::runtime::Runtime::new()
        .map_err(|e| e.into())
        .and_then(|rt| rt.block_on(run(bind, port)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("beacon_scheduler: {e}");
            ExitCode::from(2)
        }
    }
}
