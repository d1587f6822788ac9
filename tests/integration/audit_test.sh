#!/usr/bin/env bash
# kvision audit counts what the pipeline did: every frame out once (exit 0), a bad frame
# dead-lettered (still exit 0), a duplicated result and frames never processed (exit 1).
source "$(dirname "$0")/lib.sh"
require_file "$MODEL_ONNX"
require_file "$DATA/vtest.avi"
start_broker
"$KV" detect --brokers "$BROKERS" --model "$MODEL" --threads 2 >"$WORK/detect.log" 2>&1 &
DETECT=$!
PIDS+=($DETECT)
"$KV" ingest --brokers "$BROKERS" --source "$DATA/vtest.avi" --camera lobby --max-frames 40 \
  >"$WORK/ingest.log" 2>&1 || fail "ingest"
# One frame that is not a JPEG, with valid headers: dead-lettered by the detector.
hdr=(-H kv.schema=1 -H kv.camera=yard -H kv.session=1 -H kv.pos_ms=0 -H kv.capture_us=1 -H kv.width=768
  -H kv.height=576 -H kv.format=jpeg -H kv.seq=0)
printf 'this is not a jpeg' | kcat -b "$BROKERS" -P -t raw_video_frames -k yard "${hdr[@]}"
wait_records processed_images 40 60
wait_records raw_video_frames.dlq 1 30

audit() { "$KV" audit --brokers "$BROKERS" "$@" >"$WORK/audit.out" 2>&1; }
audit || fail "audit of a clean run failed: $(cat "$WORK/audit.out")"
cat "$WORK/audit.out"
grep -q "^TOTAL in=41 out=40 missing=0 duplicates=0 dlq=1 skipped=0$" "$WORK/audit.out" || fail "wrong totals"
grep -Eq "^lobby +40 +40 +0 +0 +0 +0$" "$WORK/audit.out" || fail "wrong lobby row"
grep -Eq "^yard +1 +0 +0 +0 +1 +0$" "$WORK/audit.out" || fail "wrong yard row"

# A result delivered twice (as a retry without idempotence would): exit 1, counted.
kcat -b "$BROKERS" -C -t detections -o beginning -c 1 -e -q >"$WORK/one.json"
kcat -b "$BROKERS" -P -t detections -k lobby "$WORK/one.json"
set +e
audit --to-topic detections; rc=$?
set -e
cat "$WORK/audit.out"
[ "$rc" -eq 1 ] || fail "a duplicate gave exit $rc"
grep -q "^TOTAL in=41 out=41 missing=0 duplicates=1 dlq=1 skipped=0$" "$WORK/audit.out" || fail "duplicate not counted"

# Frames nobody processed: missing, exit 1.
kill "$DETECT"
wait "$DETECT" 2>/dev/null || true
"$KV" ingest --brokers "$BROKERS" --source "$DATA/vtest.avi" --camera gate --max-frames 5 --max-lag 0 \
  >"$WORK/ingest2.log" 2>&1 || fail "ingest 2"
set +e
audit; rc=$?
set -e
cat "$WORK/audit.out"
[ "$rc" -eq 1 ] || fail "missing frames gave exit $rc"
grep -Eq "^gate +5 +0 +5 +0 +0 +0$" "$WORK/audit.out" || fail "gate's 5 frames not missing"
echo "PASS"
