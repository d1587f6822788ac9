#!/usr/bin/env bash
# kvision alert end to end on vtest.avi: a zone on the lower part of the scene with "person for
# 3 frames" fires once under a long cooldown, the same rule without a cooldown fires again and
# again, an impossible rule never fires, every alert reaches the `alerts` topic and the webhook
# (whose first answer is a 500, so one retry), and bad rule files are refused with their line.
source "$(dirname "$0")/lib.sh"
require_file "$MODEL_ONNX"
require_file "$DATA/vtest.avi"
FRAMES=120
cat >"$WORK/rules.conf" <<'RULES'
# the lower part of the scene (the near pavement), normalised to the frame
[lower-person]
labels    = person
min_score = 0.5
units     = normalised
zone      = 0,0.6 1,0.6 1,1 0,1
when      = present for 3 frames
cooldown  = 1h

[lower-person-no-cooldown]
labels    = person
min_score = 0.5
units     = normalised
zone      = 0,0.6 1,0.6 1,1 0,1
when      = present for 3 frames
cooldown  = 0

[crowd-of-40]           # impossible: vtest never has 40 people in a frame
labels = person
when   = count >= 40

[crossing]              # people walking across the middle of the scene, either way
labels    = person
min_score = 0.5
units     = normalised
when      = crosses 0,0.55 1,0.55 any
RULES
"$KV" alert --rules "$WORK/rules.conf" --check >"$WORK/check.txt" || fail "--check: $(cat "$WORK/check.txt")"
grep -q "4 rule(s), all valid" "$WORK/check.txt" || fail "--check said $(cat "$WORK/check.txt")"
printf '[a]\nlabels = person\nwhen = present for 3 frames\nzone = 0,0 1,0\n' >"$WORK/bad.conf"
set +e
"$KV" alert --rules "$WORK/bad.conf" --brokers 127.0.0.1:1 >"$WORK/bad.txt" 2>&1; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "bad.conf:4: a zone needs at least 3 points" "$WORK/bad.txt" ||
  fail "a bad rule file gave exit $rc: $(cat "$WORK/bad.txt")"

start_broker
HOOK_PORT="$(free_port)"
# The receiver checks every POST's signature (HMAC-SHA256 with the shared secret).
printf 'hook-secret-%s\n' "$RANDOM$RANDOM" >"$WORK/hook.secret"
/usr/bin/python3 "$SRC/tests/integration/webhook_receiver.py" "$HOOK_PORT" "$WORK/hook.jsonl" 1 \
  "$(head -1 "$WORK/hook.secret")" &
PIDS+=($!)
"$KV" detect --brokers "$BROKERS" --model "$MODEL" >"$WORK/detect.log" 2>&1 &
PIDS+=($!)
METRICS_PORT="$(free_port)"
"$KV" alert --brokers "$BROKERS" --rules "$WORK/rules.conf" --webhook "http://127.0.0.1:$HOOK_PORT/hook" \
  --webhook-secret-file "$WORK/hook.secret" --webhook-backoff-ms 200 --metrics "127.0.0.1:$METRICS_PORT" >"$WORK/alert.log" 2>&1 &
ALERT_PID=$!
PIDS+=($ALERT_PID)
"$KV" ingest --brokers "$BROKERS" --source "$DATA/vtest.avi" --camera lobby --max-frames $FRAMES \
  --max-lag 0 --no-progress >"$WORK/ingest.log" 2>&1 || fail "ingest"
wait_records detections $FRAMES 180
for _ in $(seq 60); do
  grep -q "alert: group" "$WORK/alert.log" && [ "$(grep -c "ALERT " "$WORK/alert.log")" -ge 2 ] && break
  sleep 0.5
done
sleep 3  # the last records and the webhook's retry
curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" >"$WORK/metrics.txt" || fail "no /metrics"
if command -v promtool >/dev/null; then
  promtool check metrics <"$WORK/metrics.txt" || fail "promtool rejects alert's /metrics"
fi
grep -Eq '^kvision_alerts_total\{.*rule="lower-person".*\} 1$' "$WORK/metrics.txt" ||
  fail "kvision_alerts_total: $(grep kvision_alerts_total "$WORK/metrics.txt")"
grep -Eq '^kvision_webhook_posts_total\{outcome="retry"\} 1$' "$WORK/metrics.txt" || fail "webhook metrics"
kill -TERM "$ALERT_PID"
wait "$ALERT_PID" || fail "alert exited with an error"
kcat -b "$BROKERS" -C -t alerts -o beginning -e -q >"$WORK/alerts.jsonl" 2>/dev/null
GT="$SHARED/data/pets09_s2l1_vtest/gt.txt"
/usr/bin/python3 - "$WORK/alerts.jsonl" "$WORK/hook.jsonl" $FRAMES "$GT" <<'PY' >"$WORK/summary.txt" || fail "alerts: $(cat "$WORK/summary.txt")"
import collections, json, sys
alerts = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
hooks = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
by_rule = collections.Counter(a["rule"] for a in alerts)
print("alerts by rule:", dict(by_rule), "webhook:", len(hooks))
assert by_rule["lower-person"] == 1, by_rule
assert by_rule["lower-person-no-cooldown"] > 5, by_rule
assert by_rule["crowd-of-40"] == 0, by_rule
assert by_rule["crossing"] >= 1, by_rule
for a in alerts:
    assert a["camera"] == "lobby" and a["frame"]["topic"] == "raw_video_frames", a
    assert a["detections"], a
    height = a["frame"]["height"]
    for d in a["detections"]:
        x, y, w, h = d["box"]
        assert d["label"] == "person" and d["score"] >= 0.5, d
        if a["rule"].startswith("lower-person"):  # stands in the lower 40 %
            assert y + h >= 0.6 * height - 0.2, d  # printed to 0.1 px
        elif a["rule"] == "crossing":  # has just stepped over the line at 55 %
            assert abs(y + h - 0.55 * height) < 0.1 * height, d
# Crossings are counted once per tracked object: the same people as the ground truth's
# (PETS09 identities whose feet cross the line in these frames), each within 5 frames and 50 px.
import os
crossed = [(a["frame"]["seq"], d) for a in alerts if a["rule"] == "crossing" for d in a["detections"]]
assert all("track" in d for _, d in crossed), crossed
assert len({d["track"] for _, d in crossed}) == len(crossed), "an object crossed twice"
if os.path.exists(sys.argv[4]):
    line, last, truth = 0.55 * 576, {}, []
    for row in sorted(tuple(map(float, l.split(",")[:7])) for l in open(sys.argv[4])):
        f, i, x, y, w, h, flag = row
        if flag == 0 or f > int(sys.argv[3]):
            continue
        foot = y + h
        if i in last and (last[i] > line) != (foot > line) and i not in [t[1] for t in truth]:
            truth.append((f - 1, i, x + w / 2))
        last[i] = foot
    print("crossings: ground truth", [(int(f), round(x)) for f, _, x in truth],
          "alerts", [(s, round(d["box"][0] + d["box"][2] / 2)) for s, d in crossed])
    assert abs(len(crossed) - len(truth)) <= 1, (crossed, truth)
    for s, d in crossed:
        x = d["box"][0] + d["box"][2] / 2
        assert any(abs(s - f) <= 5 and abs(x - tx) <= 50 for f, _, tx in truth), (s, x, truth)
first = [a for a in alerts if a["rule"] == "lower-person"][0]
assert first["frame"]["seq"] >= 2, first  # three frames running, at the earliest the third
assert sorted(h["id"] for h in hooks) == sorted(a["id"] for a in alerts), "webhook != topic"
PY
grep -q "attempt 1 failed (HTTP 500)" "$WORK/alert.log" || fail "the webhook's 500 was not retried"
[ ! -e "$WORK/hook.jsonl.rejected" ] || fail "the receiver refused $(wc -l <"$WORK/hook.jsonl.rejected") badly signed POST(s)"
! grep -q "$(head -1 "$WORK/hook.secret")" "$WORK/alert.log" || fail "the webhook secret is in the log"
grep -q "held back by cooldowns" "$WORK/alert.log" || fail "no summary"
cat "$WORK/summary.txt"
grep "alert: $FRAMES frames" "$WORK/alert.log" || fail "alert did not see $FRAMES frames"
echo "PASS"
