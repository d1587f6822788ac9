#!/usr/bin/env bash
# Many cameras in one ingest process (kvision ingest --cameras), against a real RTSP server
# (GStreamer's gst-rtsp-server serving vtest.avi as H.264):
#   1. frames flow from an RTSP camera while another camera's address never answers;
#   2. the RTSP server stops and comes back: the camera goes RECONNECTING, then UP, frames
#      resume, and the gap shows in kvision status and in the sequence numbers;
#   3. the cameras file changes at runtime (SIGHUP): a camera is added, one removed, the
#      unchanged one keeps streaming untouched; a broken file changes nothing;
#   4. the health is in Prometheus metrics and kvision status; a password never shows.
source "$(dirname "$0")/lib.sh"
require_file "$DATA/vtest.avi"
/usr/bin/python3 -c 'import gi; gi.require_version("GstRtspServer", "1.0")' 2>/dev/null ||
  skip "GStreamer's RTSP server for Python is not installed (run scripts/setup.sh)"
start_broker

RTSP_PORT="$(free_port)"
start_rtsp() {
  : >"$WORK/rtsp.log"
  /usr/bin/python3 "$SRC/tests/integration/rtsp_server.py" --port "$RTSP_PORT" --video "$DATA/vtest.avi" \
    --mounts north,south >>"$WORK/rtsp.log" 2>&1 &
  RTSP_PID=$!
  PIDS+=($RTSP_PID)
  for _ in $(seq 100); do grep -q ready "$WORK/rtsp.log" && return 0; sleep 0.1; done
  fail "the RTSP server did not start"
}
start_rtsp

# A camera address that accepts connections and never says a word.
SILENT_PORT="$(free_port)"
/usr/bin/python3 - "$SILENT_PORT" <<'PY' >"$WORK/silent.log" 2>&1 &
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
print("listening", flush=True)
held = []
while True:
    conn, _ = s.accept(); held.append(conn)
PY
PIDS+=($!)

# Both versions of the cameras file start with the same defaults and the same north camera.
NORTH="defaults:
  fps: 5
  timeout_ms: 5000
cameras:
  - id: north
    source: rtsp://viewer:s3cret@127.0.0.1:$RTSP_PORT/north"
cat >"$WORK/cameras.yaml" <<EOF
$NORTH
  - id: silent
    source: rtsp://127.0.0.1:$SILENT_PORT/live
    reconnect: 1
EOF
METRICS_PORT="$(free_port)"
"$KV" ingest --brokers "$BROKERS" --cameras "$WORK/cameras.yaml" --metrics "127.0.0.1:$METRICS_PORT" \
  >"$WORK/ingest.log" 2>&1 &
INGEST=$!
PIDS+=($INGEST)

# Records of a camera: only once nothing more is published (kcat -e never sees the end of a
# partition that grows all the time).
records_of() { kcat -b "$BROKERS" -C -t raw_video_frames -o beginning -e -q -f '%k\n' 2>/dev/null | grep -c "^$1$" || true; }
# health CAMERA FIELD: a field of the camera's newest health, as kvision status --json reports it
health() {
  "$KV" status --brokers "$BROKERS" --json --interval 0.2 2>/dev/null | /usr/bin/python3 -c '
import json, sys
j = json.load(sys.stdin)
for c in j.get("camera_health", []):
    if c["camera"] == sys.argv[1]:
        print(c[sys.argv[2]]); break
else:
    print("-")' "$1" "$2"
}
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...: until the command succeeds
  local until=$((SECONDS + $1)) what="$2"
  shift 2
  while [ "$SECONDS" -lt "$until" ]; do "$@" && return 0; sleep 0.25; done
  fail "timed out after $1 s waiting for: $what"
}
# frames_of CAMERA: frames published so far, from the ingest's Prometheus counter
frames_of() {
  curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" |
    awk -v want="kvision_frames_total{stage=\"ingest\",camera=\"$1\"}" '$1 == want {n = int($2)} END {print n + 0}'
}
at_least() { [ "$(frames_of "$1")" -ge "$2" ]; }
state_is() { [ "$(health "$1" state)" = "$2" ]; }

# 1. Frames flow from the RTSP camera; the silent one is reported, and does not hold it up.
wait_for 30 "20 frames from north" at_least north 20
n0=$(frames_of north)
sleep 6
n1=$(frames_of north)
rate=$(/usr/bin/python3 -c "print(round(($n1 - $n0) / 6, 1))")
/usr/bin/python3 -c "import sys; sys.exit(0 if $rate >= 3.5 else 1)" ||
  fail "north published $rate frames/s at fps 5 while the silent camera retried"
wait_for 20 "the silent camera DOWN" state_is silent DOWN
reason="$(health silent reason)"
[[ "$reason" == *"cannot open"* ]] || fail "the silent camera's reason is '$reason'"
grep -q "s3cret" "$WORK/ingest.log" && fail "the camera password appears in the log"
"$KV" status --brokers "$BROKERS" --interval 0.2 >"$WORK/status.txt" 2>&1 || true
grep -q "s3cret" "$WORK/status.txt" && fail "the camera password appears in kvision status"
grep -Eq "^north +UP " "$WORK/status.txt" || fail "kvision status does not show north UP: $(cat "$WORK/status.txt")"
echo "ok: north at $rate frames/s; silent is DOWN: $reason"

# 2. The server goes away and comes back.
kill "$RTSP_PID"
wait "$RTSP_PID" 2>/dev/null || true
wait_for 20 "north RECONNECTING" state_is north RECONNECTING
before_gap=$(frames_of north)
sleep 5
start_rtsp
wait_for 40 "north UP again" state_is north UP
wait_for 30 "frames after the reconnect" at_least north $((before_gap + 10))
reconnected() { [ "$(health north reconnects)" -ge 1 ]; }
wait_for 10 "north's reconnect counted" reconnected
grep -q "camera 'north' lost .* sequence numbers skip" "$WORK/ingest.log" || fail "the gap was not logged"
"$KV" status --brokers "$BROKERS" --interval 0.2 >"$WORK/status.txt" 2>&1 || true
grep -Eq "^north +UP .* [1-9][0-9]* +connected" "$WORK/status.txt" ||
  fail "kvision status does not show north UP with its reconnects: $(grep '^north' "$WORK/status.txt")"
echo "ok: north went RECONNECTING and came back UP; $(grep "camera 'north' lost" "$WORK/ingest.log" | sed 's/.*WARN  //')"

# 3. Changes at runtime: add a file camera, remove the silent one; north is left alone.
north_reconnects=$(health north reconnects)
cat >"$WORK/cameras.new" <<EOF
$NORTH
  - id: clip
    source: $DATA/vtest.avi
    max_frames: 30
EOF
mv "$WORK/cameras.new" "$WORK/cameras.yaml"
kill -HUP "$INGEST"
wait_for 20 "the reload" grep -q "reloaded: added clip; removed silent; restarted -; unchanged north" "$WORK/ingest.log"
wait_for 30 "clip FINISHED" state_is clip FINISHED
[ "$(frames_of clip)" -eq 30 ] || fail "the added camera published $(frames_of clip) of its 30 frames"
[ "$(health silent state)" = "-" ] || fail "the removed camera is still shown"
after_reload=$(frames_of north)
sleep 2
[ "$(frames_of north)" -gt "$after_reload" ] || fail "north stopped streaming after the reload"
[ "$(health north reconnects)" = "$north_reconnects" ] || fail "north was reconnected by the reload"
sed -n '/reloaded: added clip/,$p' "$WORK/ingest.log" | grep -q "camera 'north' is" &&
  fail "north changed state during the reload"
# A file that does not parse changes nothing and names its line.
printf 'cameras:\n  - id: north\n    fsp: 5\n' >"$WORK/cameras.yaml"
kill -HUP "$INGEST"
wait_for 20 "the bad file reported" grep -q "cameras not changed: .*cameras.yaml:3: unknown key 'fsp'" "$WORK/ingest.log"
after_bad=$(frames_of north)
sleep 2
[ "$(frames_of north)" -gt "$after_bad" ] || fail "a broken cameras file stopped north"
echo "ok: reload added clip (30 frames), removed silent, left north streaming; a broken file was refused"

# 4. Metrics.
curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" >"$WORK/metrics.txt" || fail "no /metrics"
grep -q 'kvision_camera_state{camera="north",state="UP"} 1' "$WORK/metrics.txt" || fail "no UP state for north in the metrics"
grep -q 'kvision_camera_state{camera="clip",state="FINISHED"} 1' "$WORK/metrics.txt" || fail "clip is not FINISHED in the metrics"
grep -q 'kvision_camera_reconnects{camera="north"} [1-9]' "$WORK/metrics.txt" || fail "north's reconnects are not in the metrics"
grep -q 'camera="silent"' "$WORK/metrics.txt" && fail "the removed camera is still in the metrics"
last="$(grep '^kvision_camera_last_frame_timestamp_seconds{camera="north"}' "$WORK/metrics.txt" | awk '{print $2}')"
/usr/bin/python3 -c "import sys, time; sys.exit(0 if time.time() - float('$last') < 10 else 1)" ||
  fail "north's last frame time in the metrics is stale: $last"
echo "ok: camera health in the metrics"

kill -INT "$INGEST"
wait "$INGEST" || fail "ingest --cameras exited $? on SIGINT"
echo "ok: ingest --cameras stopped cleanly"

# The records: the outage is a gap in north's sequence numbers; the silent camera sent none.
[ "$(records_of silent)" -eq 0 ] || fail "the silent camera published frames"
[ "$(records_of clip)" -eq 30 ] || fail "clip has $(records_of clip) records, not 30"
seqs="$(kcat -b "$BROKERS" -C -t raw_video_frames -o beginning -e -q -f '%k %h\n' | grep '^north ' |
  grep -o 'kv.seq=[0-9]*' | cut -d= -f2)"
gap="$(/usr/bin/python3 -c '
import sys
s = [int(x) for x in sys.argv[1].split()]
assert s == sorted(s), "sequence numbers out of order"
print(max(b - a for a, b in zip(s, s[1:])))' "$seqs")" || fail "north's sequence numbers: $gap"
[ "$gap" -ge 20 ] || fail "the outage left no gap in the sequence numbers (largest step $gap)"
echo "ok: north's sequence numbers skip $((gap - 1)) across the outage"
