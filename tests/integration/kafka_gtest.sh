#!/usr/bin/env bash
# Runs a GoogleTest binary written for kvision's broker against a single-node Apache Kafka
# (scripts/kafka-cluster.sh), by handing it KV_TEST_KAFKA=BOOTSTRAP:
#   kafka_gtest.sh KVISION KCAT_CHECK TEST_BINARY [gtest flags...]
source "$(dirname "$0")/lib.sh"
binary="$3"
shift 3
# Kafka checks for timed-out transactions every 10 s by default; the tests wait less.
start_kafka 1 --set transaction.abort.timed.out.transaction.cleanup.interval.ms=500 \
  --set transaction.state.log.replication.factor=1 --set transaction.state.log.min.isr=1
KV_TEST_KAFKA="$BROKERS" "$binary" "$@" || fail "$(basename "$binary") failed against Apache Kafka"
