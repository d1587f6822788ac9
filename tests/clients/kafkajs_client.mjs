// kafkajs (npm, pure JavaScript) against kvision's durable broker.
//
// Usage: node kafkajs_client.mjs HOST:PORT
// Exercises produce, consume, a two-member group with a rebalance, committed offsets, topic
// create/delete/configs, group listing and description, and retention with the reset to the
// log start. Any failed expectation throws; the exit code is then non-zero.
import kafkajs from "kafkajs";

const { ConfigResourceTypes, Kafka, logLevel } = kafkajs;

const BOOT = process.argv[2];
const TOPIC = "js-topic";
const GROUP = "js-group";
const N = 300;

const log = (m) => console.log(`kafkajs: ${m}`);
function expect(cond, what) {
  if (!cond) throw new Error(`expectation failed: ${what}`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(pred, what, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await pred()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const kafka = new Kafka({ clientId: "kvision-test", brokers: [BOOT], logLevel: logLevel.ERROR });
const admin = kafka.admin();
await admin.connect();

// --- topics: create (with a config), duplicate, bad config, describe configs ------------------
expect(
  await admin.createTopics({
    topics: [{ topic: TOPIC, numPartitions: 3, configEntries: [{ name: "retention.ms", value: "3600000" }] }],
    waitForLeaders: true,
  }),
  "createTopics returned true",
);
expect((await admin.listTopics()).includes(TOPIC), "created topic listed");
expect(!(await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3 }] })),
  "a second create returns false (TOPIC_ALREADY_EXISTS)");
let rejected = null;
try {
  await admin.createTopics({
    topics: [{ topic: "js-bad", numPartitions: 1, configEntries: [{ name: "retention.ms", value: "soon" }] }],
  });
} catch (e) {
  rejected = e;
}
expect(rejected && JSON.stringify(rejected.errors ?? rejected.type ?? "").includes("INVALID_CONFIG"),
  `retention.ms=soon rejected with INVALID_CONFIG: ${rejected}`);
const described = await admin.describeConfigs({
  resources: [{ type: ConfigResourceTypes.TOPIC, name: TOPIC }],
  includeSynonyms: false,
});
const entries = Object.fromEntries(described.resources[0].configEntries.map((c) => [c.configName, c.configValue]));
expect(entries["retention.ms"] === "3600000", `retention.ms described: ${JSON.stringify(entries)}`);
log(`topic ${TOPIC} created, configs ${JSON.stringify(entries)}`);

// --- produce -----------------------------------------------------------------------------------
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await producer.connect();
const endOffsets = {};
for (let i = 0; i < N; i += 50) {
  const messages = [];
  for (let j = i; j < i + 50; ++j) messages.push({ key: `k${j % 7}`, value: `v${j}` });
  const acks = await producer.send({ topic: TOPIC, acks: -1, messages });
  for (const a of acks) {
    expect(a.errorCode === 0, `produce ack ${JSON.stringify(a)}`);
  }
}
await producer.disconnect();
for (const p of await admin.fetchTopicOffsets(TOPIC)) endOffsets[p.partition] = Number(p.high);
expect(Object.values(endOffsets).reduce((x, y) => x + y, 0) === N, `end offsets ${JSON.stringify(endOffsets)}`);
log(`produced ${N} records (idempotent), end offsets ${JSON.stringify(endOffsets)}`);

// --- a two-member group: every record consumed, rebalance, commit, leave ------------------------
const seen = new Map();
const members = {};
async function member(name) {
  const c = kafka.consumer({ groupId: GROUP, sessionTimeout: 6000, heartbeatInterval: 500, rebalanceTimeout: 10000 });
  members[name] = { consumer: c, assigned: [] };
  c.on(c.events.GROUP_JOIN, (e) => {
    members[name].assigned = e.payload.memberAssignment[TOPIC] ?? [];
  });
  await c.connect();
  await c.subscribe({ topic: TOPIC, fromBeginning: true });
  await c.run({
    eachMessage: async ({ partition, message }) => {
      const k = `${partition}:${message.offset}`;
      seen.set(k, message.value.toString());
    },
  });
  return c;
}
const a = await member("a");
await waitFor(() => members.a.assigned.length === 3, "member a owning all 3 partitions");
const b = await member("b");
await waitFor(() => {
  const x = members.a.assigned, y = members.b.assigned;
  return x.length > 0 && y.length > 0 && x.length + y.length === 3 && !x.some((p) => y.includes(p));
}, "the rebalance to split 3 partitions between 2 members");
log(`after the rebalance: a=${JSON.stringify(members.a.assigned)} b=${JSON.stringify(members.b.assigned)}`);
await waitFor(() => seen.size === N, `the group to read all ${N} records`);
const values = [...seen.values()].sort();
const wanted = Array.from({ length: N }, (_, i) => `v${i}`).sort();
expect(JSON.stringify(values) === JSON.stringify(wanted), "every value read");
// kafkajs commits after each batch (autoCommit); wait until the commits reach the end offsets.
await waitFor(async () => {
  const [t] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
  return t.partitions.every((p) => Number(p.offset) === endOffsets[p.partition]);
}, "committed offsets to equal the end offsets");
log(`group read ${seen.size} records; committed offsets equal the end offsets`);

const groups = (await admin.listGroups()).groups.map((g) => g.groupId);
expect(groups.includes(GROUP), `${GROUP} in listGroups ${groups}`);
const desc = (await admin.describeGroups([GROUP])).groups[0];
expect(desc.state === "Stable", `group state ${desc.state}`);
expect(desc.members.length === 2, `members ${desc.members.length}`);
log(`described group: state ${desc.state}, protocol ${desc.protocol}, ${desc.members.length} members`);

await a.disconnect(); // LeaveGroup: b takes every partition
await waitFor(() => members.b.assigned.length === 3, "member b owning all partitions after a left");
log("member a left; b owns all 3 partitions");
await b.disconnect();

// --- delete --------------------------------------------------------------------------------------
await admin.deleteTopics({ topics: [TOPIC] });
await waitFor(async () => !(await admin.listTopics()).includes(TOPIC), "the deleted topic to disappear");
log("topic deleted");

// --- retention: a consumer before the log start is reset to it -----------------------------------
// Segments of 1 MiB, the smallest Apache Kafka 4 accepts (kvision's broker takes smaller ones),
// with 100 KB records: about ten to a segment, and 6 MB against a 2 MiB retention.
const RT = "js-retention";
await admin.createTopics({
  topics: [{ topic: RT, numPartitions: 1, configEntries: [
    { name: "segment.bytes", value: "1048576" }, { name: "retention.bytes", value: "2097152" }] }],
});
const p2 = kafka.producer();
await p2.connect();
for (let i = 0; i < 60; ++i) {
  await p2.send({ topic: RT, acks: -1, messages: [{ value: `r${String(i).padStart(3, "0")}-${"x".repeat(100000)}` }] });
}
await p2.disconnect();
let start = 0;
await waitFor(async () => {
  start = Number((await admin.fetchTopicOffsets(RT))[0].low);
  return start > 0;
}, "retention to delete old segments");
const first = [];
const late = kafka.consumer({ groupId: "js-retention-group" });
await late.connect();
await late.subscribe({ topic: RT, fromBeginning: true });
await late.run({ eachMessage: async ({ message }) => { first.push(message); } });
late.seek({ topic: RT, partition: 0, offset: "0" }); // before the log start: OFFSET_OUT_OF_RANGE
await waitFor(() => first.length > 0, "records after the reset");
expect(Number(first[0].offset) >= start, `first offset ${first[0].offset} >= log start ${start}`);
expect(first[0].value.toString().startsWith(`r${String(first[0].offset).padStart(3, "0")}-`), "the record at that offset");
await late.disconnect();
log(`retention moved the log start to ${start}; a seek to 0 was reset to ${first[0].offset}`);

await admin.disconnect();
console.log("PASS kafkajs");
