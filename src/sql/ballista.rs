//! The `beacon` aggregate on a Ballista cluster (feature `ballista`).
//!
//! A distributed plan names its functions; the scheduler and every executor look them up in
//! their own registries. So `beacon` must be registered on both sides:
//! - **scheduler**: [`session_builder`] (for `SchedulerConfig::override_session_builder`)
//!   builds Ballista's default state and adds the aggregate to it (replacing the function list
//!   instead would drop the built-ins);
//! - **executor**: [`function_registry`] (for
//!   `ExecutorProcessConfig::override_function_registry`) is the default registry plus the
//!   aggregate;
//! - **client**: the context it plans with, as for plain DataFusion.
//!
//! [`standalone_context`] does all three for an in-process cluster (scheduler and executor in
//! this process, talking gRPC over loopback).

use super::BeaconAggregate;
use ballista::prelude::SessionContextExt;
use ballista_core::registry::BallistaFunctionRegistry;
use datafusion::common::Result as DfResult;
use datafusion::execution::{FunctionRegistry, SessionState, SessionStateBuilder};
use datafusion::prelude::{SessionConfig, SessionContext};
use std::sync::Arc;

/// Ballista's default scheduler-side state for `config`, with `aggregate` added.
///
/// # Errors
/// DataFusion's, building the state's runtime.
pub fn session_state_with(config: SessionConfig, aggregate: &BeaconAggregate) -> DfResult<SessionState> {
    let mut state = ballista_core::utils::default_session_builder(config)?;
    state.register_udaf(Arc::new(aggregate.clone().into_udf()))?;
    Ok(state)
}

/// [`session_state_with`] with the default aggregate: a scheduler's session builder.
///
/// # Errors
/// As [`session_state_with`].
///
/// # Example
/// ```no_run
/// let mut config = ballista_scheduler::config::SchedulerConfig::default();
/// config.override_session_builder = Some(std::sync::Arc::new(beaconstat::sql::ballista::session_builder));
/// ```
pub fn session_builder(config: SessionConfig) -> DfResult<SessionState> {
    session_state_with(config, &BeaconAggregate::new())
}

/// The executor-side registry: DataFusion's functions plus `aggregate`.
///
/// # Example
/// ```no_run
/// use beaconstat::sql::{BeaconAggregate, ballista::function_registry};
/// let mut config = ballista_executor::executor_process::ExecutorProcessConfig::default();
/// config.override_function_registry = Some(std::sync::Arc::new(function_registry(&BeaconAggregate::new())));
/// ```
pub fn function_registry(aggregate: &BeaconAggregate) -> BallistaFunctionRegistry {
    let mut registry = BallistaFunctionRegistry::default();
    let udf = aggregate.clone().into_udf();
    registry
        .aggregate_functions
        .insert(udf.name().to_owned(), Arc::new(udf));
    registry
}

/// A client context on the Ballista scheduler at `url` (`df://host:port`), with `aggregate`
/// registered on the state it connects with and on the context (the scheduler and the
/// executors register it themselves: [`session_builder`], [`function_registry`]).
///
/// # Errors
/// A malformed URL.
pub async fn remote_context(url: &str, aggregate: &BeaconAggregate) -> DfResult<SessionContext> {
    let udf = aggregate.clone().into_udf();
    let mut state = SessionStateBuilder::new().with_default_features().build();
    state.register_udaf(Arc::new(udf.clone()))?;
    let ctx = SessionContext::remote_with_state(url, state).await?;
    ctx.register_udaf(udf);
    Ok(ctx)
}

/// A client context on a fresh in-process Ballista cluster (one scheduler, one executor with
/// `config`'s standalone parallelism) with `aggregate` registered on the scheduler, the
/// executor and the context itself.
///
/// # Errors
/// Starting the scheduler or the executor (binding loopback ports, gRPC).
pub async fn standalone_context(config: SessionConfig, aggregate: &BeaconAggregate) -> DfResult<SessionContext> {
    let udf = aggregate.clone().into_udf();
    // Registered on the state handed in: the scheduler and the executor copy its functions.
    let mut state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(config)
        .build();
    state.register_udaf(Arc::new(udf.clone()))?;
    let ctx = SessionContext::standalone_with_state(state).await?;
    // And again on the returned context, whose function lists are reset.
    ctx.register_udaf(udf);
    Ok(ctx)
}
