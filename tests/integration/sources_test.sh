#!/usr/bin/env bash
# Sources other than a local file, fps sampling, and Ctrl-C: an HTTP stream sampled to 5 fps,
# an image folder, and SIGINT during a --realtime ingest, which must flush every frame it read.
source "$(dirname "$0")/lib.sh"
require_file "$DATA/vtest.avi"
require_file "$DATA/dog.jpg"
start_broker

# headers_of CAMERA: the frame headers of that camera's records, one line each
headers_of() { kcat -b "$BROKERS" -C -t raw_video_frames -o beginning -e -q -f '%k %h\n' | grep "^$1 " || true; }

# 1. A stream URL (FFmpeg's http protocol), sampled from 10 to 5 fps.
http_port="$(free_port)"
(cd "$DATA" && exec python3 -m http.server "$http_port" --bind 127.0.0.1) >"$WORK/http.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$http_port/')" 2>/dev/null && break
  sleep 0.1
done
"$KV" ingest --brokers "$BROKERS" --source "http://127.0.0.1:$http_port/vtest.avi" --camera web --fps 5 \
  --max-frames 10 --max-lag 0 >"$WORK/http_ingest.log" 2>&1 || fail "ingest from an HTTP stream failed"
headers_of web >"$WORK/web.txt"
[ "$(wc -l <"$WORK/web.txt")" -eq 10 ] || fail "expected 10 frames from the stream, got $(wc -l <"$WORK/web.txt")"
positions="$(grep -o 'kv.pos_ms=[0-9]*' "$WORK/web.txt" | cut -d= -f2 | tr '\n' ' ')"
[ "$positions" = "0 200 400 600 800 1000 1200 1400 1600 1800 " ] || fail "5 fps sampling gave positions: $positions"
echo "ok: HTTP stream sampled to 5 fps: positions $positions"

# 2. An image folder, in name order; unreadable files are skipped with a warning.
mkdir -p "$WORK/images"
for i in 1 2 3; do cp "$DATA/dog.jpg" "$WORK/images/frame_$i.jpg"; done
echo "not an image" >"$WORK/images/frame_4.jpg"
"$KV" ingest --brokers "$BROKERS" --source "$WORK/images" --camera folder --max-lag 0 >"$WORK/folder.log" 2>&1 \
  || fail "ingest from an image folder failed"
grep -q "skipping '.*frame_4.jpg'" "$WORK/folder.log" || fail "the unreadable image was not reported"
[ "$(headers_of folder | grep -c 'kv.width=768,kv.height=576')" -eq 3 ] || fail "expected 3 folder frames"
echo "ok: image folder: 3 frames, 1 unreadable file skipped"

# 3. SIGINT during a realtime ingest: it stops, flushes, exits 0, and every frame it counted is in the topic.
"$KV" ingest --brokers "$BROKERS" --source "$DATA/vtest.avi" --camera interrupted --realtime --max-lag 0 \
  >"$WORK/sigint.log" 2>&1 &
ING=$!
sleep 2
kill -INT "$ING"
wait "$ING" || fail "ingest exited with $? after SIGINT"
published="$(grep -o '[0-9]* frames published' "$WORK/sigint.log" | cut -d' ' -f1)"
in_topic="$(headers_of interrupted | wc -l)"
[ -n "$published" ] && [ "$published" -gt 5 ] || fail "ingest published '$published' frames in 2 s of realtime"
[ "$published" -eq "$in_topic" ] || fail "ingest reported $published frames, the topic has $in_topic"
grep -q "interrupted" "$WORK/sigint.log" || fail "ingest did not say it was interrupted"
echo "ok: SIGINT after 2 s: $published frames published and all $in_topic in the topic"
echo "PASS"
