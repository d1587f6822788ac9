#!/usr/bin/python3
"""kafka-python (Debian python3-kafka, pure Python) against kvision's durable broker.

Usage: python_kafka_client.py HOST:PORT
Exercises produce, consume, a two-member group with a rebalance, committed offsets, topic
create/delete/configs, group listing and description, and retention with the reset policy.
Any failed expectation raises; the exit code is then non-zero.
"""
import sys
import threading
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import (InvalidConfigurationError, OffsetOutOfRangeError,
                          TopicAlreadyExistsError, UnknownTopicOrPartitionError)

BOOT = sys.argv[1]
TOPIC = "py-topic"
GROUP = "py-group"
N = 300


def log(msg):
    print(f"python-kafka: {msg}", flush=True)


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def wait_for(pred, what, timeout=30.0, step=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if step:
            step()
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


admin = KafkaAdminClient(bootstrap_servers=BOOT, client_id="py-admin")

# --- topics: create (with a config), duplicate, bad config, describe configs -----------------
admin.create_topics([NewTopic(TOPIC, 3, 1, topic_configs={"retention.ms": "3600000"})])
expect(TOPIC in admin.list_topics(), "created topic listed")
try:
    admin.create_topics([NewTopic(TOPIC, 3, 1)])
    raise AssertionError("a second create of the same topic succeeded")
except TopicAlreadyExistsError:
    pass
try:
    admin.create_topics([NewTopic("py-bad", 1, 1, topic_configs={"retention.ms": "soon"})])
    raise AssertionError("a topic with retention.ms=soon was created")
except InvalidConfigurationError:
    pass
expect("py-bad" not in admin.list_topics(), "rejected topic absent")
configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, TOPIC)])
entries = {c[0]: c[1] for c in configs[0].resources[0][4]}
expect(entries.get("retention.ms") == "3600000", f"retention.ms described: {entries}")
expect(entries.get("cleanup.policy") == "delete", f"cleanup.policy described: {entries}")
log(f"topic {TOPIC} created, configs {entries}")

# --- produce ----------------------------------------------------------------------------------
producer = KafkaProducer(bootstrap_servers=BOOT, acks="all", linger_ms=5)
futures = [producer.send(TOPIC, key=f"k{i % 7}".encode(), value=f"v{i}".encode()) for i in range(N)]
producer.flush()
metas = [f.get(timeout=10) for f in futures]
expect(all(m.offset >= 0 for m in metas), "every record acknowledged with an offset")
end_offsets = {}
for m in metas:
    end_offsets[m.partition] = max(end_offsets.get(m.partition, 0), m.offset + 1)
expect(sum(end_offsets.values()) == N, f"offsets cover {N} records: {end_offsets}")
producer.close()
log(f"produced {N} records, end offsets {end_offsets}")

# --- consume without a group: every record once, in order per partition -------------------------
consumer = KafkaConsumer(bootstrap_servers=BOOT, auto_offset_reset="earliest",
                         enable_auto_commit=False, consumer_timeout_ms=3000)
consumer.assign([TopicPartition(TOPIC, p) for p in range(3)])
seen = {}
for rec in consumer:
    seen.setdefault(rec.partition, []).append((rec.offset, rec.value.decode()))
consumer.close()
values = sorted(v for recs in seen.values() for _, v in recs)
expect(values == sorted(f"v{i}" for i in range(N)), "every value read back once")
for p, recs in seen.items():
    expect([o for o, _ in recs] == list(range(len(recs))), f"partition {p} in offset order")
log(f"consumed {len(values)} records")

# --- a two-member group: rebalance, split, commit, leave ----------------------------------------
# kafka-python's poll() blocks while its member rejoins, so each member polls in its own thread,
# as each would in its own process.
got = {}
got_lock = threading.Lock()


class Member:
    def __init__(self, name):
        self.consumer = KafkaConsumer(TOPIC, bootstrap_servers=BOOT, group_id=GROUP,
                                      client_id=name, auto_offset_reset="earliest",
                                      enable_auto_commit=False, session_timeout_ms=6000,
                                      heartbeat_interval_ms=500, max_poll_records=20)
        self.assigned = set()
        self.records = 0
        self.stop = threading.Event()
        self.commit_now = threading.Event()
        self.committed = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stop.is_set():
            for tp, recs in self.consumer.poll(timeout_ms=100).items():
                with got_lock:
                    for r in recs:
                        got[(tp.partition, r.offset)] = got.get((tp.partition, r.offset), 0) + 1
                self.records += len(recs)
            self.assigned = {tp.partition for tp in self.consumer.assignment()}
            if self.commit_now.is_set() and not self.committed.is_set():
                self.consumer.commit()
                self.committed.set()
        self.consumer.close()  # LeaveGroup

    def leave(self):
        self.stop.set()
        self.thread.join(timeout=30)
        expect(not self.thread.is_alive(), "member closed")


a = Member("py-a")
wait_for(lambda: len(a.assigned) == 3, "member a owning all 3 partitions")
b = Member("py-b")
wait_for(lambda: a.assigned and b.assigned and len(a.assigned | b.assigned) == 3
         and not (a.assigned & b.assigned),
         "the rebalance to split 3 partitions between 2 members")
log(f"after the rebalance: a={sorted(a.assigned)} b={sorted(b.assigned)}")
wait_for(lambda: len(got) == N, f"the group to read all {N} records")
for m in (a, b):
    m.commit_now.set()
wait_for(lambda: a.committed.is_set() and b.committed.is_set(), "both members to commit")
committed = admin.list_consumer_group_offsets(GROUP)
expect({tp.partition: om.offset for tp, om in committed.items() if tp.topic == TOPIC} == end_offsets,
       f"committed offsets {committed} equal the end offsets {end_offsets}")
log(f"group read {len(got)} records ({a.records} by a, {b.records} by b); committed offsets "
    "equal the end offsets")

groups = [g[0] for g in admin.list_consumer_groups()]
expect(GROUP in groups, f"{GROUP} in list_consumer_groups {groups}")
desc = admin.describe_consumer_groups([GROUP])[0]
expect(desc.state == "Stable", f"group state {desc.state}")
expect(sorted(m.client_id for m in desc.members) == ["py-a", "py-b"], f"members {desc.members}")
expect(desc.protocol in ("range", "roundrobin"), f"assignor {desc.protocol}")
log(f"described group: state {desc.state}, protocol {desc.protocol}, {len(desc.members)} members")

a.leave()  # LeaveGroup: b takes over every partition
wait_for(lambda: len(b.assigned) == 3, "member b owning all partitions after a left")
log("member a left; b owns all 3 partitions")
b.leave()

# --- committed offsets survive: a new member of the group starts at them -------------------------
c = Member("py-c")
wait_for(lambda: len(c.assigned) == 3, "member c joined")
time.sleep(1.0)
c.leave()
expect(c.records == 0, f"a new member re-read {c.records} committed records")
log("a new member started at the committed offsets")

# --- delete -----------------------------------------------------------------------------------
admin.delete_topics([TOPIC])
wait_for(lambda: TOPIC not in admin.list_topics(), "the deleted topic to disappear")
try:
    admin.delete_topics(["py-never-existed"])
    raise AssertionError("deleting a missing topic succeeded")
except UnknownTopicOrPartitionError:
    pass
log("topic deleted")

# --- retention and the reset policy ------------------------------------------------------------
# Segments of 1 MiB, the smallest Apache Kafka 4 accepts (kvision's broker takes smaller ones),
# with 100 KB records: about ten to a segment, and 6 MB against a 2 MiB retention.
RT = "py-retention"
admin.create_topics([NewTopic(RT, 1, 1, topic_configs={
    "segment.bytes": "1048576", "retention.bytes": "2097152"})])
producer = KafkaProducer(bootstrap_servers=BOOT, acks="all", linger_ms=0)
for i in range(60):
    producer.send(RT, value=(f"r{i:03d}-" + "x" * 100000).encode()).get(timeout=10)
producer.close()
tp = TopicPartition(RT, 0)
probe = KafkaConsumer(bootstrap_servers=BOOT, enable_auto_commit=False)
wait_for(lambda: probe.beginning_offsets([tp])[tp] > 0, "retention to delete old segments")
start = probe.beginning_offsets([tp])[tp]
end = probe.end_offsets([tp])[tp]
probe.close()
expect(end == 60, f"log end {end}")
log(f"retention moved the log start to {start} (end {end})")

earliest = KafkaConsumer(bootstrap_servers=BOOT, auto_offset_reset="earliest",
                         enable_auto_commit=False)
earliest.assign([tp])
earliest.seek(tp, 0)
first = []
wait_for(lambda: first, "records after an out-of-range reset to earliest",
         step=lambda: first.extend(r for rs in earliest.poll(timeout_ms=200).values() for r in rs))
expect(first[0].offset >= start, f"reset to earliest lands at {first[0].offset} >= {start}")
expect(first[0].value.startswith(f"r{first[0].offset:03d}-".encode()), "the record at that offset")
earliest.close()

strict = KafkaConsumer(bootstrap_servers=BOOT, auto_offset_reset="none", enable_auto_commit=False)
strict.assign([tp])
strict.seek(tp, 0)
try:
    deadline = time.time() + 10
    while time.time() < deadline:
        strict.poll(timeout_ms=200)
    raise AssertionError("offset 0 before the log start did not raise OffsetOutOfRangeError")
except OffsetOutOfRangeError:
    pass
strict.close()
log(f"offset 0 < log start {start}: reset to earliest read from {first[0].offset}; "
    "policy none raised OffsetOutOfRangeError")
admin.close()
print("PASS python-kafka", flush=True)
