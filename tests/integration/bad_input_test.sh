#!/usr/bin/env bash
# Bad input gets a clear message and the right exit code, and loses nothing:
# missing/non-video/truncated sources, bad flags, and records in raw_video_frames that are not
# JPEG or carry garbled headers (dead-lettered while the detector keeps going).
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
echo "PASS"
