#!/usr/bin/env bash
# kvision web in real headless Chromium (Debian's, driven by playwright-core): vtest.avi runs
# as two live cameras (10 fps each) through ingest, detect and alert; the page must show the camera with boxes
# drawn, a person count that changes, the groups' health, a third camera that is DOWN, and the alert with its clip (played
# in the page, checked against ffprobe); the large view shows
# the history. Screenshots are kept in build/artifacts. Also checks /api/query against
# kvision query on the same database.
source "$(dirname "$0")/lib.sh"
require_file "$MODEL_ONNX"
require_file "$DATA/vtest.avi"
require_chromium
ARTIFACTS="${KV_ARTIFACT_DIR:-$SRC/build/artifacts}"
mkdir -p "$ARTIFACTS"

start_broker
printf '[lower-person]\nlabels = person\nunits = normalised\nzone = 0,0.6 1,0.6 1,1 0,1\nwhen = present for 3 frames\ncooldown = 1h\nclip_before = 2s\nclip_after = 2s\n' >"$WORK/rules.conf"
"$KV" detect --brokers "$BROKERS" --model "$MODEL" >"$WORK/detect.log" 2>&1 &
PIDS+=($!)
"$KV" alert --brokers "$BROKERS" --rules "$WORK/rules.conf" --clips-dir "$WORK/clips" >"$WORK/alert.log" 2>&1 &
PIDS+=($!)
"$KV" store --brokers "$BROKERS" --db "$WORK/db.sqlite" >"$WORK/store.log" 2>&1 &
PIDS+=($!)
WEB_PORT="$(free_port)"
METRICS_PORT="$(free_port)"
"$KV" web --brokers "$BROKERS" --listen "127.0.0.1:$WEB_PORT" --db "$WORK/db.sqlite" --clips-dir "$WORK/clips" \
  --metrics "127.0.0.1:$METRICS_PORT" >"$WORK/web.log" 2>&1 &
WEB_PID=$!
PIDS+=($WEB_PID)
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$WEB_PORT/healthz" >/dev/null && break; sleep 0.2; done
"$KV" ingest --brokers "$BROKERS" --source "$DATA/vtest.avi" --camera lobby --realtime --max-frames 400 \
  --no-progress >"$WORK/ingest.log" 2>&1 &
PIDS+=($!)
"$KV" ingest --brokers "$BROKERS" --source "$DATA/vtest.avi" --camera gate --realtime --max-frames 400 \
  --jpeg-quality 60 --no-progress >"$WORK/ingest-gate.log" 2>&1 &
PIDS+=($!)
# A third camera whose address refuses connections: its card must show it DOWN.
printf 'cameras:\n  - id: yard\n    source: rtsp://127.0.0.1:%s/stream\n    reconnect: 1\n' "$(free_port)" >"$WORK/cameras.yaml"
"$KV" ingest --brokers "$BROKERS" --cameras "$WORK/cameras.yaml" >"$WORK/ingest-yard.log" 2>&1 &
PIDS+=($!)
node "$SRC/tests/integration/web_check.mjs" "http://127.0.0.1:$WEB_PORT" "$ARTIFACTS" >"$WORK/check.out" 2>"$WORK/check.log" ||
  fail "browser check: $(cat "$WORK/check.log")"
echo "browser: $(cat "$WORK/check.out")"
# The alert's clip that Chromium played is the file kvision alert wrote: same length by ffprobe.
/usr/bin/python3 - "$WORK/check.out" "$WORK/clips" <<'PY' || fail "the clip played is not the clip written"
import json, subprocess, sys
check = json.loads(open(sys.argv[1]).read())
clip = check["clip"]
probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                        "stream=codec_name,duration", "-of", "json", f"{sys.argv[2]}/{clip['file']}"],
                       capture_output=True, text=True, check=True)
stream = json.loads(probe.stdout)["streams"][0]
assert stream["codec_name"] == "h264", stream
assert abs(float(stream["duration"]) - clip["duration"]) < 0.05, (stream, clip)
assert clip["duration"] >= 2.0, clip  # 2 s before the alert (or the stream's start) to 2 s after
assert clip["played"] > 0.5, clip
print(f"alert clip {clip['file']}: {clip['duration']:.2f} s in Chromium and ffprobe, played to {clip['played']:.2f} s")
PY
code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WEB_PORT/clips/..%2Fdb.sqlite")"
[ "$code" = 400 ] || fail "a clip path out of the directory gave $code"
code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WEB_PORT/clips/nothing.mp4")"
[ "$code" = 404 ] || fail "a missing clip gave $code"
echo "screenshots: $ARTIFACTS/web-live.png $ARTIFACTS/web-camera.png"

# The HTTP query endpoint answers what kvision query answers on the same database.
api="http://127.0.0.1:$WEB_PORT/api/query?label=person&min_score=0.5&zone=0,0.6%201,0.6%201,1%200,1&normalised=1&to=$(($(date +%s) * 1000))"
curl -sf "$api&format=jsonl" >"$WORK/api.jsonl" || fail "/api/query"
to="$(echo "$api" | sed 's/.*to=//')"
"$KV" query --db "$WORK/db.sqlite" --label person --min-score 0.5 --zone "0,0.6 1,0.6 1,1 0,1" --normalised \
  --to "$to" >"$WORK/cli.jsonl" || fail "kvision query"
[ -s "$WORK/cli.jsonl" ] || fail "no stored persons in the zone"
# store keeps writing: compare the rows both saw (the API ran first)
n_api="$(wc -l <"$WORK/api.jsonl")"
head -n "$n_api" "$WORK/cli.jsonl" | cmp -s - "$WORK/api.jsonl" || fail "/api/query and kvision query differ"
curl -sf "http://127.0.0.1:$WEB_PORT/api/query?label=person&limit=3" | /usr/bin/python3 -c '
import json, sys; rows = json.load(sys.stdin); assert len(rows) == 3 and rows[0]["frame"]["topic"] == "raw_video_frames", rows' ||
  fail "/api/query as a JSON array"
code="$(curl -s -o "$WORK/bad.json" -w '%{http_code}' "http://127.0.0.1:$WEB_PORT/api/query?colour=red")"
[ "$code" = 400 ] && grep -q "unknown parameter 'colour'" "$WORK/bad.json" || fail "a bad query gave $code"
echo "api/query: $n_api persons in the lower zone, same as kvision query"
# Per-track summaries over HTTP, as kvision query --tracks gives them.
curl -sf "http://127.0.0.1:$WEB_PORT/api/tracks?label=person&to=$to" >"$WORK/tracks.json" || fail "/api/tracks"
"$KV" query --db "$WORK/db.sqlite" --tracks --label person --to "$to" >"$WORK/tracks.jsonl" || fail "query --tracks"
/usr/bin/python3 - "$WORK/tracks.json" "$WORK/tracks.jsonl" <<'PY' || fail "/api/tracks and kvision query --tracks differ"
import json, sys
api = json.load(open(sys.argv[1]))
cli = [json.loads(l) for l in open(sys.argv[2])]
assert api and all(t["label"] == "person" and t["track"] >= 1 and t["path"] for t in api), api[:2]
assert {(t["camera"], t["track"]) for t in api} <= {(t["camera"], t["track"]) for t in cli}
PY
code="$(curl -s -o "$WORK/bad.json" -w '%{http_code}' "http://127.0.0.1:$WEB_PORT/api/tracks?track=abc")"
[ "$code" = 400 ] && grep -q "bad track 'abc'" "$WORK/bad.json" || fail "a bad track gave $code"
curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" >"$WORK/metrics.txt" || fail "no /metrics"
grep -Eq '^kvision_frames_total\{.*stage="web".*\} [0-9]+' "$WORK/metrics.txt" || fail "web counts no frames"
curl -sf "http://127.0.0.1:$METRICS_PORT/readyz" >/dev/null || fail "web is not ready"
kill -TERM "$WEB_PID"
wait "$WEB_PID" || fail "web exited with an error"
echo "PASS"
