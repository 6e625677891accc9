#!/usr/bin/env bash
# Fuzzing run of every cargo-fuzz target (fuzz/fuzz_targets/): the .au
# parser, the decode entry point, a structured WAV/AIFF header fuzzer (rates,
# channels, sizes), theme/config parsing and the eval-report reader. Findings
# (inputs that grew coverage) stay in fuzz/corpus/<target>/ for the next run. Crashes land in fuzz/artifacts/<target>/; each one found so far is
# kept as a regression case in tests/ (see tests/bad_corpus.rs).
# Usage: bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET…]   (default 60, all)
# FUZZ_PARALLEL=1 runs the targets at once instead of one after another.
# A release check runs each target for at least 10 minutes: bash scripts/fuzz.sh 600
# Prints one line per target: seconds, executions, corpus size, crashes.
#
# Last release check, 2026-12-02, FUZZ_PARALLEL=1 bash scripts/fuzz.sh 600 on
# the shared 2-core build machine (the five targets shared the two cores with
# other work, nice 19, ASan; corpus after `cargo fuzz cmin`, committed):
#   au_header         601 s  1 522 376 execs  corpus  125 files  119 kB  0 crashes
#   config            601 s    680 035 execs  corpus 1307 files  866 kB  0 crashes
#   eval_report       601 s  1 789 808 execs  corpus 1570 files  2.3 MB  0 crashes
#   wav_aiff_header   ~200 s  first run: 1 crash (finite float samples of
#                     7.7e31 overflowed rubato's FFT to NaN and panicked it)
#   decode            ~500 s  first run: 1 out-of-memory (a FLAC comment length
#                     of 4 GB, which symphonia allocates before reading)
#   After both fixes (each input kept in the corpus and as a generated-file
#   regression in tests/hostile_audio.rs), rerun (the two side by side):
#   wav_aiff_header   601 s     72 231 execs  corpus  469 files   55 kB  0 crashes
#   decode            601 s     45 297 execs  corpus 1466 files   57 MB  0 crashes
#                     (not committed: 64 kB inputs; its regression input is)
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
# One target: libFuzzer for SECS seconds of wall clock, then one summary line.
fuzz_one() {
  local t=$1 log="fuzz/$1.log" rc=0 t0=$SECONDS
  cargo +nightly fuzz run "$t" "fuzz/corpus/$t" -- -max_total_time="$SECS" -rss_limit_mb=2048 -timeout=20 \
    -print_final_stats=1 >"$log" 2>&1 || rc=$?
  local runs secs files bytes crashes
  runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  secs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$log" | tail -1)
  # A crash ends the run early, without libFuzzer's "Done" line.
  runs=${runs:-$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')}
  secs=${secs:-$((SECONDS - t0))}
  files=$(find "fuzz/corpus/$t" -type f | wc -l)
  bytes=$(du -sb "fuzz/corpus/$t" | cut -f1)
  crashes=$(find "fuzz/artifacts/$t" -type f 2>/dev/null | wc -l)
  printf '%-16s %6ss %12s execs  corpus %5s files %9s bytes  crashes %s  exit %s\n' \
    "$t" "${secs:-?}" "${runs:-?}" "$files" "$bytes" "$crashes" "$rc"
  [ "$rc" = 0 ] || echo "   crash: see $log and fuzz/artifacts/$t/" >&2
  return "$rc"
}
# Build once up front (the runs below then only link-check), so that
# parallel runs do not queue on cargo's build lock for the whole build.
cargo +nightly fuzz build >&2
status=0
if [ "${FUZZ_PARALLEL:-0}" = 1 ]; then
  # All targets at once, each for SECS of wall clock (a machine with fewer
  # cores than targets gives each a share of the CPU: compare the execs).
  pids=()
  for t in "${TARGETS[@]}"; do fuzz_one "$t" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || status=1; done
else
  for t in "${TARGETS[@]}"; do
    echo "== fuzz $t for ${SECS}s" >&2
    fuzz_one "$t" || status=1
  done
fi
exit $status
