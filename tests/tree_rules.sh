#!/usr/bin/env bash
# The tree's boundaries, checked on the source: librdkafka stays inside src/kafka (and out of
# its public headers), and the CLI holds no consume loop of its own.
set -euo pipefail
src="${1:?usage: tree_rules.sh SOURCE_DIR}/src"
fail=0
leaks=$(grep -rnE 'rd_kafka_|RD_KAFKA_|librdkafka/rdkafka\.h' "$src" --include='*.cpp' --include='*.h' |
  grep -v "^$src/kafka/" || true)
if [ -n "$leaks" ]; then
  echo "librdkafka used outside src/kafka:"; echo "$leaks"; fail=1
fi
# Only client.h (for src/kafka's own .cpp files) may include librdkafka's header.
public=$(grep -lE 'librdkafka/rdkafka\.h' "$src"/kafka/*.h | grep -v '/client\.h$' || true)
if [ -n "$public" ]; then
  echo "src/kafka headers that include librdkafka's header (use handles.h's declarations):"
  echo "$public"; fail=1
fi
# Records are consumed through pipeline::run_subscriber or the detect stage; the only loop
# in the CLI is the bench's naive baseline, which it measures against on purpose.
loops=$(grep -lE '(->|\.)poll\(' "$src"/app/*.cpp | grep -v '/cmd_bench\.cpp$' || true)
if [ -n "$loops" ]; then
  echo "consume loops in the CLI (move them into a stage):"; echo "$loops"; fail=1
fi
[ "$fail" = 0 ] && echo "tree rules: librdkafka inside src/kafka, no consume loop in src/app"
exit "$fail"
