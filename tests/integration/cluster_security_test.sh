#!/usr/bin/env bash
# kvision through a SASL_SSL listener of a real Apache Kafka (SASL/PLAIN over TLS; the CA and
# the broker's certificate are made here with openssl): ingest, detect, sink, store, alert, web,
# audit and status all connect with -X settings only. A wrong password and an untrusted
# certificate each end in a clear error and a non-zero exit within seconds.
source "$(dirname "$0")/lib.sh"
require_file "$MODEL_ONNX"
require_file "$DATA/vtest.avi"
command -v openssl >/dev/null || skip "openssl is missing (run scripts/setup.sh)"

T="$WORK/tls"
mkdir -p "$T"
{
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" -days 2 -subj "/CN=kvision test CA"
  openssl req -newkey rsa:2048 -nodes -keyout "$T/broker.key" -out "$T/broker.csr" -subj "/CN=127.0.0.1"
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$T/san.ext"
  openssl x509 -req -in "$T/broker.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
    -out "$T/broker.crt" -days 2 -extfile "$T/san.ext"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/other.key" -out "$T/other.pem" -days 2 -subj "/CN=someone else"
} >"$WORK/openssl.log" 2>&1 || fail "openssl: $(tail -n 5 "$WORK/openssl.log")"
cat "$T/broker.key" "$T/broker.crt" "$T/ca.pem" >"$T/broker.pem"  # a PEM key store

pick_kafka_base
SECURE_PORT=$((KAFKA_BASE + 2))
start_kafka 1 \
  --set "listeners=PLAINTEXT://127.0.0.1:$KAFKA_BASE,CONTROLLER://127.0.0.1:$((KAFKA_BASE + 1)),SASL_SSL://127.0.0.1:$SECURE_PORT" \
  --set "advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_BASE,SASL_SSL://127.0.0.1:$SECURE_PORT" \
  --set "sasl.enabled.mechanisms=PLAIN" \
  --set "listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_kvision=\"kv-secret\";" \
  --set "ssl.keystore.type=PEM" --set "ssl.keystore.location=$T/broker.pem"
BROKERS="127.0.0.1:$SECURE_PORT"
SEC=(-X security.protocol=SASL_SSL -X sasl.mechanisms=PLAIN -X sasl.username=kvision
     -X sasl.password=kv-secret -X "ssl.ca.location=$T/ca.pem")
echo "SASL_SSL listener at $BROKERS"

# Wrong credentials and an untrusted certificate: a clear error and a non-zero exit, fast.
refused() {  # NAME EXPECTED_TEXT COMMAND...
  local name="$1" text="$2" rc=0 t0=$SECONDS
  shift 2
  timeout 25 "$@" >"$WORK/$name.out" 2>&1 || rc=$?
  [ "$rc" -ne 0 ] || fail "$name: exit 0"
  [ "$rc" -ne 124 ] || fail "$name: still waiting after 25 s"
  grep -q "$text" "$WORK/$name.out" || fail "$name: no clear message: $(grep -v '^%' "$WORK/$name.out" | tail -n 2)"
  echo "$name: exit $rc after $((SECONDS - t0)) s: $(grep 'kvision' "$WORK/$name.out" | tail -n 1)"
  [ $((SECONDS - t0)) -le 15 ] || fail "$name took $((SECONDS - t0)) s"
}
WRONG=("${SEC[@]}")
WRONG[7]="sasl.password=not-the-password"
refused wrong-password "refused the credentials" "$KV" status --brokers "$BROKERS" "${WRONG[@]}"
refused wrong-password-ingest "refused the credentials" "$KV" ingest --brokers "$BROKERS" "${WRONG[@]}" \
  --source "$DATA/vtest.avi" -n 1
UNTRUSTED=("${SEC[@]}")
UNTRUSTED[9]="ssl.ca.location=$T/other.pem"
refused untrusted-certificate "TLS handshake with the Kafka cluster failed" "$KV" detect --brokers "$BROKERS" \
  "${UNTRUSTED[@]}" --model "$MODEL"

# Every command through the secure listener.
printf '[any-person]\nlabels = person\nwhen = present\ncooldown = 1h\n' >"$WORK/rules.conf"
"$KV" detect --brokers "$BROKERS" "${SEC[@]}" --model "$MODEL" --threads 1 >"$WORK/detect.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 300); do grep -q "assigned [1-9]" "$WORK/detect.log" && break; sleep 0.1; done
grep -q "assigned [1-9]" "$WORK/detect.log" || fail "detect got no partitions through SASL_SSL"
"$KV" sink --brokers "$BROKERS" "${SEC[@]}" --topic detections -o "$WORK/results.jsonl" >"$WORK/sink.log" 2>&1 &
PIDS+=($!)
"$KV" store --brokers "$BROKERS" "${SEC[@]}" --db "$WORK/store.db" >"$WORK/store.log" 2>&1 &
PIDS+=($!)
"$KV" alert --brokers "$BROKERS" "${SEC[@]}" --rules "$WORK/rules.conf" >"$WORK/alert.log" 2>&1 &
PIDS+=($!)
WEB_PORT="$(free_port)"
"$KV" web --brokers "$BROKERS" "${SEC[@]}" --listen "127.0.0.1:$WEB_PORT" >"$WORK/web.log" 2>&1 &
PIDS+=($!)
"$KV" ingest --brokers "$BROKERS" "${SEC[@]}" --source "$DATA/vtest.avi" --camera lobby -n 30 --max-lag 0 \
  --no-progress >"$WORK/ingest.log" 2>&1 || fail "ingest through SASL_SSL"
for _ in $(seq 120); do
  [ -f "$WORK/results.jsonl" ] && [ "$(wc -l <"$WORK/results.jsonl")" -ge 30 ] && break
  sleep 0.5
done
[ "$(wc -l <"$WORK/results.jsonl")" -eq 30 ] || fail "sink got $(wc -l <"$WORK/results.jsonl") of 30 results"
"$KV" audit --brokers "$BROKERS" "${SEC[@]}" --timeout 20 >"$WORK/audit.out" 2>&1 || true
grep -q "^TOTAL in=30 out=30 missing=0" "$WORK/audit.out" || fail "audit through SASL_SSL: $(grep TOTAL "$WORK/audit.out")"
ok=""
for _ in $(seq 30); do
  if "$KV" status --brokers "$BROKERS" "${SEC[@]}" --interval 1 >"$WORK/status.out" 2>&1; then ok=1; break; fi
  sleep 1
done
[ -n "$ok" ] || fail "status through SASL_SSL: $(grep -v '^%' "$WORK/status.out" | tail -n 5)"
for g in kvision-detect kvision-store kvision-alert; do
  grep -q "^GROUP $g " "$WORK/status.out" || fail "status does not show group $g"
done
awk '$1 == "alerts" && $3 > 0 {found = 1} END {exit !found}' "$WORK/status.out" ||
  fail "alert published nothing through SASL_SSL"
curl -sf "http://127.0.0.1:$WEB_PORT/api/cameras" | grep -q '"lobby"' || fail "web shows no camera through SASL_SSL"
echo "through SASL_SSL: 30 frames ingested, detected, sunk, stored, alerted on and shown; audit $(grep TOTAL "$WORK/audit.out"); status $(grep '^VERDICT' "$WORK/status.out")"
# The password given with -X is in no log and no output of any command.
if grep -l -e "kv-secret" -e "not-the-password" "$WORK"/*.log "$WORK"/*.out 2>/dev/null; then
  fail "a password given with -X was printed"
fi
echo "ok: the SASL password is in none of the $(ls "$WORK"/*.log "$WORK"/*.out | wc -l) logs and outputs"
