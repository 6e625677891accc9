#!/usr/bin/env bash
# Fuzzing run of every cargo-fuzz target (fuzz/fuzz_targets/): the .au
# parser, the decode entry point, a structured WAV/AIFF header fuzzer (rates,
# channels, sizes), theme/config parsing and the eval-report reader. Findings
# (inputs that grew coverage) stay in fuzz/corpus/<target>/ for the next run. Crashes land in fuzz/artifacts/<target>/; each one found so far is
# kept as a regression case in tests/ (see tests/bad_corpus.rs).
# Usage: bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET…]   (default 60, all)
# A release check runs each target for at least 10 minutes: bash scripts/fuzz.sh 600
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-60}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(au_header decode wav_aiff_header config eval_report)
rustup toolchain list | grep -q nightly || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
# Seeds: real files for the decoders, shipped themes and reports for the parsers.
mkdir -p fuzz/corpus/{au_header,decode,wav_aiff_header,config,eval_report}
cp -n ../shared/music/*.au fuzz/corpus/au_header/ 2>/dev/null || true
for f in demo/*/*.* demo/*.ogg; do
  [ -f "$f" ] && head -c 65536 "$f" >"fuzz/corpus/decode/$(basename "$f")"
done
cp -n themes/*.toml fuzz/corpus/config/
python3 -c "import json; print(json.dumps(json.load(open('models/accurate/model.json'))['metrics']))" \
  >fuzz/corpus/eval_report/model-metrics.json 2>/dev/null || true
status=0
for t in "${TARGETS[@]}"; do
  echo "== fuzz $t for ${SECS}s" >&2
  if ! cargo +nightly fuzz run "$t" "fuzz/corpus/$t" -- -max_total_time="$SECS" -rss_limit_mb=2048 -timeout=20 \
       >"fuzz/$t.log" 2>&1; then
    echo "   crash: see fuzz/$t.log and fuzz/artifacts/$t/" >&2
    status=1
  else
    grep -E "^#[0-9]+[[:space:]]+DONE" "fuzz/$t.log" | tail -1 | sed 's/^/   /' >&2 || true
  fi
done
exit $status
