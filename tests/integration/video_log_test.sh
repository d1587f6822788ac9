#!/usr/bin/env bash
# Kafka as the video log (docs/video-log.md), on vtest.avi:
# - `kvision clip` rebuilds a camera's frames of a time range as H.264 MP4, checked with ffprobe
#   (codec, frame count, duration), with another camera interleaved in the same topic; empty,
#   too old and malformed ranges get clear errors;
# - `kvision replay` detects one camera's stored frames again (stopped with Ctrl-C and resumed:
#   every frame once) while the live group's offsets stay as they were;
# - `kvision diff` compares a FastestDet replay with the live YOLOX-Nano results.
source "$(dirname "$0")/lib.sh"
require_file "$DATA/vtest.avi"
require_file "$MODEL_ONNX"
require_file "$SHARED/models/fastestdet/FastestDet.onnx"
command -v ffprobe >/dev/null || fail "ffprobe is missing: run scripts/setup.sh (Debian package ffmpeg)"
start_broker

# probe FILE: "codec frames duration" of its video stream
probe() {
  ffprobe -v error -select_streams v:0 -count_frames \
    -show_entries stream=codec_name,nb_read_frames,duration -of csv=p=0 "$1" |
    awk -F, '{print $1, $3, $2}'
}
# within A B TOLERANCE
within() { python3 -c "import sys; sys.exit(0 if abs(float('$1') - float('$2')) <= float('$3') else 1)"; }

# vtest.avi is 10 fps: 30 frames paced in real time take 3 s; another camera goes at full speed
# into the same topic meanwhile.
t0=$(date +%s%3N)
"$KV" ingest --brokers "$BROKERS" --source "$DATA/vtest.avi" --camera lobby --max-frames 30 \
  --realtime >"$WORK/ingest-lobby.log" 2>&1 &
LOBBY=$!
"$KV" ingest --brokers "$BROKERS" --source "$DATA/vtest.avi" --camera yard --max-frames 200 \
  >"$WORK/ingest-yard.log" 2>&1 || fail "ingest yard"
wait "$LOBBY" || fail "ingest lobby"
t1=$(date +%s%3N)

# 1. The whole range, given as ISO-8601: every frame of lobby, at 10 fps, 3 s.
iso() { date -u -d "@$(($1 / 1000)).$(printf %03d $(($1 % 1000)))" +%Y-%m-%dT%H:%M:%S.%3NZ; }
"$KV" clip --brokers "$BROKERS" --camera lobby --from "$(iso "$t0")" --to "$(iso "$t1")" \
  -o "$WORK/all.mp4" >"$WORK/clip-all.out" 2>"$WORK/clip-all.err" || fail "clip: $(cat "$WORK/clip-all.err")"
cat "$WORK/clip-all.out"
read -r codec frames duration < <(probe "$WORK/all.mp4")
echo "ffprobe all.mp4: codec=$codec frames=$frames duration=$duration"
[ "$codec" = h264 ] || fail "codec $codec, not h264"
[ "$frames" -eq 30 ] || fail "$frames frames in the clip, not 30"
within "$duration" 3.0 0.05 || fail "duration $duration s, not 3 s"

# 2. One second in the middle, as epoch ms: about 10 frames, the same count as kvision reports.
"$KV" clip --brokers "$BROKERS" --camera lobby --from $((t0 + 1000)) --to $((t0 + 2000)) \
  -o "$WORK/mid.mp4" >"$WORK/clip-mid.out" 2>&1 || fail "clip mid: $(cat "$WORK/clip-mid.out")"
cat "$WORK/clip-mid.out"
read -r codec frames duration < <(probe "$WORK/mid.mp4")
echo "ffprobe mid.mp4: codec=$codec frames=$frames duration=$duration"
reported=$(sed -n 's/^CLIP .* frames=\([0-9]*\) .*/\1/p' "$WORK/clip-mid.out")
[ "$frames" -eq "$reported" ] || fail "ffprobe counts $frames frames, kvision wrote $reported"
[ "$frames" -ge 7 ] && [ "$frames" -le 13 ] || fail "$frames frames in one second at 10 fps"

# 3. Errors: a camera with no frames then, a range older than anything kept, a range in the
#    future, a time that does not parse, and --to before --from. None leaves a file behind.
expect_error() {  # PATTERN ARGS...
  local pattern="$1"
  shift
  if "$KV" clip --brokers "$BROKERS" -o "$WORK/bad.mp4" "$@" >"$WORK/bad.out" 2>&1; then
    fail "clip $* succeeded"
  fi
  grep -q "$pattern" "$WORK/bad.out" || fail "clip $*: expected '$pattern', got: $(cat "$WORK/bad.out")"
  [ ! -e "$WORK/bad.mp4" ] || fail "a failed clip left $WORK/bad.mp4"
  ls -a "$WORK" | grep -q "part.mp4" && fail "a failed clip left a partial file"
  echo "ok: $(cat "$WORK/bad.out")"
}
expect_error "no frames of camera 'gate'" --camera gate --from "$t0" --to "$t1"
expect_error "older than what the topic keeps" --camera lobby --from 1000 --to 2000
expect_error "holds nothing that recent" --camera lobby --from $((t1 + 60000)) --to $((t1 + 70000))
expect_error "is not a time" --camera lobby --from yesterday --to "$t1"
expect_error "is before --from" --camera lobby --from "$t1" --to "$t0"

# 4. The live detectors (YOLOX-Nano) process every frame; their group's offsets are noted.
"$KV" detect --brokers "$BROKERS" --model "$MODEL" --threads 2 --infer-threads 1 \
  >"$WORK/detect-live.log" 2>&1 &
LIVE=$!
PIDS+=($LIVE)
wait_records detections 230 120
kill -INT "$LIVE"
wait "$LIVE" || fail "the live detector did not stop cleanly"
live_offsets() {
  /usr/bin/python3 - "$BROKERS" <<'PY'
import sys
from kafka.admin import KafkaAdminClient
admin = KafkaAdminClient(bootstrap_servers=sys.argv[1])
offsets = admin.list_consumer_group_offsets("kvision-detect")
print(" ".join(f"{tp.partition}:{om.offset}" for tp, om in sorted(offsets.items())))
PY
}
before="$(live_offsets)"
echo "live group offsets: $before"

# 5. A replay of camera yard with YOLOX-Nano on one thread, stopped with Ctrl-C after 2 s and
#    run again: it resumes from its own group's offsets, and every frame is detected once.
replay() {  # TOPIC MODEL LOG
  "$KV" replay --brokers "$BROKERS" --from "$t0" --to "$t1" --camera yard --model "$2" \
    --to-topic "$1" --threads 1 --infer-threads 1 >"$3.out" 2>"$3.log"
}
"$KV" replay --brokers "$BROKERS" --from "$t0" --to "$t1" --camera yard --model "$MODEL" \
  --to-topic replay.resume --threads 1 --infer-threads 1 >"$WORK/replay-1.out" 2>"$WORK/replay-1.log" &
R=$!
sleep 2
kill -INT "$R"
wait "$R" || fail "the interrupted replay failed: $(tail -3 "$WORK/replay-1.log")"
cat "$WORK/replay-1.out"
grep -q "finished=no" "$WORK/replay-1.out" || fail "the replay finished before it was stopped"
grep -q "run the same command again to resume" "$WORK/replay-1.log" || fail "no resume hint"
replay replay.resume "$MODEL" "$WORK/replay-2" || fail "the resumed replay failed"
cat "$WORK/replay-2.out"
grep -q "resumed=yes finished=yes" "$WORK/replay-2.out" || fail "the replay did not resume and finish"
grep -q "replay: .* record(s) read" "$WORK/replay-1.log" || fail "the replay showed no progress"
kcat -b "$BROKERS" -C -t replay.resume -o beginning -e -q -f '%k %s\n' >"$WORK/replay.txt"
seqs=$(grep -o '"seq":[0-9]*' "$WORK/replay.txt" | sort | uniq | wc -l)
total=$(wc -l <"$WORK/replay.txt")
others=$(grep -vc '^yard ' "$WORK/replay.txt" || true)
echo "replay.resume: $total results, $seqs distinct frames, $others of other cameras"
[ "$seqs" -eq 200 ] || fail "the replay detected $seqs distinct frames of yard, not 200"
[ "$total" -eq 200 ] || fail "the replay wrote $total results for 200 frames"
[ "$others" -eq 0 ] || fail "the replay detected frames of other cameras"
after="$(live_offsets)"
[ "$before" = "$after" ] || fail "the live group's offsets moved: $before -> $after"
echo "ok: the live group's offsets are unchanged ($after)"

# 6. The use case: FastestDet replayed against the live YOLOX-Nano results, compared.
FD="$SHARED/models/fastestdet"
printf '{"family": "fastestdet", "weights": "%s", "labels": "%s", "input": [352, 352]}\n' \
  "$FD/FastestDet.onnx" "$FD/coco.names" >"$WORK/fastestdet.json"
replay replay.fastestdet "$WORK/fastestdet.json" "$WORK/replay-fd" || fail "FastestDet replay"
"$KV" diff --brokers "$BROKERS" --a detections --b replay.fastestdet --camera yard --top 3 \
  >"$WORK/diff.txt" 2>&1 || fail "diff: $(cat "$WORK/diff.txt")"
cat "$WORK/diff.txt"
"$KV" diff --brokers "$BROKERS" --a detections --b replay.fastestdet --camera yard --json \
  >"$WORK/diff.json" || fail "diff --json"
/usr/bin/python3 - "$WORK/diff.json" <<'PY' || fail "the diff's JSON is not what was replayed"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["frames"]["compared"] == 200, d["frames"]
assert d["frames"]["only_a"] == 0 and d["frames"]["only_b"] == 0, d["frames"]
assert d["a"]["model"] != d["b"]["model"], (d["a"], d["b"])
o = d["objects"]
assert o["a"] > 0 and o["b"] > 0 and o["matched"] > 0, o
assert o["matched"] + o["lost"] + o["relabelled"] == o["a"], o
assert o["matched"] + o["added"] + o["relabelled"] == o["b"], o
assert "person" in d["classes"], d["classes"].keys()
assert len(d["most_changed"]) == 10 or d["frames"]["changed"] < 10
print("diff JSON: %d frames, %d changed; A %d objects, B %d" %
      (d["frames"]["compared"], d["frames"]["changed"], o["a"], o["b"]))
PY
# The same topic against itself: nothing changes.
"$KV" diff --brokers "$BROKERS" --a detections --b detections --json >"$WORK/same.json"
/usr/bin/python3 -c "import json,sys; d=json.load(open('$WORK/same.json')); o=d['objects']; sys.exit(0 if d['frames']['changed']==0 and o['added']==0 and o['lost']==0 and o['matched']==o['a'] else 1)" ||
  fail "a topic compared with itself shows changes"
echo "PASS"
