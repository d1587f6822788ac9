#!/usr/bin/env bash
# The live demo: the broker, a detector, alerts, storage and the live view as separate
# processes, with vtest.avi played as a live camera (10 fps, looped). Open the printed address.
# Ctrl-C stops everything. KV_WEB (default 127.0.0.1:8080) sets where the page is served.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
kv="$root/build/src/app/kvision"
models="${KV_MODELS_DIR:-$root/../shared/models}"
work="$(mktemp -d)"
# Each process runs in a session of its own (setsid): Ctrl-C reaches only this script, which
# then stops the clients first (they commit and leave their groups) and the broker last.
pids=()  # the broker first, then its clients
stop_all() {
  trap - EXIT INT TERM
  echo "live: stopping"
  [ -n "${loop:-}" ] && { kill "$loop" 2>/dev/null; pkill -TERM -f "ingest --brokers $brokers" 2>/dev/null; }
  kill -TERM "${pids[@]:1}" 2>/dev/null || true  # clients first: they commit and leave the groups
  wait "${pids[@]:1}" 2>/dev/null || true
  kill -TERM "${pids[0]}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap stop_all EXIT INT TERM
model=()
if [ -f "$models/yolox_nano/yolox_nano.onnx" ]; then
  model=(--model "$models/yolox_nano/yolox_nano.onnx" --family yolox --input-size 416)
fi
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
brokers="127.0.0.1:$port"
cat >"$work/rules.conf" <<'RULES'
# someone on the near pavement for 3 frames running, at most once every 30 s
[person-near]
labels    = person
units     = normalised
zone      = 0,0.6 1,0.6 1,1 0,1
when      = present for 3 frames
cooldown  = 30s

# someone walking across the middle of the scene, downwards
[crossing-down]
labels = person
units  = normalised
when   = crosses 0,0.55 1,0.55 down
cooldown = 5s
RULES
setsid "$kv" broker --data-dir "$work/data" --port "$port" >"$work/broker.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q "listening on" "$work/broker.log" && break; sleep 0.1; done
setsid "$kv" detect --brokers "$brokers" "${model[@]}" >"$work/detect.log" 2>&1 &
pids+=($!)
setsid "$kv" alert --brokers "$brokers" --rules "$work/rules.conf" >"$work/alert.log" 2>&1 &
pids+=($!)
setsid "$kv" store --brokers "$brokers" --db "$work/detections.db" >"$work/store.log" 2>&1 &
pids+=($!)
setsid "$kv" web --brokers "$brokers" --listen "${KV_WEB:-127.0.0.1:8080}" --db "$work/detections.db" &
pids+=($!)
echo "live: logs and the database in $work; Ctrl-C stops"
(
  while true; do
    setsid "$kv" ingest --brokers "$brokers" --source "${KV_DATA_DIR:-$root/.data}/vtest.avi" --camera lobby \
      --realtime --no-progress >>"$work/ingest.log" 2>&1 || break
  done
) &
loop=$!
wait "$loop"
