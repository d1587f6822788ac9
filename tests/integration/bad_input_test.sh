#!/usr/bin/env bash
# Bad input gets a clear message and the right exit code, and loses nothing: missing, empty,
# non-video, truncated (AVI and MP4) and damaged sources, unreachable and dropping streams,
# bad flags, broken models, a broker that cannot be reached, and records in raw_video_frames
# that are not JPEG, carry garbled headers or weigh 50 MB (dead-lettered while the detector
# keeps going). Image folders holding non-images are in sources_test.sh, empty records and
# missing headers in fault_test.sh (poison).
source "$(dirname "$0")/lib.sh"
require_file "$DATA/vtest.avi"

# expect_exit "CODES" "TEXT" cmd...: the exit code is one of CODES and stderr mentions TEXT.
expect_exit() {
  local codes="$1" text="$2"
  shift 2
  set +e
  "$@" >"$WORK/out.txt" 2>&1
  local rc=$?
  set -e
  [[ " $codes " == *" $rc "* ]] || fail "'$*' exited $rc, expected one of $codes: $(tail -n 3 "$WORK/out.txt")"
  grep -qi -- "$text" "$WORK/out.txt" || fail "'$*' did not say '$text': $(tail -n 3 "$WORK/out.txt")"
  echo "ok ($rc): $* -> $(grep -i -- "$text" "$WORK/out.txt" | head -n 1)"
}

start_broker
expect_exit "2" "no such file" "$KV" ingest --brokers "$BROKERS" --source "$WORK/missing.avi" --max-lag 0
echo "just some text, not a video" >"$WORK/notes.avi"
expect_exit "1 2" "not a video" "$KV" ingest --brokers "$BROKERS" --source "$WORK/notes.avi" --max-lag 0
head -c 2000000 "$DATA/vtest.avi" >"$WORK/truncated.avi"
expect_exit "1" "truncated" "$KV" ingest --brokers "$BROKERS" --source "$WORK/truncated.avi" --camera trunc --max-lag 0
expect_exit "2" "jpeg-quality" "$KV" ingest --brokers "$BROKERS" --source "$DATA/vtest.avi" --jpeg-quality 0
expect_exit "2" "no.such.property" "$KV" ingest --brokers "$BROKERS" --source "$DATA/vtest.avi" -X no.such.property=1
expect_exit "2" "model file not found" "$KV" detect --brokers "$BROKERS" --model "$WORK/none.onnx"
expect_exit "2" "required" "$KV" ingest
expect_exit "2" "not expected: --no-such-flag" "$KV" detect --no-such-flag
expect_exit "2" "--fps" "$KV" ingest --source "$DATA/vtest.avi" --fps -3
: >"$WORK/empty.avi"
expect_exit "1" "is empty" "$KV" ingest --brokers "$BROKERS" --source "$WORK/empty.avi"
# (Frames of these sources go to a scratch topic, so the detectors below do not see them.)
# A real MP4 cut short (its index is lost), and an AVI with 400 KB of noise in the middle:
# FFmpeg skips the damaged frames, the rest are published, and the run says what was lost.
"$(dirname "$CHECK")/make_video" "$DATA/vtest.avi" "$WORK/clip.mp4" 60 || fail "make_video"
head -c 200000 "$WORK/clip.mp4" >"$WORK/cut.mp4"
expect_exit "1 2" "not a video" "$KV" ingest --brokers "$BROKERS" --source "$WORK/cut.mp4"
{ head -c 3000000 "$DATA/vtest.avi"; head -c 400000 /dev/urandom; tail -c +3400001 "$DATA/vtest.avi"; } >"$WORK/mid.avi"
expect_exit "1" "could be decoded" "$KV" ingest --brokers "$BROKERS" --source "$WORK/mid.avi" --camera mid --topic scratch --max-lag 0 --no-progress
mid="$(kcat -b "$BROKERS" -C -t scratch -o beginning -e -q -f '%k\n' | grep -c '^mid$' || true)"
[ "$mid" -gt 700 ] || fail "only $mid frames of the damaged video were published (frames after the damage lost)"
echo "ok: $mid of 795 frames of the damaged video published"
# Models: truncated, and of another family than declared.
head -c 100000 "$MODEL_ONNX" >"$WORK/trunc.onnx"
expect_exit "1 2" "cannot load model" "$KV" detect --brokers "$BROKERS" --model "$WORK/trunc.onnx" --family yolox --input-size 416
expect_exit "1 2" "expected output" "$KV" detect --brokers "$BROKERS" --model "$MODEL_ONNX" --family fastestdet --input-size 352 --engine opencv
expect_exit "1 2" "takes a 416x416 input, not the 352x352" "$KV" detect --brokers "$BROKERS" --model "$MODEL_ONNX" --family fastestdet --input-size 352 --engine onnxruntime
# Streams: unreachable (bounded retries with backoff), and one that drops twice.
dead="$(free_port)"
expect_exit "1" "cannot open stream" "$KV" ingest --brokers "$BROKERS" --source "http://127.0.0.1:$dead/cam.mjpg" --reconnect 2
grep -q "attempt 2 of 3: 127.0.0.1:$dead: Connection refused); retrying in 1.0 s" "$WORK/out.txt" || fail "no backoff between stream retries"
cam="$(free_port)"
python3 "$SRC/tests/integration/mjpeg_server.py" "$cam" "$DATA/dog.jpg" 15 2 >"$WORK/mjpeg.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do grep -q listening "$WORK/mjpeg.log" && break; sleep 0.1; done
expect_exit "1" "did not come back: cannot reconnect to it after 3 attempt" "$KV" ingest --brokers "$BROKERS" --source "http://127.0.0.1:$cam/cam.mjpg" \
  --camera flaky --topic scratch --reconnect 2 --max-lag 0 --no-progress
grep -q "reconnected" "$WORK/out.txt" || fail "the dropped stream was not reconnected"
flaky="$(kcat -b "$BROKERS" -C -t scratch -o beginning -e -q -f '%k\n' | grep -c '^flaky$' || true)"
[ "$flaky" -ge 28 ] || fail "only $flaky of the stream's 30 frames were published across the reconnect"
echo "ok: $flaky frames published across a dropped and reconnected stream"
# A broker that cannot be reached at start-up: a clear error, not a hang (checked at the end).
"$KV" ingest --brokers 127.0.0.1:1 --source "$DATA/vtest.avi" -n 1 >"$WORK/nobroker.log" 2>&1 &
NOBROKER=$!
# The truncated file's frames before the damage were still published.
[ "$(kcat -b "$BROKERS" -C -t raw_video_frames -o beginning -e -q -f '%k\n' | grep -c '^trunc$')" -gt 0 ] \
  || fail "frames before the truncation were not published"

# Poison records: a value that is not a JPEG, and a JPEG whose headers are garbled.
"$KV" detect --brokers "$BROKERS" --group bad-input >"$WORK/detect.log" 2>&1 &
DETECT=$!
PIDS+=($DETECT)
hdr=(-H kv.schema=1 -H kv.camera=camX -H kv.session=1 -H kv.pos_ms=0 -H kv.capture_us=1 -H kv.width=768
     -H kv.height=576 -H kv.format=jpeg)
printf 'this is not a jpeg' | kcat -b "$BROKERS" -P -t raw_video_frames -k camX "${hdr[@]}" -H kv.seq=0
kcat -b "$BROKERS" -P -t raw_video_frames -k camX "${hdr[@]}" -H kv.seq=garbled -D '\0xff' <"$DATA/dog.jpg"
before="$(count_records processed_images)"
"$KV" ingest --brokers "$BROKERS" --source "$DATA/vtest.avi" --camera camX --max-frames 3 --max-lag 0 \
  >"$WORK/ingest.log" 2>&1 || fail "ingest after poison records failed"
wait_records processed_images $((before + 3)) 120
wait_records raw_video_frames.dlq 2 30
kcat -b "$BROKERS" -C -t raw_video_frames.dlq -o beginning -e -q -f '%h\n' >"$WORK/dlq.txt"
grep -q "kv.dlq.stage=decode" "$WORK/dlq.txt" || fail "no dead letter from the decode stage"
grep -q "kv.dlq.stage=headers" "$WORK/dlq.txt" || fail "no dead letter from the headers stage"
grep -q "kv.dlq.error=value is not a JPEG" "$WORK/dlq.txt" || fail "dead letter does not name the error"
grep -q "kv.dlq.topic=raw_video_frames" "$WORK/dlq.txt" || fail "dead letter does not name its source"
grep -q "skipping raw_video_frames" "$WORK/detect.log" || fail "bad record not logged"
kill -TERM "$DETECT"
wait "$DETECT" || fail "detect exited with $? after SIGTERM"
grep -q "bad records 2 (dead-lettered 2)" "$WORK/detect.log" || fail "bad records not counted: $(tail -n 2 "$WORK/detect.log")"

# A 50 MB record: dead-lettered (cut to what the producer may send, its size in a header) and
# the detector goes on with the next frame.
"$KV" detect --brokers "$BROKERS" --group bad-input --model "$MODEL" >"$WORK/detect2.log" 2>&1 &
PIDS+=($!)
/usr/bin/python3 - "$BROKERS" <<'PY' || fail "could not write the 50 MB record"
import os, sys
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers=sys.argv[1], acks="all", max_request_size=60 << 20,
                  buffer_memory=128 << 20)
h = dict(schema="1", camera="huge", session="7", pos_ms="0", capture_us="1", width="768",
         height="576", format="jpeg", seq="0")
p.send("raw_video_frames", key=b"huge", value=os.urandom(50 << 20),
       headers=[("kv." + k, v.encode()) for k, v in h.items()]).get(timeout=60)
PY
before="$(count_records processed_images)"
"$KV" ingest --brokers "$BROKERS" --source "$DATA/vtest.avi" --camera after-huge --max-frames 2 --max-lag 0 \
  >"$WORK/ingest3.log" 2>&1 || fail "ingest after the 50 MB record"
wait_records processed_images $((before + 2)) 120
kcat -b "$BROKERS" -C -t raw_video_frames.dlq -o beginning -e -q -f '%S %h\n' | grep "kv.camera=huge" >"$WORK/huge.txt" || true
grep -q "kv.dlq.truncated_from=52428800" "$WORK/huge.txt" || fail "the 50 MB record was not dead-lettered"

wait "$NOBROKER" && fail "ingest with no reachable broker exited 0"
grep -q "cannot reach the Kafka cluster" "$WORK/nobroker.log" || fail "no clear message for an unreachable broker: $(tail -n 1 "$WORK/nobroker.log")"
echo "ok: unreachable broker -> $(tail -n 1 "$WORK/nobroker.log")"
echo "PASS"
