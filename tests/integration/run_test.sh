#!/usr/bin/env bash
# `kvision run` on 60 frames: every frame comes out, in order, and the summary reports persons.
source "$(dirname "$0")/lib.sh"
require_file "$DATA/vtest.avi"
require_file "$MODEL"
"$KV" run --source "$DATA/vtest.avi" --model "$MODEL" --max-frames 60 --output "$WORK/results.jsonl" \
  >"$WORK/run.log" 2>&1 || fail "run exited with $?"
grep -q "frames in         60" "$WORK/run.log" || fail "summary: frames in"
grep -q "frames out        60" "$WORK/run.log" || fail "summary: frames out"
grep -Eq "persons seen      [1-9][0-9]* boxes" "$WORK/run.log" || fail "summary: persons"
grep -Eq "latency p50/p99   [0-9.]+ / [0-9.]+ ms" "$WORK/run.log" || fail "summary: latency"
[ "$(wc -l <"$WORK/results.jsonl")" -eq 60 ] || fail "results file has $(wc -l <"$WORK/results.jsonl") lines"
python3 - "$WORK/results.jsonl" <<'PY' || fail "results are not 60 distinct frames"
import json, sys
seqs = sorted(json.loads(l)["seq"] for l in open(sys.argv[1]))
assert seqs == list(range(60)), seqs
PY
# Results come out in order, so the result consumer's sequence check has nothing to report.
! grep -Eq "skipped [0-9]+ frame|arrived again|missing and" "$WORK/run.log" \
  || fail "false sequence warnings: $(grep -E "skipped [0-9]+ frame|arrived again|missing and" "$WORK/run.log" | head -3)"
sed -n '/== kvision run summary ==/,$p' "$WORK/run.log"
echo "PASS"
