#!/usr/bin/env bash
# Who may see the cameras (docs/security.md): kvision web with users, over HTTPS, attacked.
# - Listening beyond loopback without users is refused; --insecure-no-auth is the way out.
# - Users are managed with `kvision web user`; their file holds Argon2id hashes, mode 0600.
# - In Chromium: logged out, the page and its API are refused; a wrong password is refused;
#   logged in, the live view works; after logging out, a second tab's event stream is ended.
# - With curl: plain HTTP on the TLS port, limits (431, 413, 503), failed logins rate-limited
#   (429) and logged without the password, path traversal, and SQL injection through every
#   query parameter (the database stays whole).
source "$(dirname "$0")/lib.sh"
require_file "$MODEL_ONNX"
require_file "$DATA/vtest.avi"
require_chromium
start_broker

# 1. No users beyond loopback: refused, with how to add one.
rc=0
"$KV" web --brokers "$BROKERS" --listen "0.0.0.0:$(free_port)" >"$WORK/open.out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -q "kvision web user add" "$WORK/open.out" ||
  fail "web on 0.0.0.0 without users: exit $rc, $(cat "$WORK/open.out")"
echo "ok: $(grep -o 'listening on.*reach it' "$WORK/open.out")"
OPEN_PORT="$(free_port)"
"$KV" web --brokers "$BROKERS" --listen "0.0.0.0:$OPEN_PORT" --insecure-no-auth >"$WORK/insecure.log" 2>&1 &
INSECURE=$!
PIDS+=($INSECURE)
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$OPEN_PORT/healthz" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$OPEN_PORT/api/cameras" >/dev/null || fail "--insecure-no-auth did not serve"
kill "$INSECURE"

# 2. Users.
PASSWORD="correct horse battery"
echo "$PASSWORD" | "$KV" web user add ana --users "$WORK/users" --password-stdin >/dev/null || fail "user add"
echo "another password" | "$KV" web user add bo --users "$WORK/users" --password-stdin >/dev/null || fail "user add bo"
"$KV" web user remove bo --users "$WORK/users" >/dev/null || fail "user remove"
[ "$("$KV" web user list --users "$WORK/users")" = ana ] || fail "user list: $("$KV" web user list --users "$WORK/users")"
[ "$(stat -c %a "$WORK/users")" = 600 ] || fail "the users file is mode $(stat -c %a "$WORK/users")"
grep -q "$PASSWORD" "$WORK/users" && fail "the password is in the users file"
rc=0
echo short | "$KV" web user add cy --users "$WORK/users" --password-stdin >"$WORK/short.out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -q "at least 8" "$WORK/short.out" || fail "a short password: exit $rc"

# 3. The pipeline, and kvision web over HTTPS with a self-signed certificate.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null ||
  fail "openssl could not make a certificate"
"$KV" detect --brokers "$BROKERS" --model "$MODEL" >"$WORK/detect.log" 2>&1 &
PIDS+=($!)
"$KV" store --brokers "$BROKERS" --db "$WORK/db.sqlite" >"$WORK/store.log" 2>&1 &
PIDS+=($!)
"$KV" ingest --brokers "$BROKERS" --source "$DATA/vtest.avi" --camera lobby --realtime --max-frames 600 \
  --no-progress >"$WORK/ingest.log" 2>&1 &
PIDS+=($!)
WEB_PORT="$(free_port)"
METRICS_PORT="$(free_port)"
"$KV" web --brokers "$BROKERS" --listen "127.0.0.1:$WEB_PORT" --users "$WORK/users" --db "$WORK/db.sqlite" \
  --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem" --max-connections 8 --clips-dir "$WORK/clips" \
  --metrics "127.0.0.1:$METRICS_PORT" --metrics-tls-cert "$WORK/cert.pem" --metrics-tls-key "$WORK/key.pem" \
  >"$WORK/web.log" 2>&1 &
WEB_PID=$!
PIDS+=($WEB_PID)
URL="https://127.0.0.1:$WEB_PORT"
C=(curl -s --cacert "$WORK/cert.pem")
for _ in $(seq 50); do "${C[@]}" -f "$URL/healthz" >/dev/null && break; sleep 0.2; done
grep -q "open https://127.0.0.1:$WEB_PORT/" "$WORK/web.log" || fail "web did not start on HTTPS: $(cat "$WORK/web.log")"
code() { "${C[@]}" -o /dev/null -w '%{http_code}' "$@"; }

# The metrics endpoint speaks HTTPS too.
"${C[@]}" -f "https://127.0.0.1:$METRICS_PORT/metrics" | grep -q '^kvision_build_info' || fail "no metrics over HTTPS"
curl -s -m 5 "http://127.0.0.1:$METRICS_PORT/metrics" >/dev/null 2>&1 && fail "metrics served over plain HTTP"
# Plain HTTP on the TLS port gets nothing; an untrusted client refuses the certificate.
curl -s -m 5 "http://127.0.0.1:$WEB_PORT/api/cameras" >/dev/null 2>&1 && fail "plain HTTP was served"
curl -s -m 5 "$URL/healthz" >/dev/null 2>&1 && fail "curl trusted a self-signed certificate"
# Logged out: the page sends to /login; the API, streams, frames and clips are refused.
[ "$(code "$URL/")" = 303 ] || fail "/ without a session: $(code "$URL/")"
for path in /api/cameras /api/events /api/status /api/alerts "/api/query?label=person" \
  /api/cameras/lobby/latest.jpg /clips/x.mp4 /app.js; do
  [ "$(code "$URL$path")" = 401 ] || fail "$path without a session: $(code "$URL$path")"
done
headers="$("${C[@]}" -D - -o /dev/null "$URL/login")"
for h in "Content-Security-Policy: default-src 'self'" "X-Content-Type-Options: nosniff" "frame-ancestors 'none'"; do
  grep -qF "$h" <<<"$headers" || fail "no '$h' on /login"
done
echo "ok: logged out, / is 303 to /login and 8 API, stream, frame and clip paths are 401"

# 4. In Chromium: refused, then logged in, then logged out with a second tab's stream ended.
node "$SRC/tests/integration/web_auth_check.mjs" "$URL" "$PASSWORD" >"$WORK/check.out" 2>"$WORK/check.log" ||
  fail "browser check: $(cat "$WORK/check.log")"
echo "browser: $(cat "$WORK/check.out")"
grep -q "user 'ana' logged in from 127.0.0.1" "$WORK/web.log" || fail "the login is not logged"
grep -q "user 'ana' logged out" "$WORK/web.log" || fail "the logout is not logged"

# 5. Failed logins: refused, logged without the password, then rate-limited (429).
login() { "${C[@]}" -o /dev/null -w '%{http_code}' --data-urlencode "user=$1" --data-urlencode "password=$2" "$URL/login"; }
COOKIE_JAR="$WORK/cookies"
ok="$("${C[@]}" -c "$COOKIE_JAR" -o /dev/null -w '%{http_code}' --data-urlencode "user=ana" \
  --data-urlencode "password=$PASSWORD" "$URL/login")"
[ "$ok" = 303 ] || fail "login with curl: $ok"
grep -q "#HttpOnly_127.0.0.1.*TRUE.*kv_session" "$COOKIE_JAR" || fail "the cookie is not HttpOnly and Secure: $(cat "$COOKIE_JAR")"
S=(-b "$COOKIE_JAR")
# The browser's wrong password was the first failure from this address; 4 more make 5.
for i in 1 2 3 4; do
  [ "$(login mallory "guess-$i-secretword")" = 401 ] || fail "wrong password $i"
done
[ "$(login ana "$PASSWORD")" = 429 ] || fail "the attempt after 5 failures was not rate-limited"
grep -q "failed login for user 'mallory' from 127.0.0.1" "$WORK/web.log" || fail "failed logins are not logged"
grep -q "secretword" "$WORK/web.log" && fail "a tried password is in the log"
# A user name with a newline (refused now, and logged): its second line must not become a log line.
[ "$(login "$(printf 'x\nINFO fake line')" pw)" = 429 ] || fail "a login while locked out was not refused"
grep -q "login for user (not a user name) from 127.0.0.1 refused" "$WORK/web.log" ||
  fail "the odd user name was not logged as a placeholder"
grep -q "fake line" "$WORK/web.log" && fail "a user name injected a log line"
echo "ok: 5 wrong passwords gave 401, then even the right one 429; the log names the user, never the password"

# 6. Limits: a huge head 431, a huge body 413, too many connections 503; traversal 400.
[ "$("${C[@]}" -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)" "$URL/healthz")" = 431 ] ||
  fail "a 20 KB header was not refused with 431"
[ "$("${C[@]}" -o /dev/null -w '%{http_code}' --data-binary "@$DATA/vtest.avi" "$URL/login")" = 413 ] ||
  fail "a large body was not refused with 413"
[ "$(code "${S[@]}" "$URL/clips/..%2F..%2Fusers")" = 400 ] || fail "a clip path out of its directory"
[ "$(code "${S[@]}" "$URL/api/cameras/lobby/frames/..%2F..%2Fusers.jpg")" = 404 ] || fail "a frame path out of bounds"
/usr/bin/python3 - "$WEB_PORT" "$WORK/cert.pem" <<'PY' || fail "connections beyond --max-connections were not refused"
import socket, ssl, sys, time
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
held = []
for _ in range(8):  # each holds a connection: its handshake done, its request never sent
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1")
    held.append(s)
time.sleep(0.3)
extra = socket.create_connection(("127.0.0.1", port))
extra.settimeout(3)
try:
    refused = extra.recv(100) == b""  # closed at once, before any handshake
except (ConnectionResetError, socket.timeout):
    refused = True
assert refused, "a ninth connection was served"
for s in held:
    s.close()
PY
echo "ok: 431 for a 20 KB head, 413 for a 6 MB body, the 9th connection closed, traversal refused"

# 7. SQL injection through every query parameter: refused or harmless, the database whole.
for _ in $(seq 60); do
  [ "$("${C[@]}" "${S[@]}" "$URL/api/query?label=person&limit=5" | grep -o '"camera"' | wc -l)" -ge 1 ] && break
  sleep 0.5
done
before="$("$KV" query --db "$WORK/db.sqlite" --camera lobby --to 9999999999999 --limit 100000 | wc -l)"
[ "$before" -gt 0 ] || fail "nothing stored to attack"
attempts=0
for param in camera label track from to min_score zone normalised limit format tracks; do
  for payload in "' OR '1'='1" "lobby'; DROP TABLE detections; --" "1 UNION SELECT sql FROM sqlite_master" '") OR 1=1 --'; do
    enc="$(/usr/bin/python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$payload")"
    status="$("${C[@]}" "${S[@]}" -o "$WORK/inj.json" -w '%{http_code}' "$URL/api/query?$param=$enc")"
    attempts=$((attempts + 1))
    case "$status" in
      400) ;;
      200) [ "$(grep -c sqlite_master "$WORK/inj.json")" -eq 0 ] || fail "$param: the schema leaked"
           /usr/bin/python3 -c "import json,sys; rows=json.load(open('$WORK/inj.json')); sys.exit(0 if len(rows) <= 1000 else 1)" ||
             fail "$param=$payload returned more than its limit";;
      *) fail "$param=$payload: HTTP $status" ;;
    esac
  done
done
after="$("$KV" query --db "$WORK/db.sqlite" --camera lobby --to 9999999999999 --limit 100000 | wc -l)"
[ "$after" -ge "$before" ] || fail "rows went missing after the injection attempts: $before -> $after"
[ "$("${C[@]}" "${S[@]}" "$URL/api/query?camera=$(/usr/bin/python3 -c 'import urllib.parse; print(urllib.parse.quote("lobby'"'"' OR '"'"'1'"'"'='"'"'1"))')" )" = "[]" ] ||
  fail "a camera named by an injection matched rows"
echo "ok: $attempts injection attempts through 11 parameters: 400 or no rows; the database kept its $before+ rows"
kill -TERM "$WEB_PID"
wait "$WEB_PID" || fail "web exited with an error"
echo "PASS"
