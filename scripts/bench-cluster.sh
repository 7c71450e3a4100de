#!/usr/bin/env bash
# Cluster benchmark: the same data on one node and on a 3-node cluster on
# loopback (all processes share this machine's cores): import through one
# node, and for the cluster also spread over the three; nearVector queries
# through one node and spread over the three; a filesystem backup and its
# restore (the cluster's nodes share the backup directory).
#   ./scripts/bench-cluster.sh [objects] [dims]     (defaults 100000 128)
# BENCH_DIST picks the vector distribution (default clustered).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-100000}" DIMS="${2:-128}" DIST="${BENCH_DIST:-clustered}"
WORK="$(mktemp -d /tmp/strata-bench-cluster.XXXXXX)"
PIDS=()
stop_all() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}
trap 'stop_all; rm -rf "$WORK"' EXIT

go build -o "$WORK/strata" ./cmd/strata
go build -o "$WORK/strata-bench" ./cmd/strata-bench
B="$WORK/strata-bench"
mkdir -p "$WORK/backups"

wait_ready() { until curl -sf "$1/v1/.well-known/ready" > /dev/null; do sleep 0.1; done; }

# queries_spread runs the query benchmark against every URL at once.
queries_spread() {
  local pids=() i=0
  for u in "$@"; do
    "$B" query --url "$u" --class Bench --queries 2000 --dims "$DIMS" --dist "$DIST" > "$WORK/q$i.txt" 2>&1 &
    pids+=($!); i=$((i + 1))
  done
  for p in "${pids[@]}"; do wait "$p"; done
  for j in $(seq 0 $((i - 1))); do echo "-- through node $((j + 1)):"; cat "$WORK/q$j.txt"; done
}

echo "== one node: $N x $DIMS ($DIST)"
PERSISTENCE_DATA_PATH="$WORK/single" BACKUP_FILESYSTEM_PATH="$WORK/backups" GRPC_PORT=19051 \
  "$WORK/strata" serve --port 19080 > "$WORK/single.log" 2>&1 &
PIDS+=($!)
wait_ready http://127.0.0.1:19080
"$B" import --url http://127.0.0.1:19080 --objects "$N" --dims "$DIMS" --dist "$DIST" --seed 1
"$B" query --url http://127.0.0.1:19080 --queries 2000 --dims "$DIMS" --dist "$DIST"
"$B" backup --url http://127.0.0.1:19080 --classes Bench --id single --pid "${PIDS[0]}" --restore
stop_all

echo "== three nodes: $N x $DIMS ($DIST)"
JOIN="node1:19301,node2:19311,node3:19321"
for i in 1 2 3; do
  o=$(( (i - 1) * 10 ))
  CLUSTER_HOSTNAME="node$i" PERSISTENCE_DATA_PATH="$WORK/node$i" BACKUP_FILESYSTEM_PATH="$WORK/backups" \
    GRPC_PORT=$((19051 + o)) CLUSTER_GOSSIP_BIND_PORT=$((19300 + o + 5)) CLUSTER_DATA_BIND_PORT=$((19300 + o + 6)) \
    CLUSTER_BIND_ADDR=127.0.0.1 CLUSTER_ADVERTISE_ADDR=127.0.0.1 CLUSTER_JOIN=127.0.0.1:19305 \
    RAFT_PORT=$((19301 + o)) RAFT_INTERNAL_RPC_PORT=$((19302 + o)) RAFT_JOIN="$JOIN" RAFT_BOOTSTRAP_EXPECT=3 \
    "$WORK/strata" serve --port $((19080 + o)) > "$WORK/node$i.log" 2>&1 &
  PIDS+=($!)
done
URLS=(http://127.0.0.1:19080 http://127.0.0.1:19090 http://127.0.0.1:19100)
for u in "${URLS[@]}"; do wait_ready "$u"; done
until [ "$(curl -s "${URLS[0]}/v1/nodes" | grep -o HEALTHY | wc -l)" = 3 ]; do sleep 0.2; done
echo "-- import through node 1"
"$B" import --url "${URLS[0]}" --objects "$N" --dims "$DIMS" --dist "$DIST" --seed 1
echo "-- queries through node 1"
"$B" query --url "${URLS[0]}" --queries 2000 --dims "$DIMS" --dist "$DIST"
echo "-- queries through all three at once"
queries_spread "${URLS[@]}"
echo "-- backup and restore through node 2 (every node moves its own shards)"
"$B" backup --url "${URLS[1]}" --classes Bench --id cluster --restore
echo "-- import spread: a third of the objects through each node at once"
curl -s -X DELETE "${URLS[0]}/v1/schema/Bench" > /dev/null
curl -s -X POST "${URLS[0]}/v1/schema" -H 'Content-Type: application/json' \
  -d '{"class":"Bench","vectorizer":"none","properties":[{"name":"title","dataType":["text"]},{"name":"count","dataType":["int"]}]}' > /dev/null
pids=()
for i in 0 1 2; do
  "$B" import --url "${URLS[$i]}" --objects $((N / 3)) --dims "$DIMS" --dist "$DIST" --seed $((i + 10)) --recreate=false > "$WORK/imp$i.txt" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
for i in 0 1 2; do echo "-- through node $((i + 1)):"; cat "$WORK/imp$i.txt"; done
