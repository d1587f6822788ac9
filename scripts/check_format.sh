#!/usr/bin/env bash
# Fails when a C++ file differs from what the pinned .clang-format makes of it.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-format >/dev/null; then
  echo "check_format: clang-format not installed; skipped"
  exit 0
fi
git ls-files '*.cpp' '*.h' | xargs clang-format --dry-run --Werror
echo "check_format: $(git ls-files '*.cpp' '*.h' | wc -l) files formatted"
