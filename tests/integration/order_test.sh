#!/usr/bin/env bash
# Per-camera order out of a detector with 4 workers whose inference times vary at random
# (--delay-jitter-ms): two cameras' frames, both output topics read back with kcat, every
# camera's results exactly 0..N-1 in offset order on each. ORDER_MODE=eos does the same with
# exactly-once (short transactions, so order must hold across them too), read_committed.
# The sink's and the detector's sequence monitors must report no gap and no duplicate.
source "$(dirname "$0")/lib.sh"
require_file "$DATA/vtest.avi"
require_file "$MODEL"
MODE="${ORDER_MODE:-alo}"
FRAMES=80
start_broker
EOS=()
READ=()
if [ "$MODE" = eos ]; then
  EOS=(--exactly-once --transaction-interval-ms 100)
  READ=(-X isolation.level=read_committed)
fi
METRICS="127.0.0.1:$(free_port)"
"$KV" detect --brokers "$BROKERS" --model "$MODEL" --threads 4 --infer-threads 1 --delay-jitter-ms 60 \
  --metrics "$METRICS" "${EOS[@]}" >"$WORK/detect.log" 2>&1 &
PIDS+=($!)
"$KV" sink --brokers "$BROKERS" --topic detections --output "$WORK/sink.jsonl" >"$WORK/sink.log" 2>&1 &
SINK=$!
PIDS+=($SINK)
for cam in north south; do
  "$KV" ingest --brokers "$BROKERS" --source "$DATA/vtest.avi" --camera "$cam" --max-frames "$FRAMES" \
    --no-progress >"$WORK/ingest-$cam.log" 2>&1 &
  PIDS+=($!)
done
wait_records detections $((2 * FRAMES)) 240
for t in processed_images detections; do
  fmt='%p %o %h\n'
  [ "$t" = detections ] && fmt='%p %o %s\n'
  kcat -b "$BROKERS" -C -t "$t" -o beginning -e -q "${READ[@]}" -f "$fmt" >"$WORK/$t.txt" 2>"$WORK/kcat-$t.log" \
    || fail "kcat could not read $t"
done
python3 "$SRC/tests/integration/order_check.py" "$FRAMES" "$WORK/processed_images.txt" "$WORK/detections.txt" \
  >"$WORK/order.log" 2>&1 || { cat "$WORK/order.log"; fail "results out of order ($MODE)"; }
cat "$WORK/order.log"
# Workers really finished out of order: frames waited over 10 ms for a predecessor.
curl -sf "http://$METRICS/metrics" >"$WORK/metrics.txt" || fail "no metrics from detect"
python3 - "$WORK/metrics.txt" <<'PY' || fail "no frame waited for a predecessor: the test proves nothing"
import re, sys
text = open(sys.argv[1]).read()
def value(le):
    m = re.search(r'kvision_step_seconds_bucket\{stage="detect",step="order",le="%s"\} (\S+)' % le, text)
    return float(m.group(1))
count = float(re.search(r'kvision_step_seconds_count\{stage="detect",step="order"\} (\S+)', text).group(1))
waited = count - value("0.01")
print(f"order step: {count:.0f} frames, {waited:.0f} waited over 10 ms for a predecessor")
assert waited > 0
PY
kill -TERM "$SINK"
wait "$SINK" || fail "sink exited with $?"
! grep -Eq "skipped [0-9]+ frame|arrived again|missing and" "$WORK/sink.log" "$WORK/detect.log" \
  || fail "a sequence monitor reported a gap or a duplicate"
echo "PASS: $MODE, 4 workers with random delays, $((2 * FRAMES)) results in per-camera order on both topics"
