#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer on the stable toolchain and runs one of them.
# usage: fuzz/run.sh TARGET [SECONDS] [extra libFuzzer flags...]   (fuzz/run.sh build: build only)
# The corpus grows in fuzz/corpus/TARGET (seeded from fuzz/seeds/TARGET); crashes go to
# fuzz/artifacts/TARGET.
set -euo pipefail
cd "$(dirname "$0")"
TRIPLE=${TRIPLE:-$(rustc -vV | sed -n 's/^host: //p')}
export RUSTFLAGS="${RUSTFLAGS:-} -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
  -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
# An explicit --target keeps the instrumentation off build scripts and proc macros.
[ -n "${NO_BUILD:-}" ] || cargo build --release --target "$TRIPLE" --bins
[ "${1:-build}" = build ] && exit 0
T=$1; SECS=${2:-600}; shift; shift || true
mkdir -p "corpus/$T" "artifacts/$T"
# -timeout=1: an input that takes over a second is a hang; -malloc_limit_mb: one allocation
# above 256 MB for an input of at most 64 KiB is a missing cap.
EXTRA=()
MAXLEN=65536
# EVTX: real sample files (64 KiB chunks) seed the corpus where the shared data is present.
if [ "$T" = evtx ]; then
  MAXLEN=139264
  for d in ../../shared/data/tasks_evtx_*; do [ -d "$d" ] && EXTRA+=("$d"); done
  # Truncated files as seeds, cut from a sample (the repository keeps no binary logs).
  S=../../shared/data/tasks_evtx_attack/temp_scheduled_task_4698_4699.evtx
  if [ -f "$S" ]; then
    head -c 4096 "$S" > "corpus/$T/file_header_only.evtx"
    head -c 8192 "$S" > "corpus/$T/chunk_cut.evtx"
  fi
fi
SEEDS=(); [ -d "seeds/$T" ] && SEEDS=("seeds/$T")
exec "target/$TRIPLE/release/$T" "corpus/$T" "${SEEDS[@]}" "${EXTRA[@]}" -max_total_time="$SECS" -timeout=1 \
  -rss_limit_mb=2048 -malloc_limit_mb=256 -max_len=$MAXLEN -jobs=1 -workers=1 \
  -artifact_prefix="artifacts/$T/" -print_final_stats=1 "$@"
