#!/usr/bin/env bash
# The local Apache Kafka broker: a single KRaft node (broker + controller)
# run from the release jars on Maven Central with the machine's Java 17.
#
#   scripts/kafka.sh install                  resolve the jars (once, cached)
#   scripts/kafka.sh start STATE_DIR PORT     format once, start, wait until ready
#   scripts/kafka.sh stop STATE_DIR           stop the broker started there (by PID)
#   scripts/kafka.sh status STATE_DIR
#
# The controller listens on PORT+1. Everything lives under STATE_DIR except
# the jars, which are shared in var/cache/kafka-VERSION.
#
# KAFKA_GROUP_DELAY_MS sets the broker's group.initial.rebalance.delay.ms:
# how long a new consumer group waits for more members before its first
# assignment. 0 here by default, so that each test's group forms at once;
# Kafka's own default is 3000.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/kafka/pom.xml")"
libs="$root/var/cache/kafka-$version/libs"

log() { printf 'kafka: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

install() {
	[ -f "$libs/.complete" ] && return 0
	command -v java >/dev/null || die "java is not installed (Kafka needs Java 17)"
	command -v mvn >/dev/null || die "mvn is not installed (needed once to fetch the Kafka jars)"
	log "resolving Apache Kafka $version jars from Maven Central into $libs"
	rm -rf "$libs"
	mkdir -p "$libs"
	(cd "$here/kafka" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime \
		-DoutputDirectory="$libs") >"$root/var/cache/kafka-mvn.log" 2>&1 ||
		die "maven failed; see $root/var/cache/kafka-mvn.log"
	touch "$libs/.complete"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

write_config() {
	local dir="$1" port="$2" cport=$(($2 + 1))
	cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=6
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=${KAFKA_GROUP_DELAY_MS:-0}
log.retention.hours=168
PROPS
	cat >"$dir/log4j.properties" <<PROPS
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$dir/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
PROPS
}

java_run() {
	local dir="$1"
	shift
	java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true \
		-Dlog4j.configuration="file:$dir/log4j.properties" -cp "$libs/*" "$@"
}

start() {
	local dir="$1" port="$2" pid
	install
	mkdir -p "$dir"
	dir="$(cd "$dir" && pwd)"
	if [ -f "$dir/kafka.pid" ] && kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null; then
		log "already running (pid $(cat "$dir/kafka.pid")) on 127.0.0.1:$port"
		return 0
	fi
	port_open "$port" && die "port 127.0.0.1:$port is already in use by another process"
	write_config "$dir" "$port"
	if [ ! -f "$dir/data/meta.properties" ]; then
		# A cluster id is 16 random bytes in URL-safe base64 without padding
		# (what StorageTool random-uuid prints, without a second JVM start).
		# Like Kafka's own, never one that starts with "-": the tool would
		# take it for an option (one start in 64 failed so).
		local id=-
		while [ "${id#-}" != "$id" ]; do
			id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
		done
		java_run "$dir" kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" \
			>"$dir/format.log" 2>&1 || die "formatting storage failed; see $dir/format.log"
	fi
	nohup java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true \
		-Dlog4j.configuration="file:$dir/log4j.properties" -cp "$libs/*" \
		kafka.Kafka "$dir/server.properties" >"$dir/stdout.log" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$dir/kafka.pid"
	for _ in $(seq 1 240); do
		if port_open "$port"; then
			log "ready on 127.0.0.1:$port (pid $pid, log $dir/server.log)"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.25
	done
	log "Kafka broker did not start on 127.0.0.1:$port; its log is $dir/server.log:"
	tail -n 20 "$dir/server.log" "$dir/stdout.log" >&2 2>/dev/null || true
	kill "$pid" 2>/dev/null || true
	exit 1
}

stop() {
	local dir="$1" pid
	[ -f "$dir/kafka.pid" ] || return 0
	pid="$(cat "$dir/kafka.pid")"
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		for _ in $(seq 1 120); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.25
		done
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$dir/kafka.pid"
}

status() {
	local dir="$1"
	if [ -f "$dir/kafka.pid" ] && kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null; then
		echo "kafka: running (pid $(cat "$dir/kafka.pid"))"
	else
		echo "kafka: stopped"
		return 1
	fi
}

cmd="${1:-}"
case "$cmd" in
install) install ;;
start) start "${2:?state dir}" "${3:?port}" ;;
stop) stop "${2:?state dir}" ;;
status) status "${2:?state dir}" ;;
*) die "usage: kafka.sh install|start DIR PORT|stop DIR|status DIR" ;;
esac
