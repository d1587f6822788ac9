#!/usr/bin/env bash
# kvision store and kvision query on vtest.avi: every frame stored once, a full redelivery
# (a second group reading from the start) adds nothing, and queries filter by camera, label,
# score, time and zone, returning frame references.
source "$(dirname "$0")/lib.sh"
require_file "$MODEL_ONNX"
require_file "$DATA/vtest.avi"
start_broker
"$KV" detect --brokers "$BROKERS" --model "$MODEL" >"$WORK/detect.log" 2>&1 &
PIDS+=($!)
"$KV" ingest --brokers "$BROKERS" --source "$DATA/vtest.avi" --camera lobby --max-frames 40 --max-lag 0 \
  --no-progress >"$WORK/ingest.log" 2>&1 || fail "ingest"
wait_records detections 40 120
DB="$WORK/detections.db"
frames() { /usr/bin/python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from frames").fetchone()[0])' "$DB"; }
run_store() {  # GROUP: store until all 40 frames are in, then stop it with SIGTERM
  "$KV" store --brokers "$BROKERS" --db "$DB" --group "$1" >"$WORK/store-$1.log" 2>&1 &
  local pid=$!
  for _ in $(seq 120); do
    [ -f "$DB" ] && [ "$(frames)" -ge 40 ] && grep -q "assigned" "$WORK/store-$1.log" && break
    sleep 0.5
  done
  sleep 1
  kill -TERM "$pid"
  wait "$pid" || fail "store exited with an error: $(tail -n 3 "$WORK/store-$1.log")"
}
run_store first
[ "$(frames)" -eq 40 ] || fail "expected 40 frames stored, got $(frames)"
run_store again  # reads everything again from the start
[ "$(frames)" -eq 40 ] || fail "a redelivery created rows: $(frames) frames"
grep -q "40 records read (0 new frames stored" "$WORK/store-again.log" || fail "the second store wrote new frames"

"$KV" query --db "$DB" --label person --min-score 0.5 >"$WORK/persons.jsonl" || fail "query"
n="$(wc -l <"$WORK/persons.jsonl")"
[ "$n" -gt 100 ] || fail "only $n persons found in 40 frames of vtest"
/usr/bin/python3 - "$WORK/persons.jsonl" <<'PY' || fail "query results are not as asked"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert all(r["label"] == "person" and r["score"] >= 0.5 and r["camera"] == "lobby" for r in rows)
assert all(r["frame"]["topic"] == "raw_video_frames" and r["frame"]["offset"] >= 0 for r in rows)
PY
"$KV" query --db "$DB" --label person --min-score 0.5 --zone "0,0.5 1,0.5 1,1 0,1" --normalised >"$WORK/lower.jsonl"
lower="$(wc -l <"$WORK/lower.jsonl")"
[ "$lower" -gt 0 ] && [ "$lower" -lt "$n" ] || fail "the zone kept $lower of $n"
/usr/bin/python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l); x, y, w, h = r["box"]
    assert y + h >= 0.5 * r["frame"]["height"] - 0.2, r  # boxes are printed to 0.1 px' "$WORK/lower.jsonl" || fail "a result outside the zone"
[ "$("$KV" query --db "$DB" --camera nobody | wc -l)" -eq 0 ] || fail "camera filter"
first="$(head -n 1 "$WORK/persons.jsonl" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["capture_us"] // 1000 + 1)')"
before="$("$KV" query --db "$DB" --label person --min-score 0.5 --to "$first" | wc -l)"
[ "$before" -gt 0 ] && [ "$before" -lt "$n" ] || fail "time filter kept $before of $n"
# Tracked objects: a summary per track, and one track's detections, from the stored IDs.
"$KV" query --db "$DB" --tracks --label person --camera lobby >"$WORK/tracks.jsonl" || fail "query --tracks"
"$KV" query --db "$DB" --camera lobby --track 1 >"$WORK/track1.jsonl" || fail "query --track"
/usr/bin/python3 - "$WORK/tracks.jsonl" "$WORK/track1.jsonl" "$WORK/persons.jsonl" <<'PY' || fail "track queries"
import json, sys
tracks = [json.loads(l) for l in open(sys.argv[1])]
one = [json.loads(l) for l in open(sys.argv[2])]
persons = [json.loads(l) for l in open(sys.argv[3])]
assert len(tracks) >= 3, tracks
ids = [t["track"] for t in tracks]
assert len(set(ids)) == len(ids), ids
for t in tracks:
    assert t["label"] == "person" and t["camera"] == "lobby", t
    assert t["last_us"] >= t["first_us"] and t["detections"] >= 1 and len(t["path"]) >= 1, t
    assert abs(t["duration_s"] - (t["last_us"] - t["first_us"]) / 1e6) < 0.002, t
first = next(t for t in tracks if t["track"] == 1)
assert len(one) == first["detections"] and all(r["track"] == 1 for r in one), (len(one), first)
assert one[0]["capture_us"] == first["first_us"] and one[-1]["capture_us"] == first["last_us"]
assert any("track" in p for p in persons)
print("tracks:", len(tracks), "track 1:", first["detections"], "detections over",
      first["duration_s"], "s")
PY
set +e
"$KV" query --db "$DB" --zone "0,0 1" >"$WORK/bad.txt" 2>&1; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "bad zone point" "$WORK/bad.txt" || fail "a bad zone gave $rc: $(cat "$WORK/bad.txt")"
# Frame JPEGs kept on disk, at most 1 MB of them: the newest stay, the oldest go.
"$KV" store --brokers "$BROKERS" --db "$WORK/frames.db" --group frames --frames-dir "$WORK/frames" \
  --keep-size 1MB >"$WORK/store-frames.log" 2>&1 &
pid=$!
for _ in $(seq 120); do
  [ -f "$WORK/frames/lobby/"*-00000039.jpg ] 2>/dev/null && break
  sleep 0.5
done
sleep 1
kill -TERM "$pid"
wait "$pid" || fail "store --frames-dir exited with an error"
grep -q "on processed_images" "$WORK/store-frames.log" || fail "--frames-dir did not read processed_images"
kept="$(ls "$WORK/frames/lobby" | wc -l)"
bytes="$(cat "$WORK/frames/lobby/"*.jpg | wc -c)"
[ "$bytes" -le 1000000 ] && [ "$kept" -ge 5 ] && [ "$kept" -lt 40 ] || fail "kept $kept frames, $bytes bytes"
ls "$WORK/frames/lobby/"*-00000039.jpg >/dev/null || fail "the newest frame is not kept"
ls "$WORK/frames/lobby/"*-00000000.jpg >/dev/null 2>&1 && fail "the oldest frame was not removed"
/usr/bin/python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); assert d[:2] == b"\xff\xd8" and d[-2:] == b"\xff\xd9"' \
  "$WORK/frames/lobby/"*-00000039.jpg || fail "the kept frame is not a whole JPEG"
"$KV" query --db "$WORK/frames.db" --label person --frames-dir "$WORK/frames" >"$WORK/with-jpeg.jsonl"
with="$(grep -c '"jpeg":' "$WORK/with-jpeg.jsonl" || true)"
[ "$with" -gt 0 ] && [ "$with" -lt "$(wc -l <"$WORK/with-jpeg.jsonl")" ] || fail "$with results name a kept JPEG"
echo "frames: $kept JPEGs kept ($bytes bytes of 1 MB), $with of $(wc -l <"$WORK/with-jpeg.jsonl") person results name one"
set +e
"$KV" store --brokers "$BROKERS" --db "$WORK/x.db" --topic detections --frames-dir "$WORK/f2" >"$WORK/bad2.txt" 2>&1; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "needs --topic processed_images" "$WORK/bad2.txt" || fail "--frames-dir on detections gave $rc"
echo "store: 40 frames, $n persons (score >= 0.5), $lower in the lower half, $before before $first ms"
echo "PASS"
