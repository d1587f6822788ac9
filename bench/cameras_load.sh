#!/usr/bin/env bash
# Many cameras from one ingest process: CAMERAS (default 16) RTSP cameras at FPS (default 5)
# through `kvision ingest --cameras`, served by a real RTSP server (tests/integration/
# rtsp_server.py: vtest.avi as H.264 at 10 fps, one encoder shared by all clients, so the
# server's own cost does not grow with the cameras). After a WARMUP, measures over SECONDS:
# the ingest process's CPU (user + system, from /proc), its resident memory, and the frames
# each camera published (from its Prometheus counter). Prints one BENCH line.
#   bench/cameras_load.sh [build/src/app/kvision] [cameras] [fps] [seconds]
set -euo pipefail
KV="$(realpath "${1:-build/src/app/kvision}")"
CAMERAS="${2:-16}"
FPS="${3:-5}"
SECONDS_MEASURED="${4:-30}"
WARMUP="${WARMUP:-60}"  # the cameras connect one at a time (OpenCV opens one capture at a time)
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DATA="${KV_DATA_DIR:-$ROOT/.data}"
[ -f "$DATA/vtest.avi" ] || { echo "no $DATA/vtest.avi (scripts/fetch_samples.sh)"; exit 1; }
WORK="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

BROKER_PORT="$(free_port)"
"$KV" broker --data-dir "$WORK/data" --port "$BROKER_PORT" --retention-ms 60000 >"$WORK/broker.log" 2>&1 &
RTSP_PORT="$(free_port)"
/usr/bin/python3 "$ROOT/tests/integration/rtsp_server.py" --port "$RTSP_PORT" --video "$DATA/vtest.avi" \
  --mounts cam >"$WORK/rtsp.log" 2>&1 &
for _ in $(seq 100); do grep -q ready "$WORK/rtsp.log" && grep -q "listening on" "$WORK/broker.log" && break; sleep 0.1; done
{
  printf 'defaults:\n  fps: %s\ncameras:\n' "$FPS"
  for i in $(seq "$CAMERAS"); do printf '  - id: cam%02d\n    source: rtsp://127.0.0.1:%s/cam\n' "$i" "$RTSP_PORT"; done
} >"$WORK/cameras.yaml"
METRICS_PORT="$(free_port)"
"$KV" ingest --brokers "127.0.0.1:$BROKER_PORT" --cameras "$WORK/cameras.yaml" \
  --metrics "127.0.0.1:$METRICS_PORT" >"$WORK/ingest.log" 2>&1 &
INGEST=$!
echo "cameras_load: $CAMERAS cameras at $FPS fps; warming up ${WARMUP}s, then measuring ${SECONDS_MEASURED}s" >&2
sleep "$WARMUP"

ticks() { awk '{print $14 + $15}' "/proc/$INGEST/stat"; }
frames() {
  curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" |
    awk '/^kvision_frames_total\{stage="ingest"/ {split($1, a, "camera=\""); split(a[2], b, "\""); print b[1], int($2)}'
}
frames >"$WORK/f0"
t0=$(ticks)
sleep "$SECONDS_MEASURED"
t1=$(ticks)
frames >"$WORK/f1"
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$INGEST/status")
hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$INGEST/status")
threads=$(awk '/Threads/ {print $2}' "/proc/$INGEST/status")
python3 - "$WORK/f0" "$WORK/f1" "$t0" "$t1" "$(getconf CLK_TCK)" "$SECONDS_MEASURED" "$CAMERAS" "$FPS" \
  "$rss_kb" "$hwm_kb" "$threads" "$(nproc)" <<'PY'
import sys
f0 = dict(l.split() for l in open(sys.argv[1]) if l.strip())
f1 = dict(l.split() for l in open(sys.argv[2]) if l.strip())
t0, t1, hz, secs, n, fps = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7]), float(sys.argv[8])
rss, hwm, threads, cores = int(sys.argv[9]) / 1024, int(sys.argv[10]) / 1024, int(sys.argv[11]), int(sys.argv[12])
rates = sorted((int(f1.get(c, 0)) - int(f0.get(c, 0))) / secs for c in f1)
cpu = (t1 - t0) / hz / secs
up = sum(1 for r in rates if r >= 0.9 * fps)
print(f"BENCH cameras={n} fps_target={fps} cameras_at_rate={up} fps_min={rates[0] if rates else 0:.2f} "
      f"fps_max={rates[-1] if rates else 0:.2f} total_fps={sum(rates):.1f} cpu_cores={cpu:.2f} "
      f"cpu_per_camera={100 * cpu / n:.1f}% rss_mb={rss:.0f} rss_peak_mb={hwm:.0f} "
      f"rss_per_camera_mb={rss / n:.1f} threads={threads} machine_cores={cores}")
PY
