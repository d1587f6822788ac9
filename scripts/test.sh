#!/usr/bin/env bash
# The tests: set up, build, run every test (unit and integration) through CTest.
# KV_TEST_LABELS=unit scripts/test.sh runs only the quick unit tests.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
cd "$root/build"
args=(--output-on-failure --timeout 600)
[ -n "${KV_TEST_LABELS:-}" ] && args+=(-L "$KV_TEST_LABELS")
ctest "${args[@]}"
