#!/usr/bin/env bash
# kvision store and query on a real PostgreSQL server (Debian's), started here in a private
# data directory on a free port: the store's unit tests against it, then vtest.avi stored both
# in PostgreSQL and in SQLite; a full redelivery adds nothing and both answer queries the same.
source "$(dirname "$0")/lib.sh"
require_file "$MODEL_ONNX"
require_file "$DATA/vtest.avi"
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -x "$PG_BIN/initdb" ] || skip "no PostgreSQL server (scripts/setup.sh installs postgresql)"
TEST_STORE="$(dirname "$KV")/../../tests/store/test_store"
[ -x "$TEST_STORE" ] || fail "no $TEST_STORE"

# PostgreSQL refuses to run as root: as root, the server runs as the postgres user.
PGDIR="$(mktemp -d /tmp/kv-pg.XXXXXX)"
AS=()
if [ "$(id -u)" -eq 0 ]; then
  AS=(runuser -u postgres --)
  chown postgres "$PGDIR"
fi
PG_PORT="$(free_port)"
stop_pg() {
  "${AS[@]}" "$PG_BIN/pg_ctl" -D "$PGDIR/data" stop -m fast >/dev/null 2>&1 || true
  rm -rf "$PGDIR"
}
trap 'stop_pg; cleanup' EXIT
"${AS[@]}" "$PG_BIN/initdb" -D "$PGDIR/data" -A trust -U kv >"$WORK/initdb.log" 2>&1 || fail "initdb: $(tail -n 5 "$WORK/initdb.log")"
"${AS[@]}" "$PG_BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
  -o "-p $PG_PORT -k $PGDIR -c listen_addresses=127.0.0.1" start >"$WORK/pg_ctl.log" 2>&1 ||
  fail "PostgreSQL did not start: $(cat "$PGDIR/server.log")"
PG_URL="postgresql://kv@127.0.0.1:$PG_PORT/postgres"
echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on port $PG_PORT"

KV_TEST_POSTGRES_URL="$PG_URL" "$TEST_STORE" --gtest_filter='*postgresql*' >"$WORK/unit.log" 2>&1 ||
  fail "store unit tests on PostgreSQL: $(tail -n 30 "$WORK/unit.log")"
grep -q "PASSED.*4 tests" "$WORK/unit.log" || fail "expected 4 PostgreSQL unit tests: $(tail -n 10 "$WORK/unit.log")"
psql "$PG_URL" -qc "drop table frames, detections" || fail "psql"

start_broker
"$KV" detect --brokers "$BROKERS" --model "$MODEL" >"$WORK/detect.log" 2>&1 &
PIDS+=($!)
"$KV" ingest --brokers "$BROKERS" --source "$DATA/vtest.avi" --camera lobby --max-frames 40 --max-lag 0 \
  --no-progress >"$WORK/ingest.log" 2>&1 || fail "ingest"
wait_records detections 40 120
psql_count() { psql "$PG_URL" -tAc "select count(*) from frames"; }
run_store() {  # GROUP DB: store until all 40 frames are in, then stop it with SIGTERM
  "$KV" store --brokers "$BROKERS" --db "$2" --group "$1" >"$WORK/store-$1.log" 2>&1 &
  local pid=$!
  for _ in $(seq 120); do
    grep -q "assigned" "$WORK/store-$1.log" && sleep 2 && break
    sleep 0.5
  done
  kill -TERM "$pid"
  wait "$pid" || fail "store exited with an error: $(tail -n 3 "$WORK/store-$1.log")"
}
run_store pg "$PG_URL"
[ "$(psql_count)" -eq 40 ] || fail "expected 40 frames in PostgreSQL, got $(psql_count)"
run_store pg-again "$PG_URL"
grep -q "40 records read (0 new frames stored" "$WORK/store-pg-again.log" || fail "a redelivery wrote rows"
[ "$(psql_count)" -eq 40 ] || fail "a redelivery created rows: $(psql_count)"
run_store sqlite "$WORK/db.sqlite"
for args in "--label person --min-score 0.5" "--label person --zone 0,0.6_1,0.6_1,1_0,1 --normalised" "--camera lobby --limit 25"; do
  read -ra a <<<"${args//_/ }"
  # a zone's points are one argument
  if [[ "$args" == *--zone* ]]; then a=(--label person --zone "0,0.6 1,0.6 1,1 0,1" --normalised); fi
  "$KV" query --db "$PG_URL" "${a[@]}" >"$WORK/pg.jsonl" || fail "query on PostgreSQL"
  "$KV" query --db "$WORK/db.sqlite" "${a[@]}" >"$WORK/sqlite.jsonl" || fail "query on SQLite"
  [ -s "$WORK/pg.jsonl" ] || fail "no results for $args"
  cmp -s "$WORK/pg.jsonl" "$WORK/sqlite.jsonl" || { diff "$WORK/pg.jsonl" "$WORK/sqlite.jsonl" | head; fail "PostgreSQL and SQLite differ on $args"; }
  echo "query ${a[*]}: $(wc -l <"$WORK/pg.jsonl") rows, the same on both"
done
set +e
"$KV" query --db "postgresql://kv@127.0.0.1:$(free_port)/postgres" >"$WORK/down.txt" 2>&1; rc=$?
set -e
[ "$rc" -eq 1 ] && grep -q "cannot connect to PostgreSQL at 127.0.0.1" "$WORK/down.txt" || fail "no server gave $rc: $(cat "$WORK/down.txt")"
echo "PASS"
