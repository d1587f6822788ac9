#!/usr/bin/env bash
# The whole pipeline as separate processes on a real 3-node Apache Kafka cluster (KRaft,
# scripts/kafka-cluster.sh), topics created by kvision with replication factor 3 and
# min.insync.replicas 2: ingest (idempotent, acks=all), two detectors, store and web, on 320
# frames of vtest.avi. Mid-run the broker that leads the partition being read is stopped:
#   CLUSTER_FAULT=kill  SIGKILL, then started again
#   CLUSTER_FAULT=term  SIGTERM (a controlled shutdown that hands leadership over), then started
# FAULT_MODE=alo (at-least-once: 0 missing) or eos (--exactly-once: 0 missing, 0 duplicates
# among committed records). kvision status must report the under-replicated partitions while
# the broker is down, and OK once it is back. The audit's TOTAL line is printed for
# docs/delivery.md.
source "$(dirname "$0")/lib.sh"
fault="${CLUSTER_FAULT:?}"
mode="${FAULT_MODE:-alo}"
FRAMES=320
require_file "$MODEL_ONNX"
require_file "$DATA/vtest.avi"
start_kafka 3

EOS_FLAGS=()
AUDIT_FLAGS=()
if [ "$mode" = eos ]; then
  EOS_FLAGS=(--exactly-once --transaction-interval-ms 200)
  AUDIT_FLAGS=(--committed)
fi
# Explicit, though they are the defaults on three brokers: what the test is about.
TOPIC_FLAGS=(--replication-factor 3 --min-insync-replicas 2)

start_detector() { # NAME
  local txn=()
  [ "$mode" = eos ] && txn=(--transactional-id "detect-$1")
  "$KV" detect --brokers "$BROKERS" --model "$MODEL" --threads 1 --infer-threads 1 \
    "${TOPIC_FLAGS[@]}" "${EOS_FLAGS[@]}" "${txn[@]}" >>"$WORK/detect-$1.log" 2>&1 &
  PIDS+=($!)
}
start_detector a
start_detector b
for d in a b; do
  for _ in $(seq 300); do grep -q "assigned [1-9]" "$WORK/detect-$d.log" && break; sleep 0.1; done
  grep -q "assigned [1-9]" "$WORK/detect-$d.log" || fail "detector $d got no partitions"
done
"$KV" store --brokers "$BROKERS" --db "$WORK/store.db" >"$WORK/store.log" 2>&1 &
PIDS+=($!)
WEB_PORT="$(free_port)"
"$KV" web --brokers "$BROKERS" --listen "127.0.0.1:$WEB_PORT" --db "$WORK/store.db" >"$WORK/web.log" 2>&1 &
PIDS+=($!)

"$KV" ingest --brokers "$BROKERS" --source "$DATA/vtest.avi" --camera lobby --max-frames "$FRAMES" \
  --rate 25 --max-lag 0 --no-progress "${TOPIC_FLAGS[@]}" -X acks=all -X enable.idempotence=true \
  >"$WORK/ingest.log" 2>&1 &
INGEST=$!
PIDS+=($INGEST)

# The topics as kvision created them.
kcat -b "$BROKERS" -L -t raw_video_frames >"$WORK/md.txt" 2>/dev/null || true
for _ in $(seq 100); do
  grep -q "partition 0, leader" "$WORK/md.txt" && break
  sleep 0.1
  kcat -b "$BROKERS" -L -t raw_video_frames >"$WORK/md.txt" 2>/dev/null || true
done
grep -Eq "partition 0, leader [0-9]+, replicas: [0-9]+,[0-9]+,[0-9]+," "$WORK/md.txt" ||
  fail "raw_video_frames does not have 3 replicas: $(cat "$WORK/md.txt")"
/usr/bin/python3 "$SRC/tests/clients/topic_config.py" "$BROKERS" raw_video_frames min.insync.replicas >"$WORK/isr.txt" 2>&1 ||
  fail "cannot read the topic's config: $(cat "$WORK/isr.txt")"
[ "$(cat "$WORK/isr.txt")" = 2 ] || fail "raw_video_frames has min.insync.replicas $(cat "$WORK/isr.txt"), not 2"

sleep 4
# The broker that leads the partition being read (the camera's partition of raw_video_frames).
part="$(kcat -b "$BROKERS" -C -t raw_video_frames -o beginning -c 1 -e -q -f '%p\n')"
leader="$(sed -n "s/^ *partition $part, leader \([0-9]*\),.*/\1/p" "$WORK/md.txt")"
[ -n "$leader" ] || fail "no leader for raw_video_frames[$part]"
if [ "$fault" = kill ]; then
  kafka_cluster stop --node "$leader" --kill
else
  kafka_cluster stop --node "$leader"
fi
echo "stopped broker $leader (SIG${fault^^}), the leader of raw_video_frames[$part], mid-run"

# While it is down, kvision status names the under-replicated partitions.
seen=""
for _ in $(seq 20); do
  rc=0
  "$KV" status --brokers "$BROKERS" --interval 0.5 --timeout-ms 3000 >"$WORK/status-down.txt" 2>&1 || rc=$?
  if [ "$rc" -eq 5 ] && grep -q "UNDER-REPLICATED" "$WORK/status-down.txt"; then
    seen=1
    break
  fi
  sleep 1
done
[ -n "$seen" ] || fail "kvision status did not report under-replication: $(tail -n 30 "$WORK/status-down.txt")"
echo "status while broker $leader is down: $(grep -c 'UNDER-REPLICATED' "$WORK/status-down.txt") partition(s) UNDER-REPLICATED, $(grep '^VERDICT' "$WORK/status-down.txt")"
sleep 3
kafka_cluster start --node "$leader" >"$WORK/restart.log" 2>&1 || fail "broker $leader did not restart: $(cat "$WORK/restart.log")"
echo "broker $leader started again"

wait "$INGEST" || fail "ingest did not survive the broker's failure"
grep -q "$FRAMES frames published" "$WORK/ingest.log" || fail "ingest did not publish $FRAMES frames"

total=""
for _ in $(seq 180); do
  "$KV" audit --brokers "$BROKERS" "${AUDIT_FLAGS[@]}" --timeout 20 >"$WORK/audit.out" 2>"$WORK/audit.err" || true
  total="$(grep '^TOTAL' "$WORK/audit.out" || true)"
  if [[ "$total" =~ in=([0-9]+).*missing=0 ]] && [ "${BASH_REMATCH[1]}" -ge "$FRAMES" ]; then break; fi
  sleep 1
done
cat "$WORK/audit.out"
echo "CLUSTER $fault $mode: $total"
[[ "$total" =~ in=$FRAMES\  ]] || fail "raw_video_frames does not hold exactly $FRAMES frames: $total"
[[ "$total" =~ missing=0 ]] || fail "frames missing after the broker failure: $total"
if [ "$mode" = eos ]; then
  [[ "$total" =~ duplicates=0 ]] || fail "duplicates among committed records: $total"
fi

# Every replica back in sync and every group keeping up: OK.
ok=""
for _ in $(seq 60); do
  if "$KV" status --brokers "$BROKERS" --interval 1 >"$WORK/status-up.txt" 2>&1; then ok=1; break; fi
  sleep 1
done
[ -n "$ok" ] || fail "kvision status not OK after the broker came back: $(tail -n 30 "$WORK/status-up.txt")"
! grep -q "UNDER-REPLICATED" "$WORK/status-up.txt" || fail "partitions still under-replicated"
echo "status after the restart: $(grep '^VERDICT' "$WORK/status-up.txt")"

# The subscribers got every frame: store holds each once, web shows the camera.
frames() { /usr/bin/python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from frames").fetchone()[0])' "$WORK/store.db"; }
n=0
for _ in $(seq 60); do
  n="$(frames 2>/dev/null || echo 0)"
  [ "$n" -ge "$FRAMES" ] && break
  sleep 1
done
[ "$n" -eq "$FRAMES" ] || fail "store holds $n frames, expected $FRAMES"
curl -sf "http://127.0.0.1:$WEB_PORT/api/cameras" >"$WORK/cameras.json" || fail "kvision web does not answer"
grep -q '"lobby"' "$WORK/cameras.json" || fail "kvision web does not show camera lobby: $(head -c 300 "$WORK/cameras.json")"
echo "store: $n frames; web: camera lobby shown"
