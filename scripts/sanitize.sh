#!/usr/bin/env bash
# Builds everything with AddressSanitizer and UndefinedBehaviorSanitizer in build-asan/ (the
# `asan` CMake preset) and runs the unit tests and the integration tests that exercise the
# broker, transactions, the pipeline's processes and the fault paths (the kvision binary under
# the sanitizers too).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cmake -S "$root" -B "$root/build-asan" -DCMAKE_BUILD_TYPE=Debug -DKV_SANITIZE=ON >/dev/null
cmake --build "$root/build-asan" -j "${KV_JOBS:-2}"
cd "$root/build-asan"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
ctest --output-on-failure -L unit
ctest --output-on-failure -R '^(MockCluster|KafkaConfig|BrokerClientsTest|TransactionsTest)\.'
ctest --output-on-failure -R \
  '^integration\.(pipeline_two_detectors|audit|bad_input|cameras|fault_kill_eos|fault_poison_alo|fault_storm_eos|alert|web_auth)$'
