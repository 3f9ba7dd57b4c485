//! A Ballista executor with the `beacon` aggregate in its function registry (feature
//! `ballista`), registering with a scheduler started by `beacon_scheduler`.
//!
//! ```text
//! cargo run --release --features ballista --example beacon_executor -- \
//!     --scheduler-host sched.example --scheduler-port 50050 --bind 0.0.0.0 --port 50051 --grpc-port 50052
//! ```
//!
//! Defaults: scheduler `localhost:50050`, `--bind 127.0.0.1 --port 50051 --grpc-port 50052`,
//! `--wait-secs 60`: how long to wait for the scheduler to accept connections (started together,
//! it may not listen yet; Ballista's executor gives up at once otherwise).
//! The executor reads the query's files itself: give it the same paths (shared storage).

use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use beaconstat::sql::BeaconAggregate;
use beaconstat::sql::ballista::function_registry;
use std::net::{TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Waits until the scheduler at `host:port` accepts TCP connections, for at most `wait`.
fn wait_for_scheduler(host: &str, port: u16, wait: Duration) -> Result<(), String> {
    let started = Instant::now();
    loop {
        let reachable = (host, port)
            .to_socket_addrs()
            .is_ok_and(|mut addrs| addrs.any(|a| TcpStream::connect_timeout(&a, Duration::from_secs(1)).is_ok()));
        if reachable {
            return Ok(());
        }
        if started.elapsed() >= wait {
            return Err(format!(
                "scheduler {host}:{port} not reachable after {} s",
                wait.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn main() -> ExitCode {
    let mut config = ExecutorProcessConfig {
        bind_host: "127.0.0.1".into(),
        port: 50051,
        grpc_port: 50052,
        ..ExecutorProcessConfig::default()
    };
    let mut wait = Duration::from_secs(60);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let value = args.next();
        let port = value.as_deref().and_then(|v| v.parse::<u16>().ok());
        match (a.as_str(), value.clone(), port) {
            ("--scheduler-host", Some(v), _) => config.scheduler_host = v,
            ("--scheduler-port", _, Some(p)) => config.scheduler_port = p,
            ("--bind", Some(v), _) => config.bind_host = v,
            ("--port", _, Some(p)) => config.port = p,
            ("--grpc-port", _, Some(p)) => config.grpc_port = p,
            ("--wait-secs", _, Some(s)) => wait = Duration::from_secs(u64::from(s)),
            _ => {
                eprintln!(
                    "usage: beacon_executor [--scheduler-host H] [--scheduler-port P] [--bind ADDR] [--port P] [--grpc-port P] [--wait-secs S]"
                );
                return ExitCode::from(2);
            }
        }
    }
    // The aggregate in the executor's registry, beside DataFusion's own functions.
    config.override_function_registry = Some(Arc::new(function_registry(&BeaconAggregate::new())));
    if let Err(e) = wait_for_scheduler(&config.scheduler_host, config.scheduler_port, wait) {
        eprintln!("beacon_executor: {e}");
        return ExitCode::from(2);
    }
    let result = tokio::runtime::Runtime::new()
        .map_err(|e| e.to_string())
        .and_then(|rt| {
            rt.block_on(start_executor_process(Arc::new(config)))
                .map_err(|e| e.to_string())
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("beacon_executor: {e}");
            ExitCode::from(2)
        }
    }
}
