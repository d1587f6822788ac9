#!/usr/bin/env bash
# ingest 200 frames of vtest.avi with no detector running (the broker holds the backlog), then
# two `detect` processes in one group work through it; kcat reads processed_images: every seq
# 0..199 exactly once, 768x576 JPEGs, persons in >= 90 % of frames.
source "$(dirname "$0")/lib.sh"
require_file "$DATA/vtest.avi"
require_file "$MODEL"
start_broker
# The backlog first, with no detector running: ingest does not wait for one (Kafka holds it).
timeout 120 "$KV" ingest --brokers "$BROKERS" --source "$DATA/vtest.avi" --camera cam1 --max-frames 200 \
  --no-progress >"$WORK/ingest.log" 2>&1 || fail "ingest without detectors exited with $? (did it wait for them?)"
for i in 1 2; do
  "$KV" detect --brokers "$BROKERS" --model "$MODEL" --group it-detect --threads 1 >"$WORK/detect$i.log" 2>&1 &
  PIDS+=($!)
done
timeout 300 kcat -b "$BROKERS" -C -t processed_images -o beginning -c 200 -q -f 'KVREC %p %o %S\n%h\n%s\n' \
  >"$WORK/processed.bin" 2>"$WORK/kcat.log" &
KCAT=$!
grep -q "200 frames published" "$WORK/ingest.log" || fail "ingest did not publish 200 frames"
wait "$KCAT" || fail "kcat did not read 200 records from processed_images"
wait_records detections 200 30
"$CHECK" --frames 200 --camera cam1 --width 768 --height 576 --min-person-frac 0.9 <"$WORK/processed.bin" \
  || fail "processed_images check failed"

# Both processes were members of the group and got partitions.
for i in 1 2; do
  grep -Eq "assigned [1-9][0-9]* partition" "$WORK/detect$i.log" || fail "detect$i never got a partition"
done
# SIGTERM: both finish in-flight work, commit and exit 0.
kill -TERM "${PIDS[1]}" "${PIDS[2]}"
for i in 1 2; do
  wait "${PIDS[$i]}" || fail "detect$i exited with $? after SIGTERM"
done
echo "PASS: 200 frames, two detectors, exactly once, $(grep -h 'consumed' "$WORK"/detect*.log | tr '\n' ' ')"
