#!/usr/bin/env bash
# kvision bench end to end at a small size: every measurement runs and the report is complete.
# (Speed targets are figures the bench prints, not assertions: see docs/performance.md.)
source "$(dirname "$0")/lib.sh"
require_file "$MODEL_ONNX"
require_file "$DATA/vtest.avi"
"$KV" bench --model "$MODEL" --source "$DATA/vtest.avi" --seconds 0.5 --frames 20 --latency-frames 10 --rounds 2 \
  >"$WORK/bench.out" 2>"$WORK/bench.log" || fail "bench failed"
cat "$WORK/bench.out"
line="$(grep '^BENCH ' "$WORK/bench.out")" || fail "no BENCH line"
python3 - "$line" <<'PY' || fail "bad BENCH figures: $line"
import sys
fields = dict(kv.split("=") for kv in sys.argv[1].split()[1:])
want = {"engine", "bare_fps", "plain_fps", "pipeline_fps", "best_pipeline_fps", "opencv_pipeline_fps", "live_fps",
        "p99_ms", "single_frame_ms", "metrics_cost", "best_bare_layout", "best_pipeline_layout", "default_layout",
        "bare_decode_fps", "pipeline_vs_bare"}
assert set(fields) == want, fields
engine = fields.pop("engine")
assert engine in ("onnxruntime", "opencv"), fields
# Layouts are WORKERSxINTRAxINTER; ONNX Runtime's search includes parallel graph execution.
layouts = [fields.pop(k) for k in ("best_bare_layout", "best_pipeline_layout", "default_layout")]
assert all(len(l.split("x")) == 3 and all(p.isdigit() for p in l.split("x")) for l in layouts), layouts
assert all(float(v) > 0 for k, v in fields.items() if k != "metrics_cost"), fields
assert -1 < float(fields["metrics_cost"]) < 1, fields
assert float(fields["best_pipeline_fps"]) >= float(fields["pipeline_fps"])
# The ratio is the rounds' medians (with 2 rounds, the lower of each pair), not the search's figures.
assert 0 < float(fields["pipeline_vs_bare"]) < 3, fields
PY
grep -q "onnxruntime" "$WORK/bench.out" && { grep -q "1 worker x 1 inference thread + 2 inter-op" "$WORK/bench.out" ||
  fail "the ONNX Runtime layouts lack inter-op settings"; }
[ "$(grep -c '^  round [0-9]: bare' "$WORK/bench.out")" = 2 ] || fail "expected 2 back-to-back rounds"
for layout in "1 worker x 1 inference thread" "decoding each" "medians:" "Plain pipeline" "Latency at 80%" "Metrics (default layout"; do
  grep -q "$layout" "$WORK/bench.out" || fail "the report lacks '$layout'"
done
echo "PASS"
