#!/usr/bin/env bash
# kafka-python (Debian python3-kafka, pure Python) against the durable broker: produce, consume,
# a two-member group with rebalances, committed offsets, topic admin and configs, group listing
# and description, retention with OFFSET_OUT_OF_RANGE and the reset policy.
source "$(dirname "$0")/lib.sh"
/usr/bin/python3 -c 'import kafka' 2>/dev/null || fail "python3-kafka is not installed (run scripts/setup.sh)"
start_broker durable --retention-check-ms 200
timeout 180 /usr/bin/python3 "$SRC/tests/clients/python_kafka_client.py" "$BROKERS" || fail "kafka-python client test"
echo "PASS"
