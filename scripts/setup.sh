#!/usr/bin/env bash
# Installs everything kvision needs on a fresh Debian 12 machine (as root, or with sudo),
# then fetches the sample media from Debian packages into .data/. Safe to run again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

packages=(
  build-essential cmake pkg-config git
  libopencv-dev            # OpenCV: DNN, imgcodecs, videoio (FFmpeg backend), objdetect
  libjpeg-dev              # libjpeg-turbo: JPEG decoding scaled in the IDCT
  librdkafka-dev           # the Kafka client, and its mock cluster for the embedded broker
  libcli11-dev nlohmann-json3-dev libfmt-dev
  libsqlite3-dev           # kvision store
  libsodium-dev libssl-dev # kvision web: Argon2id password hashes, session tokens, HMAC; HTTPS
  libyaml-cpp-dev          # kvision ingest --cameras FILE
  ffmpeg                   # ffprobe checks the clips kvision clip writes (H.264 through OpenCV and libx264)
  # a real RTSP server for the camera tests (tests/integration/rtsp_server.py)
  python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-ugly gstreamer1.0-libav
  libgtest-dev libgmock-dev libbenchmark-dev
  kcat                     # an independent Kafka client, used by the integration tests
  python3-kafka            # kafka-python: a pure-Python Kafka client, for the broker tests
  python3 clang-format
  prometheus curl          # promtool and a real Prometheus server for the monitoring test
  chromium fonts-dejavu-core  # a real browser for the live-view test (kvision web)
  postgresql libpq-dev     # kvision store --db postgresql://... and its test server
  openjdk-17-jre-headless maven openssl  # Apache Kafka for the cluster tests (scripts/kafka-cluster.sh)
)
# Node.js runs kafkajs (a pure-JavaScript Kafka client) in the broker tests; an existing
# installation (for example from NodeSource) is used as it is.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# kafkajs and playwright-core, pinned in tests/clients/package-lock.json.
if [ ! -f "$root/tests/clients/node_modules/kafkajs/package.json" ] ||
  [ ! -f "$root/tests/clients/node_modules/playwright-core/package.json" ]; then
  echo "setup: installing kafkajs and playwright-core for the tests (npm)"
  (cd "$root/tests/clients" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

# ONNX Runtime (the default inference engine), pinned, into .cache/onnxruntime.
"$root/scripts/fetch_onnxruntime.sh"

# Apache Kafka's release jars from Maven Central, cached in .cache/kafka (offline afterwards).
"$root/scripts/kafka-cluster.sh" fetch

"$root/scripts/fetch_samples.sh"
