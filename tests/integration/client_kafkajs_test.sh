#!/usr/bin/env bash
# kafkajs (npm, pure JavaScript) against the durable broker: idempotent produce, a two-member
# group with rebalances, committed offsets, topic admin and configs, group listing and
# description, retention and the reset to the log start.
source "$(dirname "$0")/lib.sh"
[ -f "$SRC/tests/clients/node_modules/kafkajs/package.json" ] ||
  fail "kafkajs is not installed in tests/clients (run scripts/setup.sh)"
start_broker durable --retention-check-ms 200
timeout 180 node "$SRC/tests/clients/kafkajs_client.mjs" "$BROKERS" || fail "kafkajs client test"
echo "PASS"
