#!/usr/bin/env bash
# Broker faults on librdkafka's mock cluster of 3 brokers (tests/integration/mock_chaos.cpp):
# leader moves, a broker down and up, the group coordinator down, injected request errors,
# while ingest and two detectors run. At-least-once: 0 missing. The mock does not deduplicate
# idempotent retries, so duplicates are expected; they are counted and printed.
source "$(dirname "$0")/lib.sh"
CHAOS="$(dirname "$CHECK")/mock_chaos"
require_file "$MODEL_ONNX"
require_file "$DATA/vtest.avi"
"$CHAOS" 4 >"$WORK/chaos.out" 2>"$WORK/chaos.log" &
PIDS+=($!)
for _ in $(seq 50); do grep -q "^bootstrap" "$WORK/chaos.out" && break; sleep 0.1; done
BROKERS="$(sed -n 's/^bootstrap //p' "$WORK/chaos.out")"
[ -n "$BROKERS" ] || fail "the mock cluster did not start"
MOCK=(-X fetch.wait.max.ms=10)
for d in a b; do
  "$KV" detect --brokers "$BROKERS" "${MOCK[@]}" --model "$MODEL" --threads 1 --infer-threads 1 \
    >"$WORK/detect-$d.log" 2>&1 &
  PIDS+=($!)
done
# The mock keeps 5 MiB per partition: three cameras (on partitions 3, 0 and 1) of 80 small
# frames each stay well inside it, duplicates included.
ingests=()
for cam in lobby gate door; do
  "$KV" ingest --brokers "$BROKERS" --source "$DATA/vtest.avi" --camera "$cam" --max-frames 80 \
    -q 30 --rate 6 --max-lag 0 --no-progress >"$WORK/ingest-$cam.log" 2>&1 &
  ingests+=($!)
  PIDS+=($!)
done
for p in "${ingests[@]}"; do wait "$p" || fail "ingest"; done
for _ in $(seq 60); do grep -q "chaos done" "$WORK/chaos.log" && break; sleep 0.5; done
grep -q "chaos done" "$WORK/chaos.log" || fail "the fault schedule did not finish"
cat "$WORK/chaos.log"
total=""
for _ in $(seq 90); do
  "$KV" audit --brokers "$BROKERS" "${MOCK[@]}" --timeout 20 >"$WORK/audit.out" 2>&1 || true
  total="$(grep '^TOTAL' "$WORK/audit.out" || true)"
  [[ "$total" =~ in=240\ .*missing=0 ]] && break
  sleep 1
done
cat "$WORK/audit.out"
echo "FAULT mock-cluster alo: $total"
[[ "$total" =~ in=240\ .*missing=0 ]] || fail "frames missing after broker faults: $total"
echo "PASS"
