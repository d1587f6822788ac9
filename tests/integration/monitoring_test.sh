#!/usr/bin/env bash
# Monitoring end to end: every process serves /metrics (promtool accepts each page), a real
# Prometheus server scrapes them and its API returns a non-zero frame rate for the camera and
# a lag series; a deliberately slow detector makes `kvision status` say LAGGING (exit 3) while
# the lag metric rises, and once it is replaced by a normal one both recover (status OK).
source "$(dirname "$0")/lib.sh"
require_file "$MODEL_ONNX"
require_file "$DATA/vtest.avi"
command -v promtool >/dev/null || skip "promtool not installed (Debian package prometheus; scripts/setup.sh installs it)"
command -v prometheus >/dev/null || skip "prometheus not installed"
start_broker durable --metrics "127.0.0.1:$(free_port)"
BROKER_METRICS="$(sed -n 's|.*metrics: http://\([^/]*\)/metrics.*|\1|p' "$WORK/broker.log" | head -n 1)"
[ -n "$BROKER_METRICS" ] || fail "the broker did not report its metrics address"
D1="127.0.0.1:$(free_port)"; D2="127.0.0.1:$(free_port)"; S="127.0.0.1:$(free_port)"; I="127.0.0.1:$(free_port)"
"$KV" detect --brokers "$BROKERS" --model "$MODEL" --threads 1 --infer-threads 1 --delay-ms 400 \
  --metrics "$D1" >"$WORK/detect-slow.log" 2>&1 &
SLOW=$!
PIDS+=($SLOW)
"$KV" sink --brokers "$BROKERS" -o "$WORK/results.jsonl" --metrics "$S" >"$WORK/sink.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -sf "http://$D1/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "http://$D1/readyz" >/dev/null || fail "the detector never became ready"
curl -sf "http://$D1/healthz" | grep -q ok || fail "/healthz"

# Prometheus scraping all four processes every second.
PROM="127.0.0.1:$(free_port)"
cat >"$WORK/prometheus.yml" <<YML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: kvision
    static_configs:
      - targets: ['$BROKER_METRICS', '$D1', '$D2', '$S', '$I']
YML
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address="$PROM" >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)

"$KV" ingest --brokers "$BROKERS" --source "$DATA/vtest.avi" --camera lobby --max-frames 400 \
  --rate 8 --max-lag 0 --no-progress --metrics "$I" >"$WORK/ingest.log" 2>&1 &
PIDS+=($!)

lag() { curl -sf "http://$1/metrics" | awk '/^kvision_consumer_lag\{/ {s += $2} END {print s + 0}'; }
sleep 8
lag1="$(lag "$D1")"
set +e
"$KV" status --brokers "$BROKERS" --interval 3 >"$WORK/status-slow.txt" 2>&1
rc=$?
set -e
cat "$WORK/status-slow.txt"
lag2="$(lag "$D1")"
echo "slow detector: lag metric $lag1 -> $lag2, status exit $rc"
[ "$rc" -eq 3 ] || fail "status should say LAGGING (exit 3), got $rc"
grep -q "^VERDICT LAGGING" "$WORK/status-slow.txt" || fail "no LAGGING verdict"
grep -Eq "^lobby +raw_video_frames" "$WORK/status-slow.txt" || fail "camera lobby not shown"
[ "$lag2" -gt "$lag1" ] || fail "the lag metric did not rise ($lag1 -> $lag2)"
for ep in "$BROKER_METRICS" "$D1" "$S" "$I"; do
  curl -sf "http://$ep/metrics" >"$WORK/page.txt" || fail "no /metrics at $ep"
  promtool check metrics <"$WORK/page.txt" || fail "promtool rejects the /metrics page of $ep"
done

# The delay removed: the slow detector is replaced by a normal one, which catches up.
kill -TERM "$SLOW"
wait "$SLOW" || true
"$KV" detect --brokers "$BROKERS" --model "$MODEL" --threads 2 --metrics "$D2" >"$WORK/detect.log" 2>&1 &
PIDS+=($!)
recovered=""
for _ in $(seq 30); do
  sleep 2
  set +e
  "$KV" status --brokers "$BROKERS" --interval 2 >"$WORK/status-ok.txt" 2>&1
  rc=$?
  set -e
  if [ "$rc" -eq 0 ]; then recovered=1; break; fi
done
cat "$WORK/status-ok.txt"
[ -n "$recovered" ] || fail "status never went back to OK"
lag3="$(lag "$D2")"
echo "normal detector: lag metric $lag3, status OK"
[ "$lag3" -lt "$lag2" ] || fail "the lag metric did not fall ($lag2 -> $lag3)"
"$KV" status --brokers "$BROKERS" --json --interval 1 >"$WORK/status.json" || true
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["groups"] and j["topics"], j' "$WORK/status.json" \
  || fail "status --json is not the expected JSON"

# Prometheus saw the frames flowing and the lag.
query() { curl -sf --get "http://$PROM/api/v1/query" --data-urlencode "query=$1"; }
rate="$(query 'sum(rate(kvision_frames_total{stage="ingest",camera="lobby"}[15s]))' |
  python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)')"
lagseries="$(query 'kvision_consumer_lag{group="kvision-detect"}' |
  python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]["result"]))')"
echo "prometheus: ingest frame rate $rate/s, $lagseries lag series"
python3 -c "import sys; sys.exit(0 if float('$rate') > 0 else 1)" || fail "Prometheus shows no frame rate"
[ "$lagseries" -gt 0 ] || fail "Prometheus has no lag series"
echo "PASS"
