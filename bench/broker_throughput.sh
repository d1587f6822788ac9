#!/usr/bin/env bash
# Produce and consume throughput of 100 KB records through kcat, side by side: the mock
# engine, the durable engine, a single-node Apache Kafka (scripts/kafka-cluster.sh), and a
# plain loopback TCP copy of the same bytes (the limit). Then, with a model, the pipeline's fps
# on kvision's broker and on Kafka: PIPELINE_FRAMES (default 300) frames of vtest.avi ingested
# as a backlog, drained by one `kvision detect`; fps from the first to the last result's
# timestamp, so start-up and model loading are not counted.
# Small rounds: the mock keeps 5 MiB per partition, so each round moves 160 records (16 MB),
# 40 to each of 4 partitions, produced by 4 kcat processes at once and consumed by one. At this
# volume the consume figure is dominated by kcat start-up and end-of-partition detection.
# Then a backlog of BACKLOG_MB (default 2000) on the durable engine only: produced the same
# way, consumed by one kcat, with the broker's resident memory (peak and at the end).
#   bench/broker_throughput.sh [build/src/app/kvision] [rounds] [backlog MB]
# KV_SHARED_DIR (default ../shared) and KV_DATA_DIR (default .data) locate the model and video.
set -euo pipefail
KV="${1:-build/src/app/kvision}"
ROUNDS="${2:-5}"
BACKLOG_MB="${3:-2000}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; "$ROOT/scripts/kafka-cluster.sh" stop --dir "$WORK/kafka" --kill >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
N=160
SIZE=100000
python3 -c "
import os, sys
with open('$WORK/records', 'wb') as f:
    for i in range($N):
        f.write(os.urandom($SIZE // 2).hex().encode()[:$SIZE] + b'\n')
"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
rate() { python3 -c "print(f'{$N*$SIZE/1e6/($2-$1):8.1f} MB/s {$N/($2-$1):8.0f} rec/s')"; }

measure() {  # measure NAME BROKERS
  local b="$2" p0 p1 c0 c1 produce=0 consume=0
  for r in $(seq "$ROUNDS"); do
    # The topic exists before the clock starts (Kafka creates it on first use, taking a moment).
    kcat -b "$b" -L -t bench$r >/dev/null 2>&1 || true
    for _ in $(seq 50); do
      [ "$(kcat -b "$b" -L -t bench$r 2>/dev/null | grep -c 'partition [0-9]*, leader [0-9]')" -ge 4 ] && break
      sleep 0.1
    done
    p0=$(now)
    for part in 0 1 2 3; do
      head -n $((N / 4)) "$WORK/records" | kcat -b "$b" -P -t bench$r -p $part -X acks=all -X linger.ms=5 &
    done
    wait $(jobs -p | tail -n 4)
    p1=$(now)
    c0=$(now)
    got=$(kcat -b "$b" -C -t bench$r -o beginning -e -q -X fetch.message.max.bytes=16777216 -f '%S\n' | wc -l)
    c1=$(now)
    [ "$got" -eq "$N" ] || echo "$1: round $r consumed $got of $N records" >&2
    produce=$(python3 -c "print($produce + $p1 - $p0)"); consume=$(python3 -c "print($consume + $c1 - $c0)")
  done
  printf '%-10s produce %s   consume %s\n' "$1" "$(rate 0 "$(python3 -c "print($produce/$ROUNDS)")")" \
    "$(rate 0 "$(python3 -c "print($consume/$ROUNDS)")")"
}

port=$(free_port)
"$KV" broker --engine mock --port "$port" --partitions 4 >"$WORK/mock.log" 2>&1 &
sleep 1
measure mock "127.0.0.1:$port"
port=$(free_port)
"$KV" broker --engine durable --data-dir "$WORK/data" --port "$port" --partitions 4 >"$WORK/durable.log" 2>&1 &
DURABLE_PID=$!
sleep 1
measure durable "127.0.0.1:$port"
KAFKA_BROKERS=""
if command -v java >/dev/null && "$ROOT/scripts/kafka-cluster.sh" start --nodes 1 --dir "$WORK/kafka" \
  --port-base "${KV_KAFKA_PORT_BASE:-19492}" >"$WORK/kafka.log" 2>&1; then
  KAFKA_BROKERS="$(tail -n 1 "$WORK/kafka.log")"
  measure kafka "$KAFKA_BROKERS"
else
  echo "kafka      skipped: $(tail -n 1 "$WORK/kafka.log" 2>/dev/null || echo 'no java')"
fi

# The backlog: 4 producers, each repeating the record file, then one consumer reading it all.
reps=$(( (BACKLOG_MB * 1000000 / (N * SIZE) + 3) / 4 ))
total=$(( reps * 4 * N ))
b="127.0.0.1:$port"
p0=$(now)
for part in 0 1 2 3; do
  for _ in $(seq "$reps"); do cat "$WORK/records"; done |
    kcat -b "$b" -P -t backlog -p $part -X acks=all -X linger.ms=5 &
done
wait $(jobs -p | tail -n 4)
p1=$(now)
rss() { awk -v k="$1" '$1 == k":" {printf "%.0f MB", $2 / 1024}' "/proc/$DURABLE_PID/status"; }
after_produce="$(rss VmRSS)"
c0=$(now)
got=$(kcat -b "$b" -C -t backlog -o beginning -e -q -X fetch.message.max.bytes=16777216 -f '%S\n' | wc -l)
c1=$(now)
[ "$got" -eq "$total" ] || echo "backlog: consumed $got of $total records" >&2
python3 -c "
mb = $total * $SIZE / 1e6
print(f'backlog    {mb:.0f} MB ({$total} records) on the durable engine:')
print(f'           produce {mb / ($p1 - $p0):8.1f} MB/s {$total / ($p1 - $p0):8.0f} rec/s')
print(f'           consume {mb / ($c1 - $c0):8.1f} MB/s {$total / ($c1 - $c0):8.0f} rec/s')"
echo "           broker memory: resident $after_produce after producing, $(rss VmRSS) after consuming, peak $(rss VmHWM)"
echo "           on disk: $(du -sm "$WORK/data" | cut -f1) MB"
python3 - "$WORK/records" "$N" "$SIZE" <<'PY'
import socket, sys, threading, time
data = open(sys.argv[1], "rb").read()
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
def sink():
    c, _ = srv.accept(); n = 0
    while True:
        b = c.recv(1 << 20)
        if not b: break
        n += len(b)
t = threading.Thread(target=sink); t.start()
s = socket.create_connection(srv.getsockname()); t0 = time.time(); s.sendall(data); s.close(); t.join(); dt = time.time() - t0
n = int(sys.argv[2]); size = int(sys.argv[3])
print(f"{'loopback':<10} copy    {n*size/1e6/dt:8.1f} MB/s {n/dt:8.0f} rec/s")
PY

# The pipeline on each broker: a backlog of frames drained by one detector.
SHARED="${KV_SHARED_DIR:-$ROOT/../shared}"
VIDEO="${KV_DATA_DIR:-$ROOT/.data}/vtest.avi"
FRAMES="${PIPELINE_FRAMES:-300}"
if [ ! -f "$SHARED/models/yolox_nano/yolox_nano.onnx" ] || [ ! -f "$VIDEO" ]; then
  echo "pipeline   skipped: no model in $SHARED/models or no $VIDEO"
  exit 0
fi
MODEL="$WORK/yolox_nano.json"
printf '{"family": "yolox", "weights": "%s", "input": [416, 416]}\n' "$SHARED/models/yolox_nano/yolox_nano.onnx" >"$MODEL"
pipeline() {  # NAME BROKERS
  "$KV" ingest --brokers "$2" --source "$VIDEO" --camera bench --max-frames "$FRAMES" --max-lag 0 \
    --no-progress >"$WORK/ingest-$1.log" 2>&1 || { echo "pipeline   $1: ingest failed"; return; }
  "$KV" detect --brokers "$2" --model "$MODEL" --group "bench-$1" >"$WORK/detect-$1.log" 2>&1 &
  local det=$! n=0 n0=0 t0="" t1=""
  # Results counted as they arrive: from the first poll that sees one to the one that sees all.
  for _ in $(seq 2400); do
    # End offsets (one ListOffsets request): record timestamps are capture times, no help here.
    n=$(kcat -b "$2" -Q -t detections:0:-1 -t detections:1:-1 -t detections:2:-1 -t detections:3:-1 \
      2>/dev/null | awk '{n += $4} END {print n + 0}' || true)  # no topic yet: 0
    if [ -z "$t0" ] && [ "$n" -gt 0 ]; then t0=$(now); n0=$n; fi
    if [ "$n" -ge "$FRAMES" ]; then t1=$(now); break; fi
    sleep 0.1
  done
  kill -TERM "$det"; wait "$det" 2>/dev/null || true
  if [ -z "$t1" ]; then echo "pipeline   $1: only $n of $FRAMES results"; return; fi
  python3 -c "print(f'pipeline   {\"$1\":<8} {($FRAMES - $n0) / ($t1 - $t0):6.1f} fps ({$FRAMES} frames from a backlog, one detector, all cores)')"
}
"$KV" broker --engine durable --data-dir "$WORK/pipe-data" --port "$(free_port)" --partitions 4 >"$WORK/pipe-broker.log" 2>&1 &
sleep 1
pipeline durable "$(sed -n 's/.*listening on \([0-9.:]*\).*/\1/p' "$WORK/pipe-broker.log" | head -n 1)"
[ -n "$KAFKA_BROKERS" ] && pipeline kafka "$KAFKA_BROKERS"
