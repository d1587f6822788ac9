#!/usr/bin/env bash
# kcat (Debian, librdkafka's CLI) against the durable broker: produce, consume, metadata, and a
# balanced consumer group of two members with a rebalance and committed offsets. (kcat has no
# admin or group-listing commands; the Python and JavaScript clients cover those.)
source "$(dirname "$0")/lib.sh"
start_broker durable
kcat -b "$BROKERS" -L -t raw_video_frames | grep -q "topic \"raw_video_frames\" with 4 partitions" ||
  fail "kcat -L does not show raw_video_frames with 4 partitions"

seq 1 400 | sed 's/^/m/' | kcat -b "$BROKERS" -P -t kc -p -1 -K: -X acks=all -X enable.idempotence=true \
  -X topic.partitioner=murmur2_random 2>"$WORK/produce.log" || fail "kcat produce"
[ "$(kcat -b "$BROKERS" -C -t kc -o beginning -e -q | sort | uniq | wc -l)" -eq 400 ] ||
  fail "kcat did not read back 400 distinct records"

# The timestamp lookup (ListOffsets by time): reading from a moment gives what was produced after.
seq 1 20 | sed 's/^/early/' | kcat -b "$BROKERS" -P -t kc-time -p 0 -X acks=all || fail "kcat produce early"
sleep 1.2
t_ms=$(($(date +%s%N) / 1000000))
sleep 0.2
seq 1 15 | sed 's/^/late/' | kcat -b "$BROKERS" -P -t kc-time -p 0 -X acks=all || fail "kcat produce late"
from_t="$(kcat -b "$BROKERS" -C -t kc-time -p 0 -o "s@$t_ms" -e -q | tr '\n' ' ')"
[ "$from_t" = "$(seq 1 15 | sed 's/^/late/' | tr '\n' ' ')" ] || fail "reading from timestamp $t_ms gave: $from_t"
[ -z "$(kcat -b "$BROKERS" -C -t kc-time -p 0 -o "s@$((t_ms + 600000))" -e -q)" ] ||
  fail "a timestamp after every record should give nothing"

# Compressed batches are stored and served as they are: every codec reads back whole.
for codec in gzip snappy lz4 zstd; do
  seq 1 300 | kcat -b "$BROKERS" -P -t "kc-$codec" -p 0 -z "$codec" -X acks=all || fail "kcat produce with $codec"
  got="$(kcat -b "$BROKERS" -C -t "kc-$codec" -o beginning -e -q | tr '\n' ' ')"
  [ "$got" = "$(seq 1 300 | tr '\n' ' ')" ] || fail "$codec batches did not read back in order"
done

# Two balanced consumers in one group: the second joins while the first runs (a rebalance).
member() {
  kcat -b "$BROKERS" -G kc-group kc -X auto.offset.reset=earliest -X enable.auto.commit=true \
    -X auto.commit.interval.ms=100 -X session.timeout.ms=6000 -f '%p %o %s\n' -u \
    >"$WORK/member_$1.out" 2>"$WORK/member_$1.log" &
  PIDS+=($!)
  eval "M$1=$!"
}
distinct() { cat "$WORK"/member_*.out | cut -d' ' -f3 | sort -u | wc -l; }
wait_distinct() {
  for _ in $(seq 150); do [ "$(distinct)" -ge "$1" ] && return 0; sleep 0.2; done
  fail "the group read $(distinct) of $1 distinct records"
}
member a
wait_distinct 400
member b
# Member a is assigned all 4 partitions, then its share when b joins.
for _ in $(seq 150); do
  [ "$(grep -c "rebalanced.*assigned" "$WORK/member_a.log")" -ge 2 ] &&
    grep -q "rebalanced.*assigned" "$WORK/member_b.log" && break
  sleep 0.2
done
grep -q "rebalanced.*assigned" "$WORK/member_b.log" || fail "member b was never assigned partitions"
[ "$(grep -c "rebalanced.*assigned" "$WORK/member_a.log")" -ge 2 ] || fail "member a saw no rebalance"
seq 401 800 | awk '{print "k" $1 ":m" $1}' | kcat -b "$BROKERS" -P -t kc -K: -X acks=all ||
  fail "kcat produce after the rebalance"
wait_distinct 800
[ -s "$WORK/member_b.out" ] || fail "the second member got no records after the rebalance"
sleep 1  # one more auto-commit round
kill -TERM "$Ma" "$Mb"; wait "$Ma" "$Mb" 2>/dev/null || true

# The committed offsets are kept: a new member of the group reads only what is new.
seq 801 810 | sed 's/^/m/' | kcat -b "$BROKERS" -P -t kc -K: -X acks=all || fail "kcat produce 2"
kcat -b "$BROKERS" -G kc-group kc -X auto.offset.reset=earliest -f '%s\n' -u >"$WORK/late.out" 2>"$WORK/late.log" &
LATE=$!
PIDS+=($LATE)
for _ in $(seq 100); do [ "$(wc -l <"$WORK/late.out")" -ge 10 ] && break; sleep 0.2; done
sleep 1
kill -TERM "$LATE" 2>/dev/null; wait "$LATE" 2>/dev/null || true
[ "$(sort -u "$WORK/late.out" | wc -l)" -eq 10 ] || fail "a new member read $(wc -l <"$WORK/late.out") records, expected the 10 new ones"
echo "PASS"
