//! `--parquet FILE`: the rows of `--json` as one Parquet file (feature `arrow`).
//!
//! Each row goes through its JSON form, so the columns are exactly the JSON fields (in name
//! order; nested objects flattened as `subscores.timing`). A column's type follows its values:
//! booleans, integers (`Int64`), other numbers (`Float64`), text; null where a row has none.

use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Flattens one JSON object into `out` (`prefix.key` for nested objects).
fn flatten<'v>(prefix: &str, v: &'v Value, row: usize, out: &mut BTreeMap<String, Vec<(usize, &'v Value)>>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let name = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&name, v, row, out);
            }
        }
        v => out.entry(prefix.to_string()).or_default().push((row, v)),
    }
}

/// One column from the (row, value) cells of `rows` rows.
fn column(rows: usize, cells: &[(usize, &Value)]) -> ArrayRef {
    let mut slots: Vec<Option<&Value>> = vec![None; rows];
    for &(r, v) in cells {
        if !v.is_null() {
            slots[r] = Some(v);
        }
    }
    let set = || slots.iter().flatten();
    if set().next().is_some() && set().all(|v| v.is_boolean()) {
        return Arc::new(
            slots
                .iter()
                .map(|v| v.and_then(Value::as_bool))
                .collect::<BooleanArray>(),
        );
    }
    if set().next().is_some() && set().all(|v| v.is_i64()) {
        return Arc::new(slots.iter().map(|v| v.and_then(Value::as_i64)).collect::<Int64Array>());
    }
    if set().next().is_some() && set().all(|v| v.is_number()) {
        return Arc::new(
            slots
                .iter()
                .map(|v| v.and_then(Value::as_f64))
                .collect::<Float64Array>(),
        );
    }
    Arc::new(
        slots
            .iter()
            .map(|v| {
                v.map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            })
            .collect::<StringArray>(),
    )
}

/// Writes `rows` (anything serialisable to a JSON object) to `path`.
pub fn write<T: serde::Serialize>(path: &Path, rows: &[T]) -> Result<usize, String> {
    let values: Vec<Value> = rows
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("--parquet: {e}"))?;
    let mut cells = BTreeMap::new();
    for (r, v) in values.iter().enumerate() {
        flatten("", v, r, &mut cells);
    }
    let columns: Vec<(String, ArrayRef)> = cells
        .iter()
        .map(|(k, c)| (k.clone(), column(values.len(), c)))
        .collect();
    let batch = if columns.is_empty() {
        RecordBatch::new_empty(Arc::new(arrow_schema::Schema::empty()))
    } else {
        RecordBatch::try_from_iter(columns).map_err(|e| format!("--parquet: {e}"))?
    };
    beaconstat::arrow::write_parquet(path, &[batch]).map_err(|e| e.to_string())?;
    Ok(values.len())
}
