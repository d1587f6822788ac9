#!/usr/bin/env bash
# A real Apache Kafka cluster on loopback, from the official release jars on Maven Central:
# 1 or 3 KRaft nodes, each a combined broker and controller with its own ports, data directory,
# log and pid file. For tests, benchmarks and trying kvision on Kafka; see docs/cluster.md.
#
#   scripts/kafka-cluster.sh start  [--nodes 1|3] [--dir DIR] [--port-base P] [--node N]
#                                   [--set key=value]...
#   scripts/kafka-cluster.sh stop   [--dir DIR] [--node N] [--kill]
#   scripts/kafka-cluster.sh status [--dir DIR]
#   scripts/kafka-cluster.sh fetch
#
# start   formats the nodes' storage on first use and starts every node of DIR that is not
#         running (or only node N), waits until each serves, and prints the bootstrap list as
#         the last line. Node i serves clients on P + 100*(i-1) (P defaults to 19092, so
#         127.0.0.1:19092,127.0.0.1:19192,127.0.0.1:19292) and its controller on the port above.
#         Ports stay below Linux's ephemeral range (32768 and up): a client that keeps
#         reconnecting to a stopped node there can be given the node's own port as its local
#         port, connect to itself, and then keep the node from starting again.
#         --set adds a broker setting to every node of a new cluster (e.g. --set
#         log.retention.check.interval.ms=200).
# stop    ends the nodes this script started in DIR, by their pid files: SIGTERM (a controlled
#         shutdown that hands leadership over), or SIGKILL with --kill; --node N ends one node.
# status  one line per node (pid, port, running or not), then the bootstrap list; exit 1 when a
#         node is down.
# fetch   resolves the pinned Kafka jars with Maven into .cache/kafka (offline afterwards).
#
# Environment: KV_KAFKA_HEAP (default 512m per node), KV_KAFKA_CACHE (default .cache/kafka),
# KV_MAVEN_REPO (default ~/.m2/repository).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
KAFKA_VERSION=4.1.1 # keep in step with tools/kafka/pom.xml
cache="${KV_KAFKA_CACHE:-$root/.cache/kafka}"
libs="$cache/$KAFKA_VERSION/libs"

die() { echo "kafka-cluster: $*" >&2; exit 2; }
say() { echo "kafka-cluster: $*" >&2; }

cmd="${1:-}"
case "$cmd" in -h | --help | help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
[ -n "$cmd" ] || die "usage: kafka-cluster.sh start|stop|status|fetch [--nodes 1|3] [--dir DIR] [--port-base P] [--node N] [--kill]"
shift
nodes=""
dir="$root/.data/kafka-cluster"
port_base=""
only_node=""
signal=TERM
settings=()
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes="${2:?--nodes needs 1 or 3}"; shift 2 ;;
    --dir) dir="${2:?--dir needs a directory}"; shift 2 ;;
    --port-base) port_base="${2:?--port-base needs a port}"; shift 2 ;;
    --node) only_node="${2:?--node needs a node id}"; shift 2 ;;
    --kill) signal=KILL; shift ;;
    --set) settings+=("${2:?--set needs key=value}"); shift 2 ;;
    -h | --help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1'" ;;
  esac
done

fetch() {
  [ -f "$libs/.complete" ] && return 0
  command -v mvn >/dev/null || die "Maven is missing: run scripts/setup.sh"
  say "resolving Apache Kafka $KAFKA_VERSION from Maven Central into $libs"
  rm -rf "$libs"
  mkdir -p "$libs"
  # Maven's own repository (~/.m2 unless KV_MAVEN_REPO says otherwise) is shared by every
  # clone on the machine, so a clean clone copies the jars from it without the network.
  mvn -B -q -Dstyle.color=never -f "$root/tools/kafka/pom.xml" \
    -Dmaven.repo.local="${KV_MAVEN_REPO:-$HOME/.m2/repository}" \
    -Dkafka.version="$KAFKA_VERSION" dependency:copy-dependencies -DoutputDirectory="$libs" \
    >"$cache/maven.log" 2>&1 ||
    { tail -n 30 "$cache/maven.log" >&2; die "could not resolve the Kafka jars (Maven's log: $cache/maven.log)"; }
  ls "$libs"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 || die "kafka_2.13 missing from $libs"
  touch "$libs/.complete"
}

java_run() { # MAIN ARGS...: a Kafka class with the cached jars
  java -Xms64m -Xmx256m -Dlog4j2.configurationFile="$root/tools/kafka/log4j2.properties" \
    -Dkv.kafka.log.file=/dev/null -cp "$libs/*" "$@"
}

client_port() { echo $((port_base + 100 * ($1 - 1))); }
pid_of() { cat "$dir/node$1/pid" 2>/dev/null || true; }
running() { local p; p="$(pid_of "$1")"; [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
bootstrap() {
  local i list=""
  for i in $(seq "$nodes"); do list+="${list:+,}127.0.0.1:$(client_port "$i")"; done
  echo "$list"
}
load_layout() {
  [ -f "$dir/cluster.env" ] || die "no cluster in $dir (run: kafka-cluster.sh start --dir $dir)"
  # shellcheck disable=SC1091
  source "$dir/cluster.env"
}

write_layout() {
  nodes="${nodes:-3}"
  [ "$nodes" = 1 ] || [ "$nodes" = 3 ] || die "--nodes must be 1 or 3"
  port_base="${port_base:-19092}"
  [ "$port_base" -ge 1024 ] && [ $((port_base + 100 * (nodes - 1) + 1)) -lt 32768 ] ||
    die "--port-base must lie between 1024 and $((32767 - 100 * (nodes - 1) - 1)) (below the ephemeral ports)"
  local rf=$((nodes < 3 ? nodes : 3)) isr=$((nodes < 2 ? 1 : 2)) voters="" i
  for i in $(seq "$nodes"); do voters+="${voters:+,}$i@127.0.0.1:$(($(client_port "$i") + 1))"; done
  mkdir -p "$dir"
  local cluster_id
  cluster_id="$(java_run kafka.tools.StorageTool random-uuid | tail -n 1)"
  printf 'nodes=%s\nport_base=%s\ncluster_id=%s\n' "$nodes" "$port_base" "$cluster_id" >"$dir/cluster.env"
  for i in $(seq "$nodes"); do
    local port ctrl
    port="$(client_port "$i")"
    ctrl=$((port + 1))
    mkdir -p "$dir/node$i"
    cat >"$dir/node$i/server.properties" <<EOF
# Written by scripts/kafka-cluster.sh: node $i of $nodes, a combined broker and controller.
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$ctrl
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL
log.dirs=$dir/node$i/data
num.partitions=4
default.replication.factor=$rf
min.insync.replicas=1
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
group.initial.rebalance.delay.ms=0
# Small machines: few threads per node; a dead node is fenced within seconds.
num.network.threads=2
num.io.threads=2
background.threads=2
num.replica.fetchers=1
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=6000
replica.lag.time.max.ms=10000
# Records up to 20 MiB: kvision's producers allow 16 MiB (a 4K frame at high JPEG quality).
message.max.bytes=20971520
replica.fetch.max.bytes=20971520
EOF
    [ ${#settings[@]} -eq 0 ] || printf '%s\n' "# --set" "${settings[@]}" >>"$dir/node$i/server.properties"
    java_run kafka.tools.StorageTool format --ignore-formatted -t "$cluster_id" \
      -c "$dir/node$i/server.properties" >"$dir/node$i/format.log" 2>&1 ||
      { cat "$dir/node$i/format.log" >&2; die "formatting node $i failed"; }
  done
  say "formatted $nodes node(s) in $dir (cluster $cluster_id)"
}

start_node() { # N
  local i="$1"
  if running "$i"; then return 0; fi
  local heap="${KV_KAFKA_HEAP:-512m}"
  : >"$dir/node$i/server.log"
  # Bounded heap for machines of 2 cores and 24 GiB; G1 with short pauses, as Kafka's own
  # kafka-server-start.sh sets it.
  setsid java -Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$root/tools/kafka/log4j2.properties" \
    -Dkv.kafka.log.file="$dir/node$i/server.log" ${KV_KAFKA_JVM_OPTS:-} \
    -cp "$libs/*" kafka.Kafka "$dir/node$i/server.properties" \
    >"$dir/node$i/stdout.log" 2>&1 </dev/null &
  echo $! >"$dir/node$i/pid"
}

wait_serving() { # N...: until each node logged its start and accepts connections
  local i deadline=$((SECONDS + ${KV_KAFKA_START_TIMEOUT:-120}))
  for i in "$@"; do
    while :; do
      running "$i" || { tail -n 30 "$dir/node$i/stdout.log" "$dir/node$i/server.log" >&2; die "node $i exited during start-up"; }
      if grep -q "Kafka Server started" "$dir/node$i/server.log" 2>/dev/null &&
        (exec 3<>"/dev/tcp/127.0.0.1/$(client_port "$i")") 2>/dev/null; then
        break
      fi
      [ $SECONDS -lt $deadline ] || die "node $i did not start within ${KV_KAFKA_START_TIMEOUT:-120} s (log: $dir/node$i/server.log)"
      sleep 0.5
    done
  done
}

case "$cmd" in
  fetch) fetch ;;
  start)
    command -v java >/dev/null || die "Java is missing: run scripts/setup.sh"
    fetch
    if [ -f "$dir/cluster.env" ]; then
      want_nodes="$nodes"
      load_layout
      [ -z "$want_nodes" ] || [ "$want_nodes" = "$nodes" ] ||
        die "$dir holds a $nodes-node cluster, not $want_nodes (stop it and remove the directory)"
    else
      [ -z "$only_node" ] || die "--node needs an existing cluster in $dir"
      write_layout
    fi
    targets=$(seq "$nodes")
    [ -n "$only_node" ] && targets="$only_node"
    for i in $targets; do
      [ -f "$dir/node$i/server.properties" ] || die "no node $i in $dir"
      start_node "$i"
    done
    # shellcheck disable=SC2086
    wait_serving $targets
    say "$nodes node(s) serving, Apache Kafka $KAFKA_VERSION, data in $dir"
    bootstrap
    ;;
  stop)
    [ -f "$dir/cluster.env" ] || { say "no cluster in $dir"; exit 0; }
    load_layout
    targets=$(seq "$nodes")
    [ -n "$only_node" ] && targets="$only_node"
    for i in $targets; do
      running "$i" && kill -"$signal" "$(pid_of "$i")"
    done
    # A controlled shutdown moves leadership away first; give it time, then insist.
    for i in $targets; do
      for _ in $(seq 120); do running "$i" || break; sleep 0.25; done
      if running "$i"; then
        say "node $i still running after 30 s; killing it"
        kill -KILL "$(pid_of "$i")" 2>/dev/null || true
      fi
      rm -f "$dir/node$i/pid"
    done
    ;;
  status)
    load_layout
    down=0
    for i in $(seq "$nodes"); do
      if running "$i"; then
        echo "node $i: running (pid $(pid_of "$i")) on 127.0.0.1:$(client_port "$i")"
      else
        echo "node $i: stopped"
        down=1
      fi
    done
    bootstrap
    exit "$down"
    ;;
  *) die "unknown command '$cmd' (start, stop, status, fetch)" ;;
esac
