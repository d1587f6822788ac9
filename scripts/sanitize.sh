#!/usr/bin/env bash
# Builds the unit tests (and the broker/client test) with AddressSanitizer and
# UndefinedBehaviorSanitizer in build-asan/ and runs them.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cmake -S "$root" -B "$root/build-asan" -DCMAKE_BUILD_TYPE=Debug -DKV_SANITIZE=ON >/dev/null
cmake --build "$root/build-asan" -j "${KV_JOBS:-2}" \
  --target test_wire test_media test_detect test_pipeline test_kafka test_broker test_broker_server
cd "$root/build-asan"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
ctest --output-on-failure -L unit
ctest --output-on-failure -R '^(EmbeddedBroker|KafkaConfig)\.'
