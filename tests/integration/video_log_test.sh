#!/usr/bin/env bash
# Kafka as the video log (docs/video-log.md): `kvision clip` rebuilds a camera's frames of a time
# range as H.264 MP4, checked with ffprobe (codec, frame count, duration), with another camera
# interleaved in the same topic; empty, too old and malformed ranges get clear errors.
source "$(dirname "$0")/lib.sh"
require_file "$DATA/vtest.avi"
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
echo "PASS"
