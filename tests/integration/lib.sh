# Helpers for the integration scripts: a broker on a free port, processes that are cleaned up.
set -euo pipefail
KV="$1"
CHECK="$2"
SRC="${KV_SOURCE_DIR:?}"
DATA="${KV_DATA_DIR:-$SRC/.data}"
SHARED="${KV_SHARED_DIR:-$SRC/../shared}"
MODEL_ONNX="$SHARED/models/yolox_nano/yolox_nano.onnx"
WORK="$(mktemp -d)"
PIDS=()
CLEANUP_HOOKS=()  # commands run after the processes are gone (e.g. stopping a Kafka cluster)
cleanup() {
  # Clients first, the broker (started first) last; anything still running after 20 s is killed.
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill "${PIDS[i]}" 2>/dev/null || true; done
  for _ in $(seq 200); do
    local alive=0
    for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.1
  done
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  local h
  for h in "${CLEANUP_HOOKS[@]}"; do eval "$h" || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# The model as kvision takes it: a sidecar naming its family and input size (written here so
# that KV_SHARED_DIR is honoured; models/yolox_nano.json is the same for the default layout).
MODEL="$WORK/yolox_nano.json"
if [ -f "$MODEL_ONNX" ]; then
  printf '{"family": "yolox", "weights": "%s", "input": [416, 416]}\n' "$MODEL_ONNX" >"$MODEL"
fi

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; for f in "$WORK"/*.log; do echo "--- $f"; tail -n 20 "$f"; done; exit 1; }
# require_chromium: Debian's Chromium and playwright-core for the browser checks (exports
# CHROMIUM and KV_NODE_MODULES), or a skip saying what is missing
require_chromium() {
  CHROMIUM="${CHROMIUM:-$(command -v chromium || true)}"
  [ -x "$CHROMIUM" ] || skip "no chromium (scripts/setup.sh installs it)"
  export CHROMIUM KV_NODE_MODULES="$SRC/tests/clients/node_modules"
  [ -f "$KV_NODE_MODULES/playwright-core/package.json" ] || skip "no playwright-core (scripts/setup.sh)"
}
require_file() { [ -f "$1" ] || skip "missing $1 (run scripts/fetch_samples.sh, or set KV_DATA_DIR / KV_SHARED_DIR)"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_broker [ENGINE [FLAGS...]]: the embedded broker (durable by default, data in $WORK/data)
# on a free port; sets BROKERS
#
# With KV_TEST_BROKER=kafka the same tests run against a single-node Apache Kafka instead (the
# engine and its flags are then ignored), with kvision's four topics created as our broker has
# them: the client tests hold our broker to Kafka's behaviour that way.
start_broker() {
  if [ "${KV_TEST_BROKER:-}" = kafka ]; then
    start_kafka 1 --set log.retention.check.interval.ms=200
    /usr/bin/python3 - "$BROKERS" <<'PY' || fail "could not create kvision's topics on Kafka"
import sys
from kafka.admin import KafkaAdminClient, NewTopic
admin = KafkaAdminClient(bootstrap_servers=sys.argv[1])
admin.create_topics([NewTopic(t, 4, 1) for t in
                     ("raw_video_frames", "processed_images", "detections", "alerts")])
PY
    return 0
  fi
  local engine="${1:-durable}"
  shift || true
  BROKER_PORT="${BROKER_PORT:-$(free_port)}"
  : >"$WORK/broker.log"
  "$KV" broker --engine "$engine" --data-dir "$WORK/data" --port "$BROKER_PORT" --partitions 4 "$@" \
    >>"$WORK/broker.log" 2>&1 &
  BROKER_PID=$!
  PIDS+=($BROKER_PID)
  for _ in $(seq 100); do
    grep -q "listening on" "$WORK/broker.log" && break
    sleep 0.1
  done
  grep -q "listening on 127.0.0.1:$BROKER_PORT" "$WORK/broker.log" || fail "broker did not start"
  BROKERS="127.0.0.1:$BROKER_PORT"
}

# count_records TOPIC: records currently in the topic, counted by kcat (0 for a missing topic)
count_records() {
  { kcat -b "$BROKERS" -C -t "$1" -o beginning -e -q -f '.\n' 2>/dev/null || true; } | wc -l
}

# wait_records TOPIC N TIMEOUT_S
wait_records() {
  local n=0
  for _ in $(seq $(( $3 * 2 ))); do
    n="$(count_records "$1")"
    [ "$n" -ge "$2" ] && return 0
    sleep 0.5
  done
  fail "$1 has $n records, expected $2"
}

# pick_kafka_base: sets KAFKA_BASE, a free base port for start_kafka (node i listens on
# KAFKA_BASE + 100*(i-1) and the port above; KAFKA_BASE + 2 is free for an extra listener).
pick_kafka_base() {
  KAFKA_BASE="$(/usr/bin/python3 - <<'PY'
import random, socket
def free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); return True
    except OSError:
        return False
    finally:
        s.close()
for _ in range(200):
    b = random.randrange(20000, 32000)
    if all(free(b + d) for d in (0, 1, 2, 100, 101, 200, 201)):
        print(b); break
PY
)"
}

# start_kafka NODES [--set key=value...]: a real Apache Kafka cluster (scripts/kafka-cluster.sh) of 1 or 3 KRaft
# nodes in $WORK/kafka on free ports, stopped at exit; sets BROKERS and KAFKA_DIR. Skips when
# Java or the Kafka jars are missing (scripts/setup.sh installs both).
kafka_cluster() { "$SRC/scripts/kafka-cluster.sh" "$@" --dir "$KAFKA_DIR"; }
start_kafka() {
  command -v java >/dev/null || skip "Java is missing (run scripts/setup.sh)"
  "$SRC/scripts/kafka-cluster.sh" fetch >/dev/null 2>&1 || skip "the Apache Kafka jars cannot be resolved (run scripts/setup.sh)"
  KAFKA_DIR="$WORK/kafka"
  [ -n "${KAFKA_BASE:-}" ] || pick_kafka_base
  local base="$KAFKA_BASE"
  [ -n "$base" ] || fail "no free ports for the Kafka cluster"
  CLEANUP_HOOKS+=("kafka_cluster stop --kill >/dev/null 2>&1")
  local nodes="$1"
  shift
  kafka_cluster start --nodes "$nodes" --port-base "$base" "$@" >"$WORK/kafka-start.log" 2>&1 ||
    { cat "$WORK/kafka-start.log"; tail -n 40 "$KAFKA_DIR"/node*/server.log; fail "the Kafka cluster did not start"; }
  BROKERS="$(tail -n 1 "$WORK/kafka-start.log")"
  echo "Apache Kafka: $nodes node(s) at $BROKERS"
}
