//! SQL on DataFusion (feature `datafusion`): the aggregate `beacon(ts [, bytes])`, which scores
//! each group's connections as [`Analyzer::score`] does and returns the report as a struct.
//!
//! ```sql
//! SELECT src, dst, beacon(ts, orig_bytes) AS b
//! FROM conn GROUP BY src, dst ORDER BY b.score DESC
//! ```
//!
//! # How it splits across partitions
//! The state of a group is its timestamps (µs) and sizes, as two lists. DataFusion's partial
//! aggregation builds a state per group on each partition; the final stage merges the states
//! (concatenation) and scores each group once. Events are sorted by (time, size) before
//! scoring, exactly as [`Grouper`](crate::Grouper) sorts a series, so the report does not
//! depend on how the rows were partitioned: it equals the library's report for the same
//! series, field for field.
//!
//! # Arguments
//! - `ts`: `Timestamp` of any unit, `Int64` (unit by magnitude, as
//!   [`IntTimeUnit::Auto`]) or `Float64` seconds. Null
//!   timestamps are ignored, like nulls in any SQL aggregate.
//! - `bytes` (optional): any integer or float column, the size of each event. A series has
//!   sizes only if every one of its events has one (null, negative or fractional sizes mean
//!   "unknown"), as in the library.
//!
//! # Result
//! A struct with the fields of [`report_schema`](crate::arrow::report_schema) after the key:
//! `verdict`, `period_source`, `first`, `last`, every [`FEATURES`](crate::features::FEATURES)
//! column (`score`, `period_s`, `jitter`, `missed`, `p_value`, `events`, …) and
//! `explanation`.
//!
//! # Bounded state
//! [`BeaconAggregate::max_events`] caps the events kept per group: the `N` latest by (time,
//! size). The rule is deterministic and mergeable (the latest `N` of a union are the latest
//! `N` of the parts' latest `N`), so a bounded aggregate still gives the same answer on any
//! partitioning: the report of the group's most recent `N` events. Memory per group is then
//! at most `2N` events (24 bytes each) between trims.
//!
//! # Example
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use datafusion::prelude::SessionContext;
//! let ctx = SessionContext::new();
//! beaconstat::sql::register(&ctx);
//! let rt = tokio::runtime::Runtime::new()?;
//! let batches = rt.block_on(async {
//!     ctx.sql(
//!         "SELECT src, beacon(ts) AS b FROM (VALUES ('a', 0.0), ('a', 60.0), ('a', 120.0)) AS t(src, ts) GROUP BY src",
//!     )
//!     .await?
//!     .collect()
//!     .await
//! })?;
//! assert_eq!(batches[0].num_rows(), 1);
//! # Ok(()) }
//! ```

use crate::arrow::{IntTimeUnit, Numbers, Time, report_struct, report_struct_fields};
use crate::beacon::{Analyzer, AnalyzerConfig};
use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, UInt64Type};
use arrow_array::{Array, ArrayRef, Int64Array, ListArray, UInt64Array};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{DataType, Field, FieldRef};
use datafusion::common::{DataFusionError, Result as DfResult, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility};
use datafusion::prelude::SessionContext;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

#[cfg(feature = "ballista")]
pub mod ballista;

/// The name the aggregate is registered under.
pub const NAME: &str = "beacon";

/// The `beacon` aggregate: an analyzer configuration and an optional cap on events per group.
///
/// Analyzers (with their FFT plans) are pooled per aggregate and reused across groups.
///
/// # Example
/// ```
/// use beaconstat::sql::BeaconAggregate;
/// let udaf = BeaconAggregate::new().max_events(4096).into_udf();
/// assert_eq!(udaf.name(), "beacon");
/// ```
#[derive(Debug, Clone)]
pub struct BeaconAggregate {
    signature: Signature,
    config: AnalyzerConfig,
    max_events: Option<usize>,
    pool: Arc<Mutex<Vec<Analyzer>>>,
}

impl Default for BeaconAggregate {
    fn default() -> Self {
        BeaconAggregate::new()
    }
}

impl PartialEq for BeaconAggregate {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config && self.max_events == other.max_events
    }
}

impl Eq for BeaconAggregate {}

impl Hash for BeaconAggregate {
    fn hash<H: Hasher>(&self, state: &mut H) {
        NAME.hash(state);
        self.max_events.hash(state);
    }
}

impl BeaconAggregate {
    /// The default analyzer configuration, no cap.
    pub fn new() -> Self {
        BeaconAggregate {
            signature: Signature::user_defined(Volatility::Immutable),
            config: AnalyzerConfig::default(),
            max_events: None,
            pool: Arc::default(),
        }
    }

    /// Scores with `config`.
    pub fn config(mut self, config: AnalyzerConfig) -> Self {
        self.config = config;
        self
    }

    /// Keeps at most `n` events per group (the latest `n` by time; at least 1): see the module
    /// docs for the rule and what it does to the reports.
    pub fn max_events(mut self, n: usize) -> Self {
        self.max_events = Some(n.max(1));
        self
    }

    /// As a DataFusion function, for `SessionContext::register_udaf`.
    pub fn into_udf(self) -> AggregateUDF {
        AggregateUDF::from(self)
    }
}

/// Registers `beacon` (default configuration, no cap) on `ctx`: the one call SQL needs.
pub fn register(ctx: &SessionContext) {
    ctx.register_udaf(BeaconAggregate::new().into_udf());
}

fn plan_err(msg: String) -> DataFusionError {
    DataFusionError::Plan(msg)
}

impl AggregateUDFImpl for BeaconAggregate {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> DfResult<Vec<DataType>> {
        let (ts, rest) = match args {
            [ts] => (ts, None),
            [ts, bytes] => (ts, Some(bytes)),
            _ => {
                return Err(plan_err(format!(
                    "{NAME}(ts [, bytes]) takes 1 or 2 arguments, got {}",
                    args.len()
                )));
            }
        };
        // Timestamps, Int64 and Float64 are read as they are; narrower numbers widen.
        let ts = match ts {
            DataType::Timestamp(..) | DataType::Int64 | DataType::Float64 => ts.clone(),
            t if t.is_integer() => DataType::Int64,
            DataType::Float32 | DataType::Float16 | DataType::Decimal128(..) => DataType::Float64,
            t => return Err(plan_err(format!("{NAME}: ts must be a timestamp or a number, not {t}"))),
        };
        let mut out = vec![ts];
        if let Some(b) = rest {
            out.push(match b {
                b if b.is_integer() || matches!(b, DataType::Float32 | DataType::Float64) => b.clone(),
                DataType::Null => DataType::UInt64,
                t => return Err(plan_err(format!("{NAME}: bytes must be a number, not {t}"))),
            });
        }
        Ok(out)
    }

    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Struct(report_struct_fields()))
    }

    fn state_fields(&self, args: StateFieldsArgs<'_>) -> DfResult<Vec<FieldRef>> {
        let list = |name: &str, item: DataType| {
            let item = Arc::new(Field::new("item", item, true));
            Arc::new(Field::new(format!("{}[{name}]", args.name), DataType::List(item), true))
        };
        Ok(vec![list("ts_us", DataType::Int64), list("sizes", DataType::UInt64)])
    }

    fn accumulator(&self, _args: AccumulatorArgs<'_>) -> DfResult<Box<dyn Accumulator>> {
        Ok(Box::new(BeaconAccumulator {
            events: Vec::new(),
            max_events: self.max_events,
            config: self.config.clone(),
            pool: Arc::clone(&self.pool),
        }))
    }
}

/// One group's events: (µs, size, size known), unsorted until scored.
#[derive(Debug)]
struct BeaconAccumulator {
    events: Vec<(i64, u64, bool)>,
    max_events: Option<usize>,
    config: AnalyzerConfig,
    pool: Arc<Mutex<Vec<Analyzer>>>,
}

impl BeaconAccumulator {
    /// Keeps the latest `max_events` (by time, size) once the buffer holds twice that.
    fn trim(&mut self, slack: usize) {
        let Some(n) = self.max_events else { return };
        if self.events.len() > n.saturating_mul(slack) {
            let drop = self.events.len() - n;
            self.events.select_nth_unstable_by_key(drop, |e| (e.0, e.1));
            self.events.drain(..drop);
        }
    }

    fn analyzer(&self) -> Analyzer {
        let pooled = match self.pool.lock() {
            Ok(mut p) => p.pop(),
            Err(poisoned) => poisoned.into_inner().pop(),
        };
        pooled.unwrap_or_else(|| Analyzer::new(self.config.clone()))
    }

    fn give_back(&self, a: Analyzer) {
        match self.pool.lock() {
            Ok(mut p) => p.push(a),
            Err(poisoned) => poisoned.into_inner().push(a),
        }
    }
}

fn exec_err(msg: String) -> DataFusionError {
    DataFusionError::Execution(msg)
}

impl Accumulator for BeaconAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        let Some(ts) = values.first() else { return Ok(()) };
        let times = Time::new(ts.as_ref(), IntTimeUnit::Auto)
            .ok_or_else(|| exec_err(format!("{NAME}: ts is {}", ts.data_type())))?;
        let sizes = match values.get(1) {
            Some(b) => {
                Some(Numbers::new(b.as_ref()).ok_or_else(|| exec_err(format!("{NAME}: bytes is {}", b.data_type())))?)
            }
            None => None,
        };
        self.events.reserve(ts.len());
        for i in 0..ts.len() {
            // Null or out-of-range times are not events.
            let Some(Some(t)) = times.get(i) else { continue };
            let size = sizes.as_ref().and_then(|s| s.count(i)).and_then(Result::ok);
            self.events.push((t.as_micros(), size.unwrap_or(0), size.is_some()));
        }
        self.trim(2);
        Ok(())
    }

    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        self.trim(1);
        let n = self.events.len();
        let ts: Int64Array = self.events.iter().map(|e| Some(e.0)).collect();
        let sizes: UInt64Array = self.events.iter().map(|e| e.2.then_some(e.1)).collect();
        let list = |values: ArrayRef, item: DataType| {
            let field = Arc::new(Field::new("item", item, true));
            ScalarValue::List(Arc::new(ListArray::new(
                field,
                OffsetBuffer::from_lengths([n]),
                values,
                None,
            )))
        };
        Ok(vec![
            list(Arc::new(ts), DataType::Int64),
            list(Arc::new(sizes), DataType::UInt64),
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        let [ts, sizes] = states else {
            return Err(exec_err(format!(
                "{NAME}: expected 2 state columns, got {}",
                states.len()
            )));
        };
        let (Some(ts), Some(sizes)) = (ts.as_list_opt::<i32>(), sizes.as_list_opt::<i32>()) else {
            return Err(exec_err(format!("{NAME}: state columns are not lists")));
        };
        for row in 0..ts.len() {
            if ts.is_null(row) {
                continue;
            }
            let (t, s) = (ts.value(row), sizes.value(row));
            let (Some(t), Some(s)) = (t.as_primitive_opt::<Int64Type>(), s.as_primitive_opt::<UInt64Type>()) else {
                return Err(exec_err(format!("{NAME}: state lists of unexpected types")));
            };
            self.events.extend(
                t.values()
                    .iter()
                    .enumerate()
                    .map(|(i, &us)| match s.is_valid(i).then(|| s.value(i)) {
                        Some(size) => (us, size, true),
                        None => (us, 0, false),
                    }),
            );
            self.trim(2);
        }
        Ok(())
    }

    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        self.trim(1);
        // The grouper's order: by time, ties by size (unknown sizes count as 0).
        self.events.sort_unstable_by_key(|e| (e.0, e.1));
        let ts: Vec<i64> = self.events.iter().map(|e| e.0).collect();
        let all_sized = !self.events.is_empty() && self.events.iter().all(|e| e.2);
        let sizes: Option<Vec<u64>> = all_sized.then(|| self.events.iter().map(|e| e.1).collect());
        let mut analyzer = self.analyzer();
        let report = analyzer.score(&ts, sizes.as_deref());
        self.give_back(analyzer);
        let row = report_struct(&report).map_err(|e| exec_err(e.to_string()))?;
        Ok(ScalarValue::Struct(Arc::new(row)))
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.events.capacity() * size_of::<(i64, u64, bool)>()
    }
}
